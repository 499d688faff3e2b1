"""Switches a gradient method flips on the modules that implement them.

A method never edits a model class; it sets a plain attribute, for the length of a ``with``
block, on every module that declares it:

* ``implicit_gradient`` (feedback layers; one-step): how to differentiate at the equilibrium.
  ``None``: unroll the spiking dynamics like any other layer.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from torch import nn


@dataclass(frozen=True)
class ImplicitGradient:
    """How a feedback layer differentiates at its equilibrium a* = f(a*, x).

    ``jfb``: apply f ``k`` times with the graph from the detached a* (k = 1 is the one-step,
    Jacobian-free gradient). ``exact``: the implicit-function gradient, solving the adjoint
    equation ``g = dL/da + J_fᵀ g`` with ``solver`` (``fixed_point``, ``broyden`` or the official
    N-MNIST ``ide_iter``; at most ``adjoint_iters`` iterations, relative tolerance ``adjoint_tol``).
    """

    kind: str
    k: int
    solver: str
    adjoint_iters: int
    adjoint_tol: float


@contextmanager
def switched(model: nn.Module, attribute: str, value: Any) -> Iterator[None]:
    """Set ``attribute`` to ``value`` on every module of ``model`` that declares it; restore on exit."""
    modules = [m for m in model.modules() if hasattr(m, attribute)]
    previous = [getattr(m, attribute) for m in modules]
    for m in modules:
        setattr(m, attribute, value)
    try:
        yield
    finally:
        for m, old in zip(modules, previous):
            setattr(m, attribute, old)


def implicit_gradient(model: nn.Module, how: ImplicitGradient) -> Iterator[None]:
    """Within the block, feedback layers differentiate at their equilibrium as ``how`` says."""
    return switched(model, "implicit_gradient", how)


def implicit_layers(model: nn.Module) -> list[nn.Module]:
    """The modules that have an equilibrium to differentiate at (feedback layers)."""
    return [m for m in model.modules() if hasattr(m, "implicit_gradient")]

