"""The feedback (implicit) spiking block of IDE (Xiao et al., NeurIPS 2021), as the official
``SNNIDEModule`` / ``SNNIDEMultiLayerModule`` run it.

Spiking layers 1..L: layer 1 is driven by the input connection F x[t] and by the feedback
connection W_s from layer L's spikes of the previous step; layer i > 1 by connection i−1 from
layer i−1's spikes of the same step. The λ-weighted firing rates approach the equilibrium
a_L* = f(a_L*, x) of

    f(a, x) = f_L ∘ … ∘ f_2 (clamp((W_s a + F x̄) / θ_1, 0, 1)),   f_i(a) = clamp(W_{i−1} a / θ_i, 0, 1)

(L = 1: f(a, x) = clamp((W_s a + F x̄) / θ, 0, 1)). The block returns layer L's rates ``[1, B, ...]``.

The block is an ``EquilibriumLayer``: it gives f (``equilibrium_map``) and its simulation; the
gradient at the equilibrium is the method's (``implicit_gradient``, set by ``method=onestep``).
Training forward, as the official code:
1. simulate the T steps without a graph; the loop connections' BatchNorm uses its running
   statistics; the input connection's BatchNorm normalises a time-constant input with its batch
   statistics (updating the running ones), a time-varying one with the statistics of the
   λ-weighted mean input (unbiased variance, eps 1e-8, no update);
2. the equilibrium pass f(a*, x̄) with the graph, every BatchNorm on its batch statistics (and
   updating its running ones: the input's a second time for a time-constant input, as the
   official code does, whose "restore" of them keeps a reference and restores nothing);
3. the output is ``implicit_gradient.attach(block, a*, F x̄)``: the value of the simulated a*
   with the gradient the method takes through f (the official ``Replace``); an exact gradient
   takes J_f at a* (one spiking layer) or at f(a*) (several, as ``SNNIDEMultiLayerModule`` does,
   ``jacobian_point``), with BatchNorm on the batch statistics at that point (the official
   copy's BatchNorm is back in training mode when its backward runs).

Without ``implicit_gradient`` the simulation itself is differentiated through time (BPTT, with
the neurons' surrogate) and the equilibrium pass runs without a graph, only for the BatchNorm
statistics; in evaluation only the simulation runs, every BatchNorm on running statistics.
Dropout masks and the spectral power iteration are renewed once per call (the official ``_reset``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils import parametrize

from snntrain.core.capabilities import EquilibriumLayer, SurrogateGradient
from snntrain.core.spiking import SpikingModule
from snntrain.layers.merged import is_time_constant
from snntrain.models.feedback.neurons import RateNeurons
from snntrain.models.feedback.synapse import Synapse, batch_stats


@dataclass
class InputView:
    """What the block makes of its input ``[T, B, ...]`` for one call.

    ``frames``: what the simulation sees; ``stats``: the input BatchNorm statistics of the
    simulation (time-varying input in training), None for BatchNorm's own; ``mean``: the input of
    the equilibrium pass (training only).
    """

    frames: torch.Tensor
    constant: bool
    stats: tuple[torch.Tensor, torch.Tensor] | None = None
    mean: torch.Tensor | None = None


class FeedbackBlock(EquilibriumLayer, SurrogateGradient, SpikingModule):
    """Spiking layers in a loop; ``[T, B, ...]`` in, the last layer's rates ``[1, B, ...]`` out.
    It registers no state: every call simulates from rest.
    """

    def __init__(self, inputs: Synapse, layers: list[Synapse], feedback: Synapse, neurons: list[RateNeurons], input_average: str) -> None:
        super().__init__()
        self.inputs = inputs
        self.layers = nn.ModuleList(layers)
        self.feedback = feedback
        self.neurons = neurons
        self.input_average = input_average

    def loop_synapses(self) -> list[Synapse]:
        return [*self.layers, self.feedback]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for synapse in [self.inputs, *self.loop_synapses()]:
            synapse.prepare()
        view = self.read_input(x)
        how = self.implicit_gradient
        through_time = self.training and how is None
        with torch.set_grad_enabled(torch.is_grad_enabled() and through_time), parametrize.cached():
            rates = self.simulate(view)
        if not self.training:
            return rates.unsqueeze(0)
        if how is None:
            with torch.no_grad():  # the equilibrium pass only for its BatchNorm statistics
                self.equilibrium_map(rates, self.inputs(view.mean))
            return rates.unsqueeze(0)
        return how.attach(self, rates, self.inputs(view.mean)).unsqueeze(0)

    def read_input(self, x: torch.Tensor) -> InputView:
        """The input as the official code uses it (see ``InputView`` and ``model.input_average``)."""
        if is_time_constant(x):
            return InputView(x, True, mean=x[0])
        if not self.training:
            return InputView(x, False)
        decay = self.neurons[0].decay
        with torch.no_grad():
            mean = weighted_mean(x, decay)
            stats = batch_stats(self.inputs.linear(mean)) if self.inputs.norm is not None else None
            if self.input_average == "weighted" or decay == 1.0:
                return InputView(x, False, stats, mean)
            # The official LIF code averages in place: with input BatchNorm the last frame becomes
            # the weighted mean, and the equilibrium pass's average adds its own running sum once more.
            frames = torch.cat([x[:-1], mean.unsqueeze(0)]) if stats is not None else x
            return InputView(frames, False, stats, official_mean(frames, decay))

    def simulate(self, view: InputView, trains: list[list[torch.Tensor]] | None = None) -> torch.Tensor:
        """The last layer's λ-weighted rates after ``T`` steps; each step's spikes of every layer
        appended to ``trains`` when given."""
        x = view.frames
        constant_drive = self.inputs(x[0]) if view.constant else None
        n = len(self.neurons)
        u: list[torch.Tensor] = [x] * n  # placeholders, set at step 0
        s: list[torch.Tensor] = [x] * n
        total: list[torch.Tensor] = [x] * n
        with frozen_norms(self.loop_synapses()):
            for t in range(x.shape[0]):
                drive = constant_drive if constant_drive is not None else self.inputs(x[t], view.stats)
                for i, neurons in enumerate(self.neurons):
                    if i == 0:
                        current = drive if t == 0 else (u[0] + self.feedback(s[-1])) + drive
                    else:
                        z = self.layers[i - 1](s[i - 1])
                        current = z if t == 0 else u[i] + z
                    s[i], u[i] = neurons.fire(current)
                    total[i] = s[i] if t == 0 else neurons.accumulate(total[i], s[i])
                if trains is not None:
                    trains.append([spikes.detach() for spikes in s])
        return self.neurons[-1].rate(total[-1], x.shape[0])

    def equilibrium_map(self, rates: torch.Tensor, drive: torch.Tensor) -> torch.Tensor:
        """f(a, x) for the last layer's rates ``a`` and the input drive F x̄ (``drive``)."""
        a = torch.clamp((self.feedback(rates) + drive) / self.neurons[0].threshold, 0.0, 1.0)
        for layer, neurons in zip(self.layers, self.neurons[1:]):
            a = torch.clamp(layer(a) / neurons.threshold, 0.0, 1.0)
        return a

    def jacobian_point(self, a_star: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        """a* for one spiking layer; f(a*) for several, where ``SNNIDEMultiLayerModule`` takes J_f."""
        return image if self.layers else a_star

    def spike_trains(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Every layer's spike trains ``[T, B, ...]`` for input ``x``, simulated as the forward does (no graph),
        with the current dropout masks and spectral weight (none renewed)."""
        trains: list[list[torch.Tensor]] = []
        with torch.no_grad(), parametrize.cached():
            self.simulate(self.read_input(x), trains)
        return [torch.stack(layer) for layer in zip(*trains)]

    def extra_repr(self) -> str:
        thresholds = [n.threshold for n in self.neurons]
        decays = [n.decay for n in self.neurons]
        return f"threshold={thresholds}, decay={decays}, input_average={self.input_average}"


@contextmanager
def frozen_norms(synapses: Iterable[Synapse]) -> Iterator[None]:
    """Within the block, these synapses' BatchNorm uses (and keeps) its running statistics."""
    norms = [s.norm for s in synapses if s.norm is not None]
    modes = [norm.training for norm in norms]
    for norm in norms:
        norm.train(False)
    try:
        yield
    finally:
        for norm, mode in zip(norms, modes):
            norm.train(mode)


def weighted_mean(x: torch.Tensor, decay: float) -> torch.Tensor:
    """Σ_t λ^(T−1−t) x[t] / Σ_k λ^k over the time axis of ``x`` [T, B, ...] (the plain mean for λ = 1)."""
    if decay == 1.0:
        return x.mean(0)
    weights = decay ** torch.arange(x.shape[0] - 1, -1, -1, dtype=x.dtype, device=x.device)
    return torch.tensordot(weights, x, dims=1) / weights.sum()


def official_mean(frames: torch.Tensor, decay: float) -> torch.Tensor:
    """The official LIF equilibrium-pass input: (1 + λ^T) Σ_{k<T} λ^k x[T−1−k] / Σ_{k≤T} λ^k.

    ``SNNIDEModule`` accumulates into a view of the last frame and so adds the running sum once
    more, λ^T-weighted, at its last iteration.
    """
    T = frames.shape[0]
    weights = decay ** torch.arange(T - 1, -1, -1, dtype=frames.dtype, device=frames.device)
    total = torch.tensordot(weights, frames, dims=1)
    total = total + total * decay**T
    return total / ((1 - decay ** (T + 1)) / (1 - decay))
