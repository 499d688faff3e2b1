"""``model=feedback``: a feedback (implicit) spiking layer, IDE style (Xiao et al., NeurIPS 2021).

Integrate-and-fire neurons (λ = 1, soft reset) driven by the input and by their own spikes:

    u[t] = v[t-1] + F x[t] + W_s s[t-1],   s[t] = H(u[t] - θ),   v[t] = u[t] - θ s[t]

Their average firing rates a = mean_t s[t] approach the equilibrium of the map

    f(a, x) = clamp((W_s a + F x̄) / θ, 0, 1),      a* = f(a*, x)

which converges when f contracts, ‖W_s‖₂/θ < 1 (``model.contraction`` sets that factor at
initialisation). The model is flatten -> feedback layer -> linear readout of the rates.

How it is differentiated is the method's choice, through ``implicit_gradient`` (see
``neurons.modes.ImplicitGradient``): unset (BPTT, evaluation), the spiking dynamics are unrolled;
set by ``method=onestep``, the layer simulates to the equilibrium without a graph and applies f
with the graph once (or k times) from the detached rates, or solves the adjoint for the exact
implicit gradient.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from snntrain.config.checks import positive, require
from snntrain.layers import Flatten
from snntrain.models.base import NeuronFactory, SpikingNet
from snntrain.neurons.lif import LIF, LIFConfig
from snntrain.neurons.modes import ImplicitGradient
from snntrain.registry import register


class FeedbackLayer(nn.Module):
    """A recurrent IF layer whose rates reach an equilibrium; ``[T, B, n_in]`` -> ``[T, B, n]``.

    With ``implicit_gradient`` set it returns the equilibrium rates as ``[1, B, n]`` and leaves
    ``counts['fixed_point_residual']`` = ‖f(a) - a‖ / ‖a‖ at the simulated rates a (and, for the
    exact gradient, the adjoint's residual and iterations after backward).
    """

    is_spiking = True

    def __init__(self, n_in: int, n: int, threshold: float, bias: bool) -> None:
        super().__init__()
        self.encoder = nn.Linear(n_in, n, bias=bias)
        self.feedback = nn.Linear(n, n, bias=False)
        self.threshold = threshold
        self.neuron = LIF(LIFConfig(decay=1.0, threshold=threshold, reset="soft"))
        self.spikes: torch.Tensor | None = None
        self.implicit_gradient: ImplicitGradient | None = None
        self.counts: dict[str, float] = {}

    def reset(self) -> None:
        self.spikes = None
        self.neuron.reset()

    def detach_state(self) -> None:
        if self.spikes is not None:
            self.spikes = self.spikes.detach()
        self.neuron.detach_state()

    def equilibrium_map(self, rates: torch.Tensor, drive: torch.Tensor) -> torch.Tensor:
        """f(a, x) = clamp((W_s a + F x̄) / θ, 0, 1), with ``drive`` = F x̄ [B, n]."""
        return torch.clamp((self.feedback(rates) + drive) / self.threshold, 0.0, 1.0)

    def simulate(self, drive: torch.Tensor) -> torch.Tensor:
        """Spikes [T, B, n] for the drive F x[t] [T, B, n], continuing from the carried state."""
        spikes = []
        for t in range(drive.shape[0]):
            current = drive[t] if self.spikes is None else drive[t] + self.feedback(self.spikes)
            self.spikes = self.neuron(current.unsqueeze(0))[0]
            spikes.append(self.spikes)
        return torch.stack(spikes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        how = self.implicit_gradient
        if how is None:
            return self.simulate(self.encoder(x))
        with torch.no_grad():
            rates = self.simulate(self.encoder(x)).mean(0)
        drive = self.encoder(x.mean(0))  # F x̄ at batch B: the one part of the input with a graph
        first = self.equilibrium_map(rates, drive)
        self.counts = {"fixed_point_residual": relative(first.detach() - rates, rates)}
        if how.kind == "exact":
            self._attach_adjoint(first, rates, drive, how)
            return first.unsqueeze(0)
        out = first
        for _ in range(how.k - 1):
            out = self.equilibrium_map(out, drive)
        return out.unsqueeze(0)

    def _attach_adjoint(self, out: torch.Tensor, rates: torch.Tensor, drive: torch.Tensor, how: ImplicitGradient) -> None:
        """Replace the gradient reaching ``out`` = f(a*) by the implicit one, g = dL/da + J_fᵀ g."""
        point = rates.detach().requires_grad_()
        image = self.equilibrium_map(point, drive.detach())

        def adjoint(grad: torch.Tensor) -> torch.Tensor:
            g, residual, iterations = grad, float("inf"), 0
            while residual >= how.adjoint_tol and iterations < how.adjoint_iters:
                (jtg,) = torch.autograd.grad(image, point, g, retain_graph=True)
                g, previous = grad + jtg, g
                residual = relative(g - previous, grad)
                iterations += 1
            self.counts.update(adjoint_residual=residual, adjoint_iters=float(iterations))
            return g

        out.register_hook(adjoint)


def relative(difference: torch.Tensor, reference: torch.Tensor) -> float:
    """‖difference‖ / ‖reference‖ (0 when both vanish)."""
    return float(difference.norm() / reference.norm().clamp_min(1e-12))


@dataclass
class FeedbackConfig:
    """``model=feedback model.hidden=256 model.contraction=0.5``."""

    name: str = "feedback"
    hidden: int = 256
    threshold: float = 1.0
    contraction: float | None = 0.5
    bias: bool = True

    def __post_init__(self) -> None:
        require(self.hidden > 0, "model.hidden", self.hidden, "it must be > 0")
        positive("model.threshold", self.threshold)
        if self.contraction is not None:
            positive("model.contraction", self.contraction)


def scale_to_contraction(layer: FeedbackLayer, contraction: float) -> None:
    """Scale W_s so that ‖W_s‖₂ / θ = ``contraction``, a bound on the Lipschitz constant of f in a."""
    with torch.no_grad():
        weight = layer.feedback.weight
        weight.mul_(contraction * layer.threshold / torch.linalg.matrix_norm(weight, ord=2))


@register("model", "feedback", FeedbackConfig)
def build_feedback(cfg: FeedbackConfig, input_shape: tuple[int, ...], num_classes: int, neuron: NeuronFactory) -> SpikingNet:
    """Its neurons are integrate-and-fire by construction (the equilibrium needs λ = 1): ``neuron=`` is not used."""
    layer = FeedbackLayer(math.prod(input_shape), cfg.hidden, cfg.threshold, cfg.bias)
    if cfg.contraction is not None:
        scale_to_contraction(layer, cfg.contraction)
    return SpikingNet(nn.Sequential(Flatten(), layer, nn.Linear(cfg.hidden, num_classes, bias=cfg.bias)), "mean")
