"""One-step differentiation (METHODS.md §4): the method and its truncated time loop (method), the
gradients it attaches at an equilibrium layer's a* (equilibrium), the adjoint solvers of the
exact one (adjoint) and its config schema (config, torch-free).

``OneStep`` is imported on first use, so that the schema comes without torch."""

from __future__ import annotations

from snntrain.core.lazy import lazy_attributes
from snntrain.methods.onestep.config import OneStepConfig

__all__ = ["OneStep", "OneStepConfig"]
__getattr__ = lazy_attributes(__name__, {"OneStep": "snntrain.methods.onestep.method"})
