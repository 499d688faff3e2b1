"""``_target_``: a user's own class or function as a group's component, without editing snntrain.

A group node with a ``_target_`` key (``model._target_=mypkg.MyNet`` on the command line, or in a
config file of the user's own folder found through ``hydra.searchpath``) is built by the object that
dotted path names, called with the arguments the group's built-in builders get (``RETURNS``), and
validated like a built-in component (``registry.typed``):

* its config is the built-in schema of ``name`` when ``name`` is an option of the group, else the
  target's ``config_class`` attribute (a dataclass), else the node itself as a DictConfig;
* the target must import and be callable, and what it builds must be what the group's builders
  return: a ConfigError naming the key and the path otherwise, before any data is read where the
  target is a class.

Nothing here imports torch until a target is built.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import re
from typing import Any

from omegaconf import DictConfig, OmegaConf

from snntrain.core.catalog import resolve
from snntrain.core.errors import ConfigError

TARGET = "_target_"

# group -> (how its builders are called, what they return, the class that is as 'module:attribute')
RETURNS = {
    "neuron": ("(cfg)", "a factory (layer_index, n_layers) -> torch.nn.Module, or an nn.Module class (one per layer)", None),
    "model": ("(cfg, input_shape, num_classes, neuron)", "a torch.nn.Module", "torch.nn:Module"),
    "method": ("(cfg, T)", "a snntrain.core.method.GradientMethod", "snntrain.core.method:GradientMethod"),
    "dataset": ("(cfg, seed, T)", "a data source with .info (a snntrain.data.base.DatasetInfo) and .load()", None),
    "compression": ("(cfg)", "a snntrain.compress.base.Codec", "snntrain.compress.base:Codec"),
    "optimizer": ("(cfg, model)", "a torch.optim.Optimizer", "torch.optim:Optimizer"),
    "scheduler": ("(cfg, optimizer, max_epochs)", "a torch.optim.lr_scheduler.LRScheduler", "torch.optim.lr_scheduler:LRScheduler"),
    "logger": ("(cfg, run_dir, enabled)", "a snntrain.engine.logger.RunLogger", "snntrain.engine.logger:RunLogger"),
}
CONFIG_BASE = {"dataset": "snntrain.data.config:DatasetConfig"}  # the keys the trainer reads from every dataset config
TARGET_OVERRIDE = re.compile(rf"^[A-Za-z_]\w*\.{TARGET}=")


def accepting_targets(overrides: list[str]) -> list[str]:
    """``group._target_=path`` as ``++group._target_=path``: every group node takes a ``_target_``,
    which its schema does not list (Hydra would ask for ``+``); ``++`` adds it, or replaces a config file's."""
    return [f"++{override}" if TARGET_OVERRIDE.match(override) else override for override in overrides]


def locate(key: str, path: Any) -> Any:
    """The object the dotted ``path`` names (``package.module.Class``), importing its module; a
    ConfigError naming ``key`` and ``path`` when there is none. Errors of the user's module itself
    (other than a missing import) propagate with their traceback."""
    parts = path.split(".") if isinstance(path, str) else []
    if len(parts) < 2 or not all(part.isidentifier() for part in parts):
        raise ConfigError(f"{key}={path!r} is not a dotted path to a class or function (e.g. mypkg.models.MyNet).")
    for split in range(len(parts) - 1, 0, -1):  # the longest importable module, then attributes
        module = ".".join(parts[:split])
        try:
            found = importlib.import_module(module)
        except ModuleNotFoundError as err:
            if err.name is not None and (module + ".").startswith(err.name + "."):
                continue  # no such module: a shorter prefix may be the module and the rest attributes
            raise ConfigError(f"{key}={path}: importing {module} failed: {err}.") from None
        for depth, attribute in enumerate(parts[split:], start=split + 1):
            if not hasattr(found, attribute):
                raise ConfigError(f"{key}={path}: {'.'.join(parts[:depth - 1])} has no attribute {attribute!r}.")
            found = getattr(found, attribute)
        return found
    raise ConfigError(f"{key}={path}: there is no module {parts[0]!r}; put the folder that holds it on PYTHONPATH.")


def target(group: str, path: Any) -> Any:
    """The callable ``group._target_`` names, checked as far as it can be before it is called (a
    class must build what the group returns); a ConfigError otherwise."""
    key = f"{group}.{TARGET}"
    if group not in RETURNS:
        raise ConfigError(f"{key}={path}: {group} takes no _target_; the groups that do: {', '.join(RETURNS)}.")
    found = locate(key, path)
    if not callable(found):
        raise ConfigError(f"{key}={path} is a {type(found).__name__}, not a class or function.")
    _, returns, kind = RETURNS[group]
    if isinstance(found, type) and kind is not None and not issubclass(found, resolve(kind)):
        raise ConfigError(f"{key}={path} is a class that does not subclass {kind.replace(':', '.')}; a {group} must be {returns}.")
    return found


def schema(group: str, path: str, builtin: type | None) -> type | None:
    """The dataclass the node of target ``path`` is validated into: ``builtin`` (the schema of the
    node's ``name``, a built-in option), else the target's ``config_class``; None when neither."""
    found = target(group, path)
    if builtin is not None:
        return builtin
    schema = getattr(found, "config_class", None)
    if schema is not None and not (isinstance(schema, type) and dataclasses.is_dataclass(schema)):
        raise ConfigError(f"{group}.{TARGET}={path}: its config_class {schema!r} is not a dataclass.")
    if schema is not None and "name" not in {field.name for field in dataclasses.fields(schema)}:
        raise ConfigError(f"{group}.{TARGET}={path}: its config_class {schema.__name__} has no field `name`; add `name: str = \"...\"` (every config names its option).")
    return schema


def plain_config(path: str, values: dict[str, Any]) -> DictConfig:
    """The config of a target without a schema: the node's values (``name`` the path unless given)."""
    return OmegaConf.create({"name": path, **values}, flags={"struct": True})


def check_config(group: str, path: str, cfg: Any) -> None:
    """ConfigError unless the validated ``cfg`` has what the trainer reads from every config of the group."""
    base = CONFIG_BASE.get(group)
    if base is not None and not isinstance(cfg, resolve(base)):
        raise ConfigError(
            f"{group}.{TARGET}={path}: a {group} config must be a {base.replace(':', '.')} (the trainer reads its batch, split and encoder "
            f"keys): set {group}.name to a built-in {group}, or give {path} a config_class that subclasses it."
        )


def build(group: str, path: str, cfg: Any, *args: Any, **kwargs: Any) -> Any:
    """Call the target as the group's builders are called; ConfigError when it returns another kind."""
    built = target(group, path)
    if group == "neuron":
        return neuron_factory(path, built, cfg)
    result = called(group, path, built, cfg, *args, **kwargs)
    _, returns, kind = RETURNS[group]
    fits = (
        isinstance(getattr(result, "info", None), resolve("snntrain.data.base:DatasetInfo")) and callable(getattr(result, "load", None))
        if group == "dataset" else isinstance(result, resolve(kind))
    )
    if not fits:
        raise ConfigError(f"{group}.{TARGET}={path} returned a {type(result).__name__}; a {group} must be {returns}.")
    return result


def called(group: str, path: str, built: Any, *args: Any, **kwargs: Any) -> Any:
    """``built(*args, **kwargs)``, after checking that its signature takes them (a ConfigError
    saying how the group's builders are called otherwise)."""
    try:
        inspect.signature(built).bind(*args, **kwargs)
    except TypeError as err:
        raise ConfigError(f"{group}.{TARGET}={path} cannot be called as a {group} is built, {RETURNS[group][0]}: {err}.") from None
    except ValueError:  # no signature to check (some built-in callables)
        pass
    return built(*args, **kwargs)


def neuron_factory(path: str, built: Any, cfg: Any):
    """``(layer_index, n_layers) -> layer``: an nn.Module class builds each layer from ``cfg``; any
    other target is called with ``cfg`` and returns the factory. Each layer must be an nn.Module."""
    module = resolve("torch.nn:Module")
    make = lambda: called("neuron", path, built, cfg)  # noqa: E731
    factory = (lambda index, n_layers: make()) if isinstance(built, type) and issubclass(built, module) else make()
    returns = RETURNS["neuron"][1]
    if not callable(factory):
        raise ConfigError(f"neuron.{TARGET}={path} returned a {type(factory).__name__}; a neuron must be {returns}.")

    def layer(index: int, n_layers: int):
        made = factory(index, n_layers)
        if not isinstance(made, module):
            raise ConfigError(f"neuron.{TARGET}={path} made a {type(made).__name__} layer; a neuron must be {returns}.")
        return made

    return layer
