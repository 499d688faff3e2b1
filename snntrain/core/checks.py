"""Small range checks used by the config dataclasses' ``__post_init__``."""

from __future__ import annotations

from collections.abc import Iterable

from snntrain.core.errors import ConfigError


def require(ok: bool, key: str, value: object, allowed: str) -> None:
    """Raise ConfigError naming ``key``, its ``value`` and what is ``allowed`` unless ``ok``."""
    if not ok:
        raise ConfigError(f"{key}={value!r} is not allowed: {allowed}.")


def one_of(key: str, value: object, choices: Iterable[object]) -> None:
    choices = list(choices)
    require(value in choices, key, value, f"choose one of {choices}")


def positive(key: str, value: float) -> None:
    require(value > 0, key, value, "it must be > 0")


def in_unit_interval(key: str, value: float, *, closed_low: bool = False) -> None:
    ok = (0.0 <= value <= 1.0) if closed_low else (0.0 < value <= 1.0)
    require(ok, key, value, "it must be in [0, 1]" if closed_low else "it must be in (0, 1]")
