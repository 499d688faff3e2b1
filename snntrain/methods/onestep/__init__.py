"""One-step differentiation (METHODS.md §4): the method and its truncated time loop (method), the
gradients it attaches at an equilibrium layer's a* (equilibrium) and the adjoint solvers of the
exact one (adjoint)."""

from snntrain.methods.onestep.method import OneStep, OneStepConfig

__all__ = ["OneStep", "OneStepConfig"]
