"""The IF / LIF neurons of a feedback network, stepped as the official ``SNNIFFunc`` / ``SNNLIFFunc``.

Per step, with the membrane u carried from the previous step (u = 0 before step 0):

    u ← u + I[t]                       I: feedback of the previous step's spikes, then the drive
    s = H(u − θ)                        firing test u ≥ θ
    u ← (u − θ s) · λ                   soft reset, then the leak (λ = 1: integrate-and-fire)

and the output is the λ-weighted firing rate a = Σ_t λ^(T−1−t) s[t] / Σ_k λ^k (the plain mean for
λ = 1). Whatever λ, the rates approach the fixed point of a = clamp((W_s a + F x) / θ, 0, 1), the
closer the nearer λ is to 1 (the IDE paper uses 1, 0.95 and 0.99).

The spike uses the neuron's surrogate derivative when the dynamics are differentiated through
time (``method=bptt``); the implicit gradient of ``method=onestep`` goes through the equilibrium
map instead and uses none.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from snntrain.core.checks import require
from snntrain.core.errors import ConfigError
from snntrain.neurons.lif import LIF
from snntrain.neurons.surrogate import spike


@dataclass(frozen=True)
class RateNeurons:
    """One spiking layer's neuron settings: threshold θ, leak λ and the surrogate for BPTT."""

    threshold: float
    decay: float
    surrogate: str
    alpha: float
    detach_reset: bool

    def fire(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Spikes of membrane ``u`` and the membrane after the soft reset and the leak."""
        s = spike(u - self.threshold, self.surrogate, self.alpha)
        u = u - self.threshold * (s.detach() if self.detach_reset else s)
        return s, u if self.decay == 1.0 else u * self.decay

    def accumulate(self, total: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """The running λ-weighted spike count Σ λ^(t−i) s[i] after one more step."""
        return total + s if self.decay == 1.0 else total * self.decay + s

    def rate(self, total: torch.Tensor, T: int) -> torch.Tensor:
        """The weighted rate: ``total`` / Σ_{k<T} λ^k, computed in ``total``'s dtype as the official code does."""
        if self.decay == 1.0:
            return total / T
        lam = torch.tensor(self.decay, dtype=total.dtype, device=total.device)
        return total / ((1 - lam**T) / (1 - lam))


def rate_neurons(neuron: torch.nn.Module) -> RateNeurons:
    """The settings of a ``neuron=lif`` module for a feedback layer; ConfigError for what cannot apply."""
    if not isinstance(neuron, LIF):
        raise ConfigError(
            f"model=feedback needs neuron=lif (integrate-and-fire with neuron.decay=1.0, or leaky), not {type(neuron).__name__}: "
            "its firing rates reach the equilibrium a = clamp((W_s a + F x)/θ, 0, 1) of a soft-reset neuron."
        )
    cfg = neuron.cfg
    require(cfg.reset == "soft", "neuron.reset", cfg.reset, "model=feedback's rate equilibrium holds for the soft reset; set neuron.reset=soft")
    require(
        cfg.backend == "auto", "neuron.backend", cfg.backend,
        "model=feedback steps its neurons itself, one step at a time (each step needs the previous step's feedback); leave neuron.backend=auto",
    )
    return RateNeurons(cfg.threshold, neuron.decay, cfg.surrogate, cfg.alpha, cfg.detach_reset)
