"""snntrain's LIF neuron as NIR's continuous-time ``LIF`` / ``IF`` and back, exactly.

snntrain's LIF steps ``u[t] = λ v[t-1] + c[t]``, spikes where ``u[t] >= θ`` and, with a hard reset,
sets ``v[t] = 0`` after a spike (neurons/lif.py). NIR's LIF is ``τ dv/dt = (v_leak - v) + r I``,
spikes where ``v > v_threshold`` and resets ``v`` to ``v_reset``. Forward Euler with step ``dt``
gives ``v ← (1 - dt/τ) v + (dt r/τ) I``, which is snntrain's step when

    τ = dt / (1 - λ),   r = τ / dt = 1 / (1 - λ),   v_leak = 0,   v_reset = 0

(snnTorch writes and reads this convention with dt = 1e-4 s). λ = 1 (no leak) is NIR's IF,
``dv/dt = r I``, with r = 1/dt. ``>=`` becomes ``>`` with the largest float32 below θ as
``v_threshold``: for every float32 membrane, ``v > v_threshold`` exactly when ``v >= θ``.

Reset by subtraction (snntrain's default ``neuron.reset=soft``) has no NIR primitive: NIR's
neurons always reset to ``v_reset``.
"""

from __future__ import annotations

import nir
import numpy as np

from snntrain.export.errors import NIRExportError
from snntrain.neurons.lif import LIF, LIFConfig

DT = 1e-4
"""Seconds per snntrain step in the NIR file, the step snnTorch's importer assumes."""


def threshold_below(theta: float) -> np.float32:
    """The NIR threshold for snntrain's ``u >= θ``: the largest float32 below float32(θ)."""
    return np.nextafter(np.float32(theta), np.float32(0.0))


def threshold_at(v_threshold: np.ndarray) -> float:
    """θ back from a NIR threshold written by ``threshold_below``: the next float32 above it."""
    return float(np.nextafter(np.float32(v_threshold), np.float32(np.inf)))


def lif_node(neuron: LIF, name: str, shape: tuple[int, ...], dt: float) -> nir.NIRNode:
    """The NIR neuron for ``neuron``, one parameter per unit of ``shape``; NIRExportError for a soft reset."""
    cfg = neuron.cfg
    if cfg.reset != "hard":
        raise NIRExportError(
            f"layer {name} (LIF, neuron.reset={cfg.reset}) resets by subtraction, which NIR cannot express: "
            "its LIF and IF reset the membrane to v_reset. Train with neuron.reset=hard to export the network."
        )
    ones = np.ones(shape, dtype=np.float64)
    threshold = threshold_below(cfg.threshold) * ones
    if neuron.decay == 1.0:
        return nir.IF(r=ones / dt, v_threshold=threshold, v_reset=0 * ones)
    r = 1.0 / (1.0 - neuron.decay)
    return nir.LIF(tau=dt * r * ones, r=r * ones, v_leak=0 * ones, v_threshold=threshold, v_reset=0 * ones)


def lif_module(node: nir.NIRNode, name: str, dt: float) -> LIF:
    """The snntrain LIF (hard reset) for a NIR ``LIF`` or ``IF`` node; NIRExportError when it has no
    snntrain counterpart (per-unit constants that differ, a leak or reset voltage, another ``r``)."""
    if isinstance(node, nir.IF):
        decay, gain = 1.0, uniform(node.r, name, "r") * dt
        rest = {"v_reset": node.v_reset}
    else:
        tau, r = uniform(node.tau, name, "tau"), uniform(node.r, name, "r")
        decay, gain = 1.0 - dt / tau, r * dt / tau
        rest = {"v_leak": node.v_leak, "v_reset": node.v_reset}
    for key, value in rest.items():
        if not np.all(value == 0):
            raise NIRExportError(f"NIR node {name} has {key} != 0; snntrain's LIF rests and resets at 0.")
    if not np.isclose(gain, 1.0, rtol=1e-6):
        raise NIRExportError(
            f"NIR node {name} scales its input by r·dt/τ = {gain:g} per step at the graph's dt={dt:g}; snntrain's LIF "
            "adds its input unscaled, which needs r = τ/dt (snnTorch's convention)."
        )
    if not 0.0 <= decay <= 1.0:
        raise NIRExportError(f"NIR node {name} has τ < dt = {dt:g}: at that step its membrane would not decay in [0, 1].")
    threshold = threshold_at(uniform(node.v_threshold, name, "v_threshold"))
    return LIF(LIFConfig(decay=decay, threshold=threshold, reset="hard"))


def uniform(values: np.ndarray, name: str, key: str) -> float:
    """The one value every unit of ``values`` shares; NIRExportError when they differ."""
    flat = np.asarray(values).reshape(-1)
    if flat.size == 0 or not np.all(flat == flat[0]):
        raise NIRExportError(f"NIR node {name} has a different {key} per neuron; snntrain's LIF has one per layer.")
    return float(flat[0])
