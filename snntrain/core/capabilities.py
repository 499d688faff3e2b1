"""Optional capabilities a layer declares by inheriting them, so that a gradient method finds the
layers it needs by type and refuses a model that lacks them (``GradientMethod.check``), instead of
probing attributes.

* ``RateRecording`` (rate-BP): a neuron or BatchNorm that takes part in the two passes. In
  ``RECORD`` it runs as usual and keeps what the rate pass needs; in ``RATE`` it acts on the
  time-mean input ``[1, B, ...]`` with those records. ``None``: ordinary.
* ``EquilibriumLayer`` (implicit methods, one-step): a layer with an equilibrium a* = f(a*, x) whose
  gradient a method chooses (an ``ImplicitGradient`` set as ``implicit_gradient``); ``None``: unroll
  its dynamics like any layer.
* ``SynapticLayer`` (HM2-BP's rules): a layer with weights whose drive, weight gradient and input
  gradient a method computes from presynaptic spike counts, outside autograd.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

RECORD = "record"
RATE = "rate"


class RateRecording:
    """Mixin: the layer honours ``rate_pass`` (``RECORD``, ``RATE`` or ``None``)."""

    rate_pass: str | None = None


class ImplicitGradient(ABC):
    """How a method differentiates an equilibrium layer at a* = f(a*, x): the method sets one on the
    layer (``EquilibriumLayer.implicit_gradient``) for the length of its step."""

    @abstractmethod
    def attach(self, layer: EquilibriumLayer, a_star: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """``a_star`` (simulated, no graph) as the layer's output: its value, with the gradient this
        method chooses, taken through ``layer.equilibrium_map`` with ``x`` as f's input."""


class EquilibriumLayer:
    """Mixin: a layer whose output a* is an equilibrium a* = f(a*, x) that it reaches by simulation.

    In training with ``implicit_gradient`` set, the layer simulates to a* without a graph and returns
    ``implicit_gradient.attach(self, a*, x)``; with ``None`` it differentiates its simulation like any
    layer. A subclass gives f (``equilibrium_map``) and may say where J_f is taken (``jacobian_point``).
    """

    implicit_gradient: ImplicitGradient | None = None

    def equilibrium_map(self, a: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """f(a, x), with the graph to ``a``, ``x`` and the layer's parameters."""
        raise NotImplementedError

    def jacobian_point(self, a_star: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        """Where an exact implicit gradient takes J_f, given a* and ``image`` = f(a*, x): a* itself."""
        return a_star


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
