"""Rate-based backpropagation (Yu et al., NeurIPS 2024; METHODS.md §3).

Two passes per step, set on the layers that declare ``RateRecording`` (``core/capabilities.py``):

1. spike pass, no graph: the whole T-step network runs as usual while every neuron records its
   rate r̄ and eligibility e and every BatchNorm its batch statistics (in time chunks when the
   model allows, ``time_chunks``: the records accumulate over them);
2. rate pass, with graph, at batch B: the time-mean input ``[1, B, ...]`` goes through the same
   layers; each neuron returns r̄ with derivative e, so the loss (on the readout of the last
   layer's rate) backpropagates through B-sized tensors only.

Saved activations are O(L·B), not O(L·T·B). The gradient is exact for a layer whose input is
constant in time and whose rate alone reaches the loss (direct encoding into a one-hidden-layer
network); deeper, it is the rate approximation. Max pooling in the rate pass pools rates, which
is not the rate of pooled spikes: prefer average pooling (the paper's models use it).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from snntrain.core.capabilities import (
    RATE,
    RECORD,
    EquilibriumLayer,
    RateRecording,
    layers_with,
    switched,
)
from snntrain.core.errors import ConfigError
from snntrain.core.method import GradientMethod, StepResult, plain_backward
from snntrain.core.spiking import SpikingModule
from snntrain.methods.configs import RateBPConfig
from snntrain.methods.time_chunks import run_in_chunks


class RateBP(GradientMethod):
    name = "ratebp"

    def check(self, model) -> None:
        """Reject models the rate pass cannot run: neurons without a surrogate gradient, feedback layers,
        neurons or BatchNorm layers that are not ``RateRecording``."""
        super().check(model)
        if layers_with(model, EquilibriumLayer):
            raise ConfigError(
                "method=ratebp needs a feed-forward model; this one has a feedback layer "
                "(model=feedback). Use method=onestep or method=bptt."
            )
        missing = without_rate_recording(model)
        if missing:
            raise ConfigError(
                f"method=ratebp needs neurons and BatchNorm layers that support rate mode; these do not: {missing}."
            )

    def step(self, model, x, y, backward=plain_backward) -> StepResult:
        recording = layers_with(model, RateRecording)
        with torch.no_grad(), switched(recording, "rate_pass", RECORD):
            run_in_chunks(model, x)
        with switched(recording, "rate_pass", RATE):
            # The mean over time of the input (event frames included), never its last step.
            scores = self.scores(model(x.mean(0, keepdim=True)))
        loss = self.loss(scores, y)
        scale = 1.0 if self.cfg.grad_scale == "1" else 1.0 / x.shape[0]
        backward(loss * scale)
        return StepResult(loss.detach(), scores.detach())


def without_rate_recording(model: nn.Module) -> list[str]:
    """Names of the neurons and BatchNorm layers of ``model`` that cannot take part in a rate pass."""
    return [
        name or type(m).__name__
        for name, m in model.named_modules()
        if isinstance(m, (SpikingModule, _BatchNorm)) and not isinstance(m, RateRecording)
    ]


def build_ratebp(cfg: RateBPConfig, T: int) -> RateBP:
    return RateBP(cfg, T)
