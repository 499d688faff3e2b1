"""What ``snntrain --help`` and ``--version`` print: snntrain's name and version, and the groups a user
composes from (the ``schema/*`` groups the option files extend are left out). Imports no torch."""

from __future__ import annotations

from importlib.resources import files

from omegaconf import OmegaConf

from snntrain import __version__

HIDDEN_GROUPS = ("hydra", "schema")


def version_line() -> str:
    import hydra

    return f"snntrain {__version__} (Hydra {hydra.__version__})"


def config_groups() -> str:
    """One line per config group of the packaged configs: ``group: option, option, ...``."""
    lines = []
    for group in sorted(files("snntrain.configs").iterdir(), key=lambda p: p.name):
        if group.is_dir() and group.name not in HIDDEN_GROUPS and not group.name.startswith("__"):
            options = sorted(p.name.removesuffix(".yaml") for p in group.iterdir() if p.name.endswith(".yaml"))
            lines.append(f"{group.name}: {', '.join(options)}")
    return "\n".join(lines)


def register_resolvers() -> None:
    """The ``${snntrain.*:}`` resolvers configs/hydra/help/snntrain.yaml uses."""
    import hydra

    resolvers = {"snntrain.version": lambda: __version__, "snntrain.hydra_version": lambda: hydra.__version__, "snntrain.groups": config_groups}
    for name, fn in resolvers.items():
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, fn)


def skip_unused_group_listing() -> None:
    """Let ``--help`` skip Hydra's listing of every config group when the help template does not show it.

    Hydra's ``get_help`` fills ``$APP_CONFIG_GROUPS`` and ``$HYDRA_CONFIG_GROUPS`` whatever the template,
    and each group it lists copies the whole ConfigStore (every schema): about 2 s of ``snntrain --help``
    on two busy cores, for text configs/hydra/help/snntrain.yaml does not print (its groups come from
    ``config_groups``). A template that names them (``--hydra-help``'s, or a user's own) gets Hydra's
    listing as before."""
    from hydra._internal.hydra import Hydra

    get_help = Hydra.get_help
    if getattr(get_help, "skips_unused_groups", False):
        return

    def lean_get_help(self, help_cfg, cfg, args_parser, resolve):
        if "CONFIG_GROUPS" not in help_cfg.template:
            self.format_config_groups = lambda predicate, compact=True: ""
        return get_help(self, help_cfg, cfg, args_parser, resolve)

    lean_get_help.skips_unused_groups = True
    Hydra.get_help = lean_get_help
