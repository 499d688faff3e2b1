"""``method=onestep``'s config schema: a dataclass only, no torch, so that the CLI can compose and
check a config before it imports torch (the method is in ``method.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from snntrain.core.checks import one_of, require

SOLVERS = ["fixed_point", "broyden", "ide_iter"]


@dataclass
class OneStepConfig:
    """``method=onestep method.k=1 method.implicit=jfb|exact``."""

    name: str = field(default="onestep", metadata={"help": "the option's name (method=<name> selects it)"})
    k: int = field(default=1, metadata={"help": "differentiable steps, 1 <= k <= T; k = T is exactly BPTT"})
    implicit: str = field(default="jfb", metadata={"help": (
        "feedback networks (model=feedback) only, whose output is the simulated equilibrium a* with the gradient of the "
        "equilibrium map f at a*: jfb | exact. jfb sends dL/da* through f applied k times from the detached a* (k = 1: "
        "the Jacobian-free gradient, error ≈ ρ/(1-ρ) for ρ = ‖J_f‖); exact: the implicit-function gradient of IDE, "
        "through the adjoint g = dL/da* + J_fᵀ g (k must be 1). On a model without feedback, exact is an error"
    )})
    adjoint_solver: str = field(default="fixed_point", metadata={"help": (
        "implicit=exact only (kept, unused, under jfb, so that method.implicit=jfb alone turns an IDE row into its "
        "one-step variant; on a model without feedback a value other than the default is an error): "
        "fixed_point: g <- w + J_fᵀ g | broyden: the official solver (DEQ's Broyden, per sample, no line search, "
        "lowest-residual iterate) | ide_iter: the official N-MNIST 'iter' solver, g <- (g + J_fᵀ g - g + w)/2 from w, "
        "whose fixed point is (2I - J_fᵀ)⁻¹ w"
    )})
    adjoint_iters: int = field(default=200, metadata={"help": "implicit=exact only: at most this many solver iterations (the official threshold: 30)"})
    adjoint_tol: float = field(default=1e-6, metadata={"help": (
        "implicit=exact only: stop when the residual (fixed_point, ide_iter: the last change) is below this times ‖dL/da*‖"
    )})

    def __post_init__(self) -> None:
        one_of("method.implicit", self.implicit, ["jfb", "exact"])
        one_of("method.adjoint_solver", self.adjoint_solver, SOLVERS)
        require(self.adjoint_iters > 0, "method.adjoint_iters", self.adjoint_iters, "it must be > 0")
        require(self.adjoint_tol > 0, "method.adjoint_tol", self.adjoint_tol, "it must be > 0")
