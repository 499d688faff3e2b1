"""Optional capabilities a layer declares by inheriting them, so that a gradient method finds the
layers it needs by type and refuses a model that lacks them (``GradientMethod.check``), instead of
probing attributes.

* ``RateRecording`` (rate-BP): a neuron or BatchNorm that takes part in the two passes. In
  ``RECORD`` it runs as usual and keeps what the rate pass needs; in ``RATE`` it acts on the
  time-mean input ``[1, B, ...]`` with those records. ``None``: ordinary.
* ``EquilibriumLayer`` (implicit methods, one-step): a layer with an equilibrium a* = f(a*, x) whose
  gradient a method chooses (``implicit_gradient``); ``None``: unroll its dynamics like any layer.
* ``SynapticLayer`` (HM2-BP's rules): a layer with weights whose drive, weight gradient and input
  gradient a method computes from presynaptic spike counts, outside autograd.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

RECORD = "record"
RATE = "rate"


class RateRecording:
    """Mixin: the layer honours ``rate_pass`` (``RECORD``, ``RATE`` or ``None``)."""

    rate_pass: str | None = None


@dataclass(frozen=True)
class ImplicitGradient:
    """How an equilibrium layer differentiates at a* = f(a*, x).

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


class EquilibriumLayer:
    """Mixin: the layer honours ``implicit_gradient`` (an ``ImplicitGradient`` or ``None``)."""

    implicit_gradient: ImplicitGradient | None = None


class SynapticLayer:
    """Mixin for HM2-BP's rules: ``drive`` maps presynaptic spike trains [T, B, ...] to the postsynaptic
    drive; ``weight_gradient`` and ``input_gradient`` map an error at the drive back to the weights
    (accumulated into ``.grad``) and to the presynaptic side."""

    def drive(self, spikes: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def weight_gradient(self, inputs: torch.Tensor, error: torch.Tensor) -> None:
        raise NotImplementedError

    def input_gradient(self, error: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


def layers_with(model: nn.Module, capability: type) -> list[nn.Module]:
    """The modules of ``model`` that declare ``capability``."""
    return [m for m in model.modules() if isinstance(m, capability)]


@contextmanager
def switched(modules: list[Any], attribute: str, value: Any) -> Iterator[None]:
    """Set ``attribute`` to ``value`` on each of ``modules`` for the block; restore on exit."""
    previous = [getattr(m, attribute) for m in modules]
    for m in modules:
        setattr(m, attribute, value)
    try:
        yield
    finally:
        for m, old in zip(modules, previous):
            setattr(m, attribute, old)
