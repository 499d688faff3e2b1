"""Solvers of the adjoint equation of an equilibrium a* = f(a*, x): g = w + J_fᵀ g.

``w`` = dL/da* and ``vjp(v)`` = J_fᵀ v at the point the Jacobian is taken. The solution g is
the gradient that, sent back through f, gives the implicit-function gradient (I − J_f)⁻ᵀ w.
Each solver returns (g, relative residual ‖w + J_fᵀ g − g‖ / ‖w‖ or its last change, iterations)
and stops once that falls below ``tol`` or after ``max_iter`` iterations:

* ``fixed_point``: g ← w + J_fᵀ g from g = w (converges when ‖J_f‖ < 1);
* ``broyden``: Broyden's method on w + J_fᵀ g − g = 0 from g = 0, per sample, the solver of the
  official code (the DEQ ``broyden``: no line search, a low-rank inverse Jacobian of at most
  27 updates, returning the iterate of lowest residual);
* ``ide_iter``: the official ``'iter'`` solver (``nmnist_conv.py``): g ← (g + (J_fᵀ g − g + w)) / 2
  from g = w. Its fixed point is (2I − J_fᵀ)⁻¹ w, not (I − J_fᵀ)⁻¹ w: it is kept to reproduce
  what that official row trains, not as an implicit gradient.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

Vjp = Callable[[torch.Tensor], torch.Tensor]
BROYDEN_MEMORY = 27  # the official LBFGS_thres: low-rank updates kept
BROYDEN_BLOWUP = 1e6  # the official protective break: stop if the residual grows by this factor


def relative(difference: torch.Tensor, reference: torch.Tensor) -> float:
    """‖difference‖ / ‖reference‖ (0 when both vanish)."""
    return float(difference.norm() / reference.norm().clamp_min(1e-12))


def solve(solver: str, vjp: Vjp, w: torch.Tensor, max_iter: int, tol: float) -> tuple[torch.Tensor, float, int]:
    """g with g ≈ w + J_fᵀ g (``ide_iter``: its own equation, see the module docstring)."""
    if solver == "broyden":
        return broyden(lambda g: w + vjp(g) - g, w, max_iter, tol)
    g, residual, iterations = w, float("inf"), 0
    while residual >= tol and iterations < max_iter:
        if solver == "fixed_point":
            new = w + vjp(g)
        else:
            new = (g + ((vjp(g) - g) + w)) / 2
        g, residual, iterations = new, relative(new - g, w), iterations + 1
    return g, residual, iterations


def broyden(residual_of: Callable[[torch.Tensor], torch.Tensor], w: torch.Tensor, max_iter: int, tol: float) -> tuple[torch.Tensor, float, int]:
    """Root of ``residual_of`` by Broyden's method, one inverse-Jacobian estimate per sample (dim 0).

    The inverse Jacobian starts at −I and receives rank-one updates; the step is its product with
    the residual (no line search). Returns the iterate of lowest residual norm.
    """
    batch = w.shape[0]
    flat = lambda t: t.reshape(batch, -1)  # noqa: E731
    x = torch.zeros_like(flat(w))
    gx = flat(residual_of(x.view_as(w)))
    memory = min(max_iter, BROYDEN_MEMORY)
    us = x.new_zeros(batch, x.shape[1], memory)
    vts = x.new_zeros(batch, memory, x.shape[1])
    update = -gx
    first = lowest = float(gx.norm())
    best, iterations = x, 0
    scale = float(w.norm().clamp_min(1e-12))
    while lowest >= tol * scale and iterations < max_iter:
        x, previous = x + update, gx
        gx = flat(residual_of(x.view_as(w)))
        iterations += 1
        norm = float(gx.norm())
        if norm < lowest:
            best, lowest = x, norm
        if norm < tol * scale or norm > first * BROYDEN_BLOWUP:
            break
        dx, dg = update, gx - previous
        known = min(iterations - 1, memory)
        vt = _times_inverse_transposed(us[..., :known], vts[:, :known], dx)
        u = (dx - _times_inverse(us[..., :known], vts[:, :known], dg)) / torch.einsum("bi,bi->b", vt, dg)[:, None]
        slot = (iterations - 1) % memory
        vts[:, slot] = torch.where(vt.isnan(), 0.0, vt)
        us[..., slot] = torch.where(u.isnan(), 0.0, u)
        known = min(iterations, memory)
        update = -_times_inverse(us[..., :known], vts[:, :known], gx)
    return best.view_as(w), lowest / scale, iterations


def _times_inverse(us: torch.Tensor, vts: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """(−I + U Vᵀ) x per sample."""
    return -x + torch.einsum("bid,bd->bi", us, torch.einsum("bdi,bi->bd", vts, x))


def _times_inverse_transposed(us: torch.Tensor, vts: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """xᵀ (−I + U Vᵀ) per sample."""
    return -x + torch.einsum("bd,bdi->bi", torch.einsum("bi,bid->bd", x, us), vts)
