"""Component registry: ``(group, name)`` -> a typed config schema and its builder.

The built-in components are listed in ``core/catalog.py`` as ``module:attribute`` strings and imported
on first use. ``register_schemas()`` puts every schema in Hydra's ConfigStore under
``schema/<group>/<name>``, so that the YAML file ``configs/<group>/<name>.yaml`` can extend it and
Hydra type-checks overrides while composing.
"""

from __future__ import annotations

import math
from typing import Any

from omegaconf import DictConfig, OmegaConf

from snntrain.core import targets
from snntrain.core.catalog import BUILT_IN, Component
from snntrain.core.checks import require
from snntrain.core.errors import ConfigError


def _components() -> dict[str, dict[str, Component]]:
    table: dict[str, dict[str, Component]] = {}
    for component in BUILT_IN:
        table.setdefault(component.group, {})[component.name] = component
    return table


_REGISTRY = _components()
GROUPS = list(_REGISTRY)
"""The config groups of a run, in the catalog's order (the order ``typed_groups`` checks them in)."""


def register_schemas() -> None:
    """Store every component's schema in Hydra's ConfigStore (``schema/<group>/<name>``); call before composing."""
    from hydra.core.config_store import ConfigStore

    store = ConfigStore.instance()
    for group, table in _REGISTRY.items():
        for name, component in table.items():
            store.store(group=f"schema/{group}", name=name, node=component.config_cls)


def options(group: str) -> list[str]:
    """The registered option names of ``group``."""
    return sorted(_REGISTRY.get(group, {}))


def entry(group: str, name: str) -> Component:
    """The registry entry for ``group/name``; a ConfigError lists the valid names otherwise."""
    try:
        return _REGISTRY[group][name]
    except KeyError:
        raise ConfigError(
            f"{group}.name={name!r} is not a known {group}; choose one of {options(group)}."
        ) from None


def typed(group: str, node: DictConfig | dict) -> Any:
    """Validate ``node`` against the schema of its ``name`` and return the dataclass instance
    (a node with ``_target_``: see ``core/targets.py``).

    Type errors name the key; range checks in the dataclass ``__post_init__`` raise ConfigError.
    """
    if isinstance(node, DictConfig):
        missing = sorted(OmegaConf.missing_keys(node))
        if missing:  # '???' in a config file: a value the user must give (a typed merge would make it None)
            keys = [key if key.startswith(f"{group}.") else f"{group}.{key}" for key in missing]  # full keys when node has a parent
            raise ConfigError(f"{', '.join(keys)} must be set on the command line (e.g. {keys[0]}=...); the config that uses it says what it takes.")
    # Merge plain values: a composed node keeps keys forced in with '+key=...', which a typed node
    # would carry along unchecked.
    values = OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else dict(node)
    require_finite(group, values)
    path = values.pop(targets.TARGET, None)
    if path is None:
        return merged(group, entry(group, values["name"]).config_cls, values)
    # A user's own component (core/targets.py): a built-in schema by name, else the target's own, else none.
    builtin = _REGISTRY.get(group, {}).get(values.get("name"))
    schema = targets.schema(group, path, None if builtin is None else builtin.config_cls)
    cfg = merged(group, schema, values) if schema is not None else targets.plain_config(path, values)
    targets.check_config(group, path, cfg)
    return cfg


def typed_groups(cfg: DictConfig) -> dict[str, Any]:
    """Every group of a composed run config as its dataclass (``typed``), after ``T`` and ``seed``: the
    errors the config alone shows, found before torch is imported (the schemas need none)."""
    T, seed = cfg.T, cfg.seed
    require(isinstance(T, int) and not isinstance(T, bool) and T > 0, "T", T, "the number of time steps must be an integer > 0")
    require(isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed < 2**32, "seed", seed, "it must be an integer in [0, 2^32)")
    return {group: typed(group, cfg[group]) for group in GROUPS}


def merged(group: str, schema: type, values: dict) -> Any:
    """``values`` validated into the dataclass ``schema``."""
    try:
        merged = OmegaConf.merge(OmegaConf.structured(schema), values)
    except Exception as err:  # omegaconf's ValidationError/ConfigKeyError: reword for users
        raise ConfigError(f"{group}: {err}".strip()) from None
    return OmegaConf.to_object(merged)


def require_finite(key: str, value: Any) -> None:
    """ConfigError naming the key of the first NaN or infinity in ``value`` (a node's plain values, nested
    under ``key``): no setting takes one (``null`` is how a key says "none")."""
    if isinstance(value, dict):
        for name, item in value.items():
            require_finite(f"{key}.{name}", item)
        return
    require(finite(value), key, value, "every number must be finite (not nan or inf)")


def finite(value: Any) -> bool:
    """False if ``value`` is, or a list in it holds, a NaN or infinite float."""
    if isinstance(value, list):
        return all(finite(item) for item in value)
    return not isinstance(value, float) or math.isfinite(value)


def build(group: str, node: DictConfig | dict, *args: Any, **kwargs: Any) -> Any:
    """Build the component ``group/node.name`` (or ``node._target_``) from its validated config."""
    cfg = typed(group, node)
    path = node.get(targets.TARGET)
    if path is not None:
        return targets.build(group, path, cfg, *args, **kwargs)
    return entry(group, cfg.name).build(cfg, *args, **kwargs)
