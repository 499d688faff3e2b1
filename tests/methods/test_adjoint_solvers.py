"""The adjoint solvers of ``method.implicit=exact`` against dense solves of their equations."""

from __future__ import annotations

import pytest
import torch

from snntrain.methods.onestep.adjoint import solve


def linear_problem(norm: float, seed: int = 0):
    """Per-sample J [B, n, n] = ``norm`` × an orthogonal matrix (every eigenvalue of modulus ``norm``),
    vjp(v) = Jᵀ v, and w [B, n] (float64)."""
    g = torch.Generator().manual_seed(seed)
    J = norm * torch.linalg.qr(torch.randn(3, 6, 6, generator=g, dtype=torch.float64))[0]
    w = torch.randn(3, 6, generator=g, dtype=torch.float64)
    return (lambda v: torch.einsum("bij,bi->bj", J, v)), w, J


def dense(J: torch.Tensor, w: torch.Tensor, scale: float) -> torch.Tensor:
    """g with (scale·I − Jᵀ) g = w, per sample."""
    eye = torch.eye(J.shape[1], dtype=J.dtype)
    return torch.linalg.solve(scale * eye - J.transpose(1, 2), w)


@pytest.mark.parametrize("solver", ["fixed_point", "broyden"])
def test_fixed_point_and_broyden_give_the_implicit_gradient(solver):
    vjp, w, J = linear_problem(0.6)
    g, residual, iterations = solve(solver, vjp, w, 200, 1e-12)
    torch.testing.assert_close(g, dense(J, w, 1.0), rtol=0, atol=1e-10)
    assert residual < 1e-12 and iterations < 200


def test_broyden_solves_where_the_fixed_point_iteration_diverges():
    vjp, w, J = linear_problem(1.5)
    g, _, iterations = solve("broyden", vjp, w, 30, 1e-12)
    torch.testing.assert_close(g, dense(J, w, 1.0), rtol=0, atol=1e-9)
    assert iterations <= 2 * J.shape[1] + 1  # Broyden ends a linear problem in at most 2n steps
    diverged, _, _ = solve("fixed_point", vjp, w, 30, 1e-12)
    assert (diverged - dense(J, w, 1.0)).norm() > 1.0


def test_broyden_returns_its_lowest_residual_iterate_when_it_runs_out():
    vjp, w, _ = linear_problem(1.5, seed=3)
    g, residual, iterations = solve("broyden", vjp, w, 3, 1e-12)
    assert iterations == 3 and residual <= 1.0  # never worse than its start, g = 0
    torch.testing.assert_close(torch.tensor(residual, dtype=w.dtype), (w + vjp(g) - g).norm() / w.norm())


def test_ide_iter_converges_to_the_official_half_weighted_solution():
    """The official 'iter' solver iterates g ← (g + (Jᵀg − g + w))/2: its fixed point is (2I − Jᵀ)⁻¹ w."""
    vjp, w, J = linear_problem(0.6)
    g, _, _ = solve("ide_iter", vjp, w, 200, 1e-14)
    torch.testing.assert_close(g, dense(J, w, 2.0), rtol=0, atol=1e-10)
    assert (g - dense(J, w, 1.0)).norm() > 0.3 * w.norm()


def test_ide_iter_runs_the_given_number_of_iterations_from_w():
    vjp, w, _ = linear_problem(0.6)
    g, _, iterations = solve("ide_iter", vjp, w, 2, 1e-30)
    once = (w + vjp(w)) / 2
    torch.testing.assert_close(g, (once + (vjp(once) - once + w)) / 2, rtol=0, atol=1e-12)
    assert iterations == 2
