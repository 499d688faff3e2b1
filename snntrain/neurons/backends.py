"""Multi-step neuron implementations by backend name, and the ``auto`` choice.

A backend is a function with the signature of ``lif.lif_multistep``. ``torch`` is the
reference; fused backends register themselves here when their module imports.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

log = logging.getLogger(__name__)

BACKEND_CHOICES = ["auto", "torch", "triton", "compile"]
_LIF: dict[str, Callable] = {}
_warned: set[str] = set()


def register_lif(name: str, fn: Callable) -> None:
    _LIF[name] = fn


def lif_impl(name: str) -> Callable:
    """The LIF implementation for ``name``; an unavailable one falls back to torch with a warning."""
    if name == "auto":
        return _LIF.get("auto", _LIF["torch"])
    if name in _LIF:
        return _LIF[name]
    if name not in _warned:
        _warned.add(name)
        log.warning("neuron.backend=%s is not available here; using the torch backend.", name)
    return _LIF["torch"]
