"""Multi-step neuron implementations by backend name, and the ``auto`` choice.

A backend is a function with the signature of ``lif.lif_multistep``. ``torch`` is the
reference; ``triton`` and ``compile`` live in ``neurons/kernels/`` and are imported on first
use, so a missing or broken optional dependency costs one logged warning, never a crash.

``auto`` decides per call, from the drive tensor:
* CUDA tensor -> ``triton`` (fused kernels);
* CPU tensor with at least ``CPU_COMPILE_MIN_NUMEL`` elements and at most
  ``CPU_COMPILE_MAX_STEPS`` time steps -> ``compile``; otherwise ``scan`` (the same scan
  equations run eagerly in one autograd Function; internal, not a config choice). Measured on 2
  CPU cores, forward+backward of one LIF layer: [8, 64, 800]: torch 94 ms, scan 16 ms, compile
  14 ms; [32, 64, 800]: 258 / 144 / 17 ms; [8, 32, 32, 34, 34]: 1455 / 827 / 110 ms. Compiling
  costs seconds once per (T, neuron config, dtype, with or without saving u): inductor unrolls
  the T steps, so a graph takes about 4 s at T = 8 and 10 s at T = 32 on one core (plus about 15 s
  once per process for a cold inductor cache), and would take minutes at HM2-BP's T = 540.
  Below the size threshold scan is nearly as fast without that cost (smoke tests and the digits
  set stay uncompiled); past the step limit it saves the compile.
* a neuron in evaluation mode -> ``scan`` on the CPU (``evaluation_impl``): evaluation runs once an
  epoch, forward only, and compiling its graph cost the default run 15 s of a cold start
  (evaluation batches [8, 256, 800]; scripts/bench.py startup) to save a fraction of a second.
A fused backend that fails at run time under ``auto`` (no C++ compiler, no GPU compiler) is
replaced by torch from then on, with one warning.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable

log = logging.getLogger(__name__)

BACKEND_CHOICES = ["auto", "torch", "triton", "compile"]
CPU_COMPILE_MIN_NUMEL = 1 << 20
CPU_COMPILE_MAX_STEPS = 64
_MODULES = {
    "triton": "snntrain.neurons.kernels.lif_triton",
    "compile": "snntrain.neurons.kernels.lif_compile",
}
_LIF: dict[str, Callable] = {}
_warned: set[str] = set()


def register_lif(name: str, fn: Callable) -> None:
    _LIF[name] = fn


def warn_once(key: str, message: str) -> None:
    """Log ``message`` as a warning the first time ``key`` is seen in this process."""
    if key not in _warned:
        _warned.add(key)
        log.warning(message)


def reference() -> Callable:
    """The torch reference, ``lif.lif_multistep``."""
    from snntrain.neurons.lif import lif_multistep  # not at the top: lif imports this module

    return lif_multistep


def _load(name: str) -> None:
    """Import the module that registers backend ``name``; one warning if it cannot be imported."""
    if name in _LIF or name not in _MODULES:
        return
    try:
        importlib.import_module(_MODULES[name])
    except Exception as err:  # ImportError, or a broken install failing at import time
        warn_once(name, f"neuron.backend={name} is not available here ({err}); using the torch backend.")


def lif_impl(name: str) -> Callable:
    """The LIF implementation for ``name``; an unavailable one falls back to torch with a warning."""
    if name == "auto":
        return lif_auto
    _load(name)
    if name not in _LIF:
        warn_once(name, f"neuron.backend={name} is not available here; using the torch backend.")
    return _LIF.get(name) or reference()


def guarded(name: str, fn: Callable) -> Callable:
    """``fn``, replaced by the torch reference from its first failure on (one warning).

    A call that fails in the reference too is an error in the input, not in ``fn``: it is raised.
    """
    failed = False

    def call(*args):
        nonlocal failed
        if not failed:
            try:
                return fn(*args)
            except Exception as err:
                result = reference()(*args)
                failed = True
                warn_once(f"{name}-failed", f"neuron backend {name} failed ({err!r}); using torch from now on.")
                return result
        return reference()(*args)

    call.guarded = True
    return call


_AUTO: dict[str, Callable] = {}


def auto_choice(x) -> str:
    """The backend ``auto`` uses for drive ``x`` (see the module docstring)."""
    if x.is_cuda:
        return "triton"
    return "compile" if x.numel() >= CPU_COMPILE_MIN_NUMEL and x.shape[0] <= CPU_COMPILE_MAX_STEPS else "scan"


def evaluation_impl(x) -> Callable:
    """What ``auto`` runs for a neuron in evaluation mode: the eager scan on the CPU, else its usual choice."""
    return lif_auto if x.is_cuda else lif_impl("scan")


def lif_auto(x, *args):
    """``neuron.backend=auto``: the fastest available backend for ``x``'s device and size."""
    name = auto_choice(x)
    if name not in _AUTO:
        impl = lif_impl(name)
        optional = name in _MODULES and impl is not reference() and not getattr(impl, "guarded", False)
        _AUTO[name] = guarded(name, impl) if optional else impl
    return _AUTO[name](x, *args)
