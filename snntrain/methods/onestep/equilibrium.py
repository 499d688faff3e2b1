"""The gradients one-step attaches at an equilibrium layer's simulated a* = f(a*, x) (IDE's ``Replace``).

The output has the value of a* and the gradient of f(a*, x) sent through f:

* ``JacobianFree(k)``: f applied k times from the detached a*, with the graph (k = 1 is the one-step,
  Jacobian-free gradient);
* ``ExactAdjoint``: the implicit-function gradient; the gradient w reaching f(a*, x) is replaced by
  the adjoint solution g = w + J_fᵀ g (``adjoint.solve``), J_f taken at ``layer.jacobian_point``
  with the layer's BatchNorm on batch statistics and its running statistics left alone.

Each records, over the layers it is attached to, the largest forward residual ‖f(a*) − a*‖ / ‖a*‖
(``fixed_point_residual``) and, for the exact gradient after backward, the adjoint's relative
residual and iterations (``counts``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from snntrain.core.capabilities import EquilibriumLayer, ImplicitGradient
from snntrain.methods.onestep.adjoint import relative, solve


class AtEquilibrium(ImplicitGradient):
    """The value of a*, the gradient of the image ``through`` returns; the counts over every layer."""

    def __init__(self) -> None:
        self.counts: dict[str, float] = {}

    def attach(self, layer: EquilibriumLayer, a_star: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        image = layer.equilibrium_map(a_star, x)
        self.record(fixed_point_residual=relative(image.detach() - a_star, a_star))
        image = self.through(layer, a_star, image, x)
        return a_star + (image - image.detach())

    def through(self, layer: EquilibriumLayer, a_star: torch.Tensor, image: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """What carries the gradient to the layer's parameters, from ``image`` = f(a*, x)."""
        raise NotImplementedError

    def record(self, **counts: float) -> None:
        """Keep each count's largest value over the layers."""
        for key, value in counts.items():
            self.counts[key] = max(self.counts.get(key, value), value)


class JacobianFree(AtEquilibrium):
    """f applied ``k`` times from the detached a*."""

    def __init__(self, k: int) -> None:
        super().__init__()
        self.k = k

    def through(self, layer, a_star, image, x):
        for _ in range(self.k - 1):
            image = layer.equilibrium_map(image, x)
        return image


class ExactAdjoint(AtEquilibrium):
    """f(a*, x) whose incoming gradient is replaced by the adjoint solution (``solver``: one of
    ``config.SOLVERS``; at most ``max_iter`` iterations, relative tolerance ``tol``)."""

    def __init__(self, solver: str, max_iter: int, tol: float) -> None:
        super().__init__()
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol

    def through(self, layer, a_star, image, x):
        point = layer.jacobian_point(a_star, image.detach()).detach().requires_grad_()
        with untracked_statistics(layer):
            at_point = layer.equilibrium_map(point, x.detach())

        def vjp(v: torch.Tensor) -> torch.Tensor:
            return torch.autograd.grad(at_point, point, v, retain_graph=True)[0]

        def adjoint(w: torch.Tensor) -> torch.Tensor:
            g, residual, iterations = solve(self.solver, vjp, w, self.max_iter, self.tol)
            self.record(adjoint_residual=residual, adjoint_iters=float(iterations))
            return g

        image.register_hook(adjoint)
        return image


@contextmanager
def untracked_statistics(layer: nn.Module) -> Iterator[None]:
    """Within the block the BatchNorm layers of ``layer`` run as they are set (training: on batch
    statistics) without reading or updating their running statistics."""
    norms = [m for m in layer.modules() if isinstance(m, _BatchNorm)]
    tracked = [norm.track_running_stats for norm in norms]
    for norm in norms:
        norm.track_running_stats = False
    try:
        yield
    finally:
        for norm, track in zip(norms, tracked):
            norm.track_running_stats = track
