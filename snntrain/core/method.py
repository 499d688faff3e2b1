"""The gradient-method interface every method implements.

A method owns the time loop and the graph for one training step; it never edits a model class,
and models never branch on the method. The trainer owns everything else (optimiser, AMP,
clipping, logging) and resets neuron state before every call.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from snntrain.core.capabilities import SurrogateGradient
from snntrain.core.errors import ConfigError
from snntrain.core.spiking import SpikingModule

Backward = Callable[[torch.Tensor], None]


def plain_backward(loss: torch.Tensor) -> None:
    loss.backward()


def require_surrogate_gradients(model: nn.Module, method: str) -> None:
    """ConfigError naming the first neuron of ``model`` that does not declare ``SurrogateGradient``."""
    lacking = [m for m in model.modules() if isinstance(m, SpikingModule) and not isinstance(m, SurrogateGradient)]
    if lacking:
        raise ConfigError(
            f"neuron={type(lacking[0]).__name__.lower()!r} is not allowed: method={method} differentiates the neurons "
            "through their surrogate gradient, which the current-based LIF has not; set neuron=lif, or method=hm2bp."
        )


@dataclass
class StepResult:
    """What one training step returns: the loss value, class scores [B, C], extra counts."""

    loss: torch.Tensor
    scores: torch.Tensor
    counts: dict[str, float] = field(default_factory=dict)


class GradientMethod(ABC):
    """``step(model, x, y) -> StepResult`` leaves the gradients in each parameter's ``.grad``: those
    of the mean over the batch's samples (data-parallel training relies on it, engine/distributed.py)."""

    name: str = ""
    autograd_through_model: bool = True
    """Whether ``step`` differentiates the model's forward with autograd; False for a method with
    its own backward pass (HM2-BP), whose layers ``trainer.recompute`` cannot recompute."""

    models: tuple[str, ...] | None = None
    """The ``model=`` options whose layers this method's rules cover (checked before the model is
    built, so the error names them); None: every model."""

    def __init__(self, cfg, T: int) -> None:
        self.cfg = cfg
        self.T = T

    def check(self, model: nn.Module) -> None:
        """Raise ConfigError when ``model`` lacks a capability this method needs (``core/capabilities.py``)
        or has a layer it would ignore; called once before any data is read. By default a method that
        differentiates the model's forward refuses neurons without a surrogate gradient; an override
        calls this first."""
        if self.autograd_through_model:
            require_surrogate_gradients(model, self.name)

    @abstractmethod
    def step(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, backward: Backward = plain_backward) -> StepResult:
        """Run one training step on time-major input ``x`` [T, B, ...] and labels ``y`` [B]."""

    def scores(self, output: torch.Tensor) -> torch.Tensor:
        """Class scores [B, C] from the model's time-major output [T, B, C]: its time average."""
        return output.mean(0)

    def loss(self, scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(scores, y)

    @torch.no_grad()
    def predict(self, model: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """Class scores [B, C] for evaluation (no graph)."""
        return self.scores(model(x))
