"""Rate-BP's protocol for time-major BatchNorm (METHODS.md §3).

In the spike pass (``rate_pass == RECORD``) the layer normalises as usual and keeps the batch
mean and variance of its ``[T, B, C, ...]`` input: the statistics over all T*B samples, that is
the time average (not the last step's, which is a defect of the official single-step code). In
the rate pass (``RATE``) it normalises the time-mean input ``[1, B, C, ...]`` with those
statistics as values, while the gradient flows through the rate batch's own mean and variance.
Outside training (running statistics) both passes are the ordinary layer, which is linear.
"""

from __future__ import annotations

import torch

from snntrain.core.capabilities import RATE, RECORD, RateRecording


def channel_stats(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(variance, mean) per channel (dim 2) of a time-major tensor, over every other dimension."""
    dims = [d for d in range(x.dim()) if d != 2]
    return torch.var_mean(x, dims, correction=0)


class RateBatchNorm(RateRecording):
    """Mixin placed before ``MergedTime`` in a time-major BatchNorm class."""

    spike_stats: tuple[torch.Tensor, torch.Tensor] | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and self.rate_pass == RATE:
            return self._rate_forward(x)
        if self.training and self.rate_pass == RECORD:
            self.spike_stats = tuple(s.detach() for s in channel_stats(x))
        return super().forward(x)

    def _rate_forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.spike_stats is None:
            raise RuntimeError("BatchNorm in rate mode has no spike-pass statistics: run the RECORD pass first.")
        spike_var, spike_mean = self.spike_stats
        rate_var, rate_mean = channel_stats(x)
        mean = spike_mean + rate_mean - rate_mean.detach()
        var = spike_var + rate_var - rate_var.detach()
        shape = (1, 1, -1) + (1,) * (x.dim() - 3)
        y = (x - mean.view(shape)) * torch.rsqrt(var.view(shape) + self.eps)
        if self.affine:
            y = y * self.weight.view(shape) + self.bias.view(shape)
        return y
