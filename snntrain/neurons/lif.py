"""Leaky integrate-and-fire layer, multi-step over time-major ``[T, B, ...]`` input; its dynamics
and their torch reference are in ``dynamics/lif.py``, the backends that run them in ``backends.py``."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from snntrain.core.capabilities import RATE, RECORD, RateRecording, SurrogateGradient
from snntrain.core.checks import one_of, positive, require
from snntrain.core.spiking import SpikingModule
from snntrain.neurons import backends
from snntrain.neurons.eligibility import RateRecord, record_lif
from snntrain.neurons.surrogate import SURROGATES

DEFAULT_TAU = 2.0


@dataclass
class LIFConfig:
    """``neuron=lif``. The leak lambda comes from ``tau`` (lambda = 1 - 1/tau; ``DEFAULT_TAU`` when
    neither is set) or from ``decay`` directly; setting both is an error, since one would be ignored."""

    name: str = field(default="lif", metadata={"help": "the option's name (neuron=<name> selects it)"})
    tau: float | None = field(default=None, metadata={"help": f"membrane time constant τ: λ = 1 - 1/τ (null: τ = DEFAULT_TAU = {DEFAULT_TAU:g}, unless decay is set)"})
    decay: float | None = field(default=None, metadata={"help": "or set λ directly, e.g. 0.2 as in rate-BP (setting both tau and decay is an error)"})
    threshold: float = field(default=1.0, metadata={"help": "firing threshold θ: s = H(u - θ)"})
    reset: str = field(default="soft", metadata={"help": "soft (v -= θ s) | hard (v = 0 on a spike)"})
    detach_reset: bool = field(default=True, metadata={"help": "no gradient through the reset term"})
    surrogate: str = field(default="sigmoid", metadata={"help": "surrogate gradient of the spike: sigmoid | atan | triangle"})
    alpha: float = field(default=4.0, metadata={"help": "surrogate sharpness"})
    backend: str = field(default="auto", metadata={"help": "auto | torch | triton | compile"})

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
        one_of("neuron.backend", self.backend, backends.CHOICES["lif"])

    @property
    def lam(self) -> float:
        if self.decay is not None:
            return self.decay
        return 1.0 - 1.0 / (self.tau if self.tau is not None else DEFAULT_TAU)


class LIF(RateRecording, SurrogateGradient, SpikingModule):
    """Multi-step LIF layer. State (the membrane ``v``) persists across calls until ``reset()``.

    The framework resets every neuron before each batch; a method may call the layer several
    times on consecutive time slices (one-step differentiation does) and the state carries.
    ``rate_pass`` (``RateRecording``, set by rate-BP): ``RECORD`` also keeps the
    rate and eligibility (``self.rates``); ``RATE`` maps a time-mean drive ``[1, B, ...]`` to the
    recorded rate with the eligibility as its derivative.
    """

    v: torch.Tensor | None
    rates: RateRecord | None

    def __init__(self, cfg: LIFConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.decay = cfg.lam
        self.register_state("v")
        self.backend = cfg.backend
        self.register_state("rates")

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
        spikes, self.v = backends.run("lif", self.backend, x, self.v, *params, training=self.training)
        return spikes

    def extra_repr(self) -> str:
        c = self.cfg
        return (f"decay={self.decay:.3g}, threshold={c.threshold}, reset={c.reset}, detach_reset={c.detach_reset}, "
                f"surrogate={c.surrogate}, alpha={c.alpha:g}, backend={self.backend}")


def build_lif(cfg: LIFConfig):
    """A factory ``(layer_index, n_layers) -> LIF``; every layer shares the config."""
    return lambda index, n_layers: LIF(cfg)
