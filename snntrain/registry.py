"""Component registries: each component registers its typed config next to its code.

``register(group, name, config_cls)`` stores the builder and its dataclass schema. The schema
is also put in Hydra's ConfigStore under ``schema/<group>/<name>``, so that the YAML file
``configs/<group>/<name>.yaml`` can extend it and Hydra type-checks overrides while composing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf

from snntrain.config.checks import require
from snntrain.errors import ConfigError


@dataclass(frozen=True)
class Entry:
    config_cls: type
    builder: Callable[..., Any]


_REGISTRY: dict[str, dict[str, Entry]] = {}


def register(group: str, name: str, config_cls: type) -> Callable:
    """Decorator: register ``builder`` as option ``name`` of config group ``group``."""

    def wrap(builder: Callable) -> Callable:
        _REGISTRY.setdefault(group, {})[name] = Entry(config_cls, builder)
        ConfigStore.instance().store(group=f"schema/{group}", name=name, node=config_cls)
        return builder

    return wrap


def options(group: str) -> list[str]:
    """The registered option names of ``group``."""
    return sorted(_REGISTRY.get(group, {}))


def entry(group: str, name: str) -> Entry:
    """The registry entry for ``group/name``; a ConfigError lists the valid names otherwise."""
    try:
        return _REGISTRY[group][name]
    except KeyError:
        raise ConfigError(
            f"{group}.name={name!r} is not a known {group}; choose one of {options(group)}."
        ) from None


def typed(group: str, node: DictConfig | dict) -> Any:
    """Validate ``node`` against the schema of its ``name`` and return the dataclass instance.

    Type errors name the key; range checks in the dataclass ``__post_init__`` raise ConfigError.
    """
    name = node["name"]
    if isinstance(node, DictConfig):
        missing = sorted(OmegaConf.missing_keys(node))
        if missing:  # '???' in a config file: a value the user must give (a typed merge would make it None)
            keys = [key if key.startswith(f"{group}.") else f"{group}.{key}" for key in missing]  # full keys when node has a parent
            raise ConfigError(f"{', '.join(keys)} must be set on the command line (e.g. {keys[0]}=...); the config that uses it says what it takes.")
    schema = OmegaConf.structured(entry(group, name).config_cls)
    # Merge plain values: a composed node keeps keys forced in with '+key=...', which a typed node
    # would carry along unchecked.
    values = OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else node
    require_finite(group, values)
    try:
        merged = OmegaConf.merge(schema, values)
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
    """Build the component ``group/node.name`` from its validated config."""
    cfg = typed(group, node)
    return entry(group, cfg.name).builder(cfg, *args, **kwargs)
