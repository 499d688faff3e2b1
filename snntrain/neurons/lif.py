"""Leaky integrate-and-fire layer, multi-step over time-major ``[T, B, ...]`` input; its dynamics
and their torch reference are in ``dynamics/lif.py``, the backends that run them in ``backends.py``."""

from __future__ import annotations

import torch

from snntrain.core.capabilities import RATE, RECORD, RateRecording, SurrogateGradient
from snntrain.core.spiking import SpikingModule
from snntrain.neurons import backends
from snntrain.neurons.config import LIFConfig
from snntrain.neurons.eligibility import RateRecord, record_lif


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
