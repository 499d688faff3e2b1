"""The one dispatcher of multi-step neuron dynamics: ``(dynamics, backend) -> implementation``.

``IMPLEMENTATIONS`` names each implementation as ``module:function``; a module is imported the
first time its backend runs, so an optional dependency (triton, a C++ compiler for inductor) is
needed only by the runs that use it. An implementation has the signature of its dynamics'
reference: ``dynamics.lif.lif_multistep(x, v0, ...)`` or ``dynamics.cuba.cuba_multistep(drive,
state, params)``, drive first.

Fallback, the one rule: a backend other than the reference (``torch``) that cannot be imported,
or that raises on a device, is replaced by the reference of its dynamics (on that device, from
then on), with one warning. A call that the reference rejects too is an error in the input,
not in the backend: it is raised.

``auto`` decides per call, from the drive tensor:
* CUDA tensor -> ``triton`` (fused kernels), for LIF and CUBA;
* CUBA on the CPU -> ``torch`` (its reference loop is already in-place float arithmetic);
* LIF on the CPU, with at least ``CPU_COMPILE_MIN_NUMEL`` elements and at most
  ``CPU_COMPILE_MAX_STEPS`` time steps -> ``compile``; otherwise ``scan`` (the same scan
  equations run eagerly in one autograd Function; internal, not a config choice). Measured on 2
  CPU cores, forward+backward of one LIF layer: [8, 64, 800]: torch 94 ms, scan 16 ms, compile
  14 ms; [32, 64, 800]: 258 / 144 / 17 ms; [8, 32, 32, 34, 34]: 1455 / 827 / 110 ms. Compiling
  costs seconds once per (T, neuron config, dtype, with or without saving u): inductor unrolls
  the T steps, so a graph takes about 4 s at T = 8 and 10 s at T = 32 on one core (plus about 15 s
  once per process for a cold inductor cache), and would take minutes at HM2-BP's T = 540.
  Below the size threshold scan is nearly as fast without that cost (smoke tests and the digits
  set stay uncompiled); past the step limit it saves the compile.
* a LIF in evaluation mode -> ``scan`` on the CPU: evaluation runs once an epoch, forward only,
  and compiling its graph cost the default run 15 s of a cold start (evaluation batches
  [8, 256, 800]; scripts/bench.py startup) to save a fraction of a second.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import Any

import torch

log = logging.getLogger(__name__)

REFERENCE = "torch"
IMPLEMENTATIONS = {
    ("lif", "torch"): "snntrain.neurons.dynamics.lif:lif_multistep",
    ("lif", "scan"): "snntrain.neurons.kernels.lif_scan:lif_scan",
    ("lif", "compile"): "snntrain.neurons.kernels.lif_compile:lif_compiled",
    ("lif", "triton"): "snntrain.neurons.kernels.lif_triton:lif_triton",
    ("cuba", "torch"): "snntrain.neurons.dynamics.cuba:cuba_multistep",
    ("cuba", "triton"): "snntrain.neurons.kernels.cuba_triton:cuba_multistep_triton",
}
CPU_COMPILE_MIN_NUMEL = 1 << 20
CPU_COMPILE_MAX_STEPS = 64

_loaded: dict[tuple[str, str], Callable] = {}
_unavailable: set[tuple[str, str]] = set()
"""(dynamics, backend) that could not be imported: the reference runs instead (one warning, on entry)."""
_failed: set[tuple[str, str, str]] = set()
"""(dynamics, backend, device type) that raised: the reference runs there from then on (one warning, on entry)."""


def auto_choice(dynamics: str, x: torch.Tensor, training: bool = True) -> str:
    """The backend ``auto`` runs drive ``x`` with (see the module docstring)."""
    if x.is_cuda:
        return "triton"
    if dynamics == "cuba":
        return REFERENCE
    if not training:
        return "scan"
    return "compile" if x.numel() >= CPU_COMPILE_MIN_NUMEL and x.shape[0] <= CPU_COMPILE_MAX_STEPS else "scan"


def _load(dynamics: str, backend: str) -> Callable:
    """The function ``IMPLEMENTATIONS`` names for the pair, imported on first use."""
    key = (dynamics, backend)
    if key not in _loaded:
        module, _, function = IMPLEMENTATIONS[key].partition(":")
        _loaded[key] = getattr(importlib.import_module(module), function)
    return _loaded[key]


def reference(dynamics: str) -> Callable:
    """The torch reference of ``dynamics``."""
    return _load(dynamics, REFERENCE)


def implementation(dynamics: str, backend: str, x: torch.Tensor, training: bool = True) -> Callable:
    """What runs drive ``x`` with ``backend`` now (``auto``'s choice made): that backend, or the
    reference if it cannot be imported (one warning) or has failed on ``x``'s device."""
    return _implementation(dynamics, _chosen(dynamics, backend, x, training), x.device.type)


def run(dynamics: str, backend: str, x: torch.Tensor, *args: Any, training: bool = True) -> Any:
    """Run ``dynamics`` on drive ``x`` with ``backend`` (more arguments as its reference takes them)."""
    name, device = _chosen(dynamics, backend, x, training), x.device.type
    fn, ref = _implementation(dynamics, name, device), reference(dynamics)
    if fn is ref:
        return ref(x, *args)
    try:
        return fn(x, *args)
    except Exception as err:
        result = ref(x, *args)  # raises when the input is at fault
        _failed.add((dynamics, name, device))
        log.warning(f"neuron.backend={name} failed on {device} for neuron={dynamics} ({err!r}); using torch there from now on.")
        return result


def _chosen(dynamics: str, backend: str, x: torch.Tensor, training: bool) -> str:
    return auto_choice(dynamics, x, training) if backend == "auto" else backend


def _implementation(dynamics: str, backend: str, device: str) -> Callable:
    key = (dynamics, backend)
    if key in _unavailable or (dynamics, backend, device) in _failed:
        return reference(dynamics)
    try:
        return _load(dynamics, backend)
    except Exception as err:  # no such pair, ImportError, or a broken install failing at import time
        _unavailable.add(key)
        reason = str(err) if key in IMPLEMENTATIONS else "no such backend"
        log.warning(f"neuron.backend={backend} is not available here for neuron={dynamics} ({reason}); using the torch backend.")
        return reference(dynamics)
