"""Optional capabilities a layer declares by inheriting them, so that a gradient method finds the
layers it needs by type and refuses a model that lacks them (``GradientMethod.check``), instead of
probing attributes.

* ``RateRecording`` (rate-BP): a neuron or BatchNorm that takes part in the two passes. In
  ``RECORD`` it runs as usual and keeps what the rate pass needs; in ``RATE`` it acts on the
  time-mean input ``[1, B, ...]`` with those records. ``None``: ordinary.
* ``EquilibriumLayer`` (implicit methods, one-step): a layer with an equilibrium a* = f(a*, x) whose
  gradient a method chooses (an ``ImplicitGradient`` set as ``implicit_gradient``); ``None``: unroll
  its dynamics like any layer.
* ``SurrogateGradient`` (methods that differentiate the model's forward: BPTT, one-step, rate-BP): a
  spiking layer whose spikes autograd differentiates through a surrogate derivative.
* ``SynapticLayer`` (HM2-BP's rules): a layer whose output is a linear map W x of its input, with
  that map's two transposes (weight gradient, input gradient), for gradients outside autograd.
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


class SurrogateGradient:
    """Mixin: the layer's spikes carry a surrogate derivative, so autograd can differentiate through them."""


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
    """Mixin: the layer maps its input to the drive of the neurons after it by a linear map c = W x
    (learned weights, or fixed ones such as an average pool; a bias is not part of it). The map and its
    two transposes act on a merged batch ``[M, in...] -> [M, out...]``, for a method that computes
    gradients outside autograd (HM2-BP's rules)."""

    @property
    def synaptic_weight(self) -> nn.Parameter | None:
        """The learned W that ``weight_gradient`` is the gradient of; None for fixed weights."""
        return None

    def drive(self, x: torch.Tensor) -> torch.Tensor:
        """W x for ``x`` [M, in...]."""
        raise NotImplementedError

    def weight_gradient(self, x: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
        """The sum over the merged batch of ``grad`` [M, out...] times ``x`` [M, in...], shaped like W."""
        raise NotImplementedError

    def input_gradient(self, grad: torch.Tensor, in_shape: tuple[int, ...]) -> torch.Tensor:
        """Wᵀ ``grad`` for ``grad`` [M, out...], shaped ``in_shape``."""
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
