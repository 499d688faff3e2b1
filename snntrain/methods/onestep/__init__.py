"""One-step differentiation (METHODS.md §4): the method and its truncated time loop (method), the
gradients it attaches at an equilibrium layer's a* (equilibrium), the adjoint solvers of the
exact one (adjoint) and its config schema (config, torch-free).

``OneStep`` is imported on first use, so that the schema comes without torch."""

from __future__ import annotations

import importlib

from snntrain.methods.onestep.config import OneStepConfig

__all__ = ["OneStep", "OneStepConfig"]


def __getattr__(name: str):
    if name == "OneStep":
        return importlib.import_module("snntrain.methods.onestep.method").OneStep
    raise AttributeError(f"module 'snntrain.methods.onestep' has no attribute {name!r}")
