"""Package attributes imported on first use, so that importing a package (for its config schemas,
or ``import snntrain``) does not import torch."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_attributes(package: str, modules: dict[str, str]) -> Callable[[str], Any]:
    """A module-level ``__getattr__`` for ``package``: attribute ``name`` is ``modules[name]``'s
    attribute of that name, imported when first asked for; any other name is an AttributeError."""

    def __getattr__(name: str) -> Any:
        if name in modules:
            return getattr(importlib.import_module(modules[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
