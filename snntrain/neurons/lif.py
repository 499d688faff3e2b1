"""Leaky integrate-and-fire neuron, multi-step over time-major ``[T, B, ...]`` input.

Per step (METHODS.md §1, decay_input=False form, lambda = 1 - 1/tau):

    u[t] = lambda v[t-1] + c[t]
    s[t] = H(u[t] - theta)
    v[t] = u[t] - theta s[t]   (soft reset)   or   u[t] (1 - s[t])   (hard reset to 0)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from snntrain.core.capabilities import RATE, RECORD, RateRecording, SurrogateGradient
from snntrain.core.checks import one_of, positive, require
from snntrain.neurons import backends
from snntrain.neurons.eligibility import RateRecord, record_lif
from snntrain.neurons.kernels.lif_scan import state_dtype
from snntrain.neurons.surrogate import SURROGATES, spike


def lif_multistep(
    x: torch.Tensor,
    v0: torch.Tensor | None,
    decay: float,
    threshold: float,
    soft_reset: bool,
    detach_reset: bool,
    surrogate: str,
    alpha: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Reference implementation: run T LIF steps on drive ``x`` [T, ...] from membrane ``v0``.

    Returns the spikes [T, ...] (dtype of x) and the membrane after the last step. The membrane
    is float32 even when x is half precision (AMP), so the state does not drift in bf16. This is
    the readable definition every fused backend is tested against.
    """
    state = state_dtype(x)
    v = torch.zeros_like(x[0], dtype=state) if v0 is None else v0.to(state)
    spikes = []
    for t in range(x.shape[0]):
        u = decay * v + x[t]
        s = spike(u - threshold, surrogate, alpha)
        r = s.detach() if detach_reset else s
        v = u - threshold * r if soft_reset else u * (1.0 - r)
        spikes.append(s)
    return torch.stack(spikes).to(x.dtype), v


backends.register_lif("torch", lif_multistep)


DEFAULT_TAU = 2.0


@dataclass
class LIFConfig:
    """``neuron=lif``. The leak lambda comes from ``tau`` (lambda = 1 - 1/tau; ``DEFAULT_TAU`` when
    neither is set) or from ``decay`` directly; setting both is an error, since one would be ignored."""

    name: str = "lif"
    tau: float | None = None
    decay: float | None = None
    threshold: float = 1.0
    reset: str = "soft"
    detach_reset: bool = True
    surrogate: str = "sigmoid"
    alpha: float = 4.0
    backend: str = "auto"

    def __post_init__(self) -> None:
        require(
            self.tau is None or self.decay is None, "neuron.tau", self.tau,
            f"neuron.decay={self.decay} sets the leak already; set one of them (the other null)",
        )
        if self.tau is not None:
            require(self.tau >= 1.0, "neuron.tau", self.tau, "it must be >= 1 (lambda = 1 - 1/tau)")
        if self.decay is not None:
            require(0.0 <= self.decay <= 1.0, "neuron.decay", self.decay, "it must be in [0, 1]")
        positive("neuron.threshold", self.threshold)
        one_of("neuron.reset", self.reset, ["soft", "hard"])
        one_of("neuron.surrogate", self.surrogate, sorted(SURROGATES))
        positive("neuron.alpha", self.alpha)
        one_of("neuron.backend", self.backend, backends.BACKEND_CHOICES)

    @property
    def lam(self) -> float:
        if self.decay is not None:
            return self.decay
        return 1.0 - 1.0 / (self.tau if self.tau is not None else DEFAULT_TAU)


class LIF(RateRecording, SurrogateGradient, nn.Module):
    """Multi-step LIF layer. State (the membrane) persists across calls until ``reset()``.

    The framework resets every neuron before each batch; a method may call the layer several
    times on consecutive time slices (one-step differentiation does) and the state carries.
    ``rate_pass`` (``RateRecording``, set by rate-BP): ``RECORD`` also keeps the
    rate and eligibility (``self.rates``); ``RATE`` maps a time-mean drive ``[1, B, ...]`` to the
    recorded rate with the eligibility as its derivative.
    """

    is_spiking = True

    def __init__(self, cfg: LIFConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.decay = cfg.lam
        self.v: torch.Tensor | None = None
        self._impl = backends.lif_impl(cfg.backend)
        self.rates: RateRecord | None = None

    def reset(self) -> None:
        self.v = None
        self.rates = None

    def detach_state(self) -> None:
        """Cut the graph through the carried membrane (the state becomes a constant)."""
        if self.v is not None:
            self.v = self.v.detach()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = self.cfg
        params = (self.decay, c.threshold, c.reset == "soft", c.detach_reset, c.surrogate, c.alpha)
        if self.rate_pass == RATE:
            if self.rates is None:
                raise RuntimeError("LIF in rate mode has no record: run the spike pass in RECORD mode first.")
            return self.rates.straight_through(x)
        if self.rate_pass == RECORD:
            spikes, self.v, self.rates = record_lif(x, self.v, self.rates, *params)
            return spikes
        impl = self._impl if self.training or c.backend != "auto" else backends.evaluation_impl(x)
        spikes, self.v = impl(x, self.v, *params)
        return spikes

    def extra_repr(self) -> str:
        c = self.cfg
        return (f"decay={self.decay:.3g}, threshold={c.threshold}, reset={c.reset}, detach_reset={c.detach_reset}, "
                f"surrogate={c.surrogate}, alpha={c.alpha:g}, backend={c.backend}")


def build_lif(cfg: LIFConfig):
    """A factory ``(layer_index, n_layers) -> LIF``; every layer shares the config."""
    return lambda index, n_layers: LIF(cfg)
