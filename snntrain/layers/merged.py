"""Time-major versions of torch's stateless layers.

Each class is the torch layer it names, applied once to ``x.flatten(0, 1)`` (the merged
``T*B`` batch) and unflattened back to ``[T, B, ...]``; one launch per layer, not one per step.
``nn.Linear`` needs no wrapper: it already maps any leading dimensions.
"""

from __future__ import annotations

import torch
from torch import nn

from snntrain.layers.rate_bn import RateBatchNorm


def is_time_constant(x: torch.Tensor) -> bool:
    """Whether ``x`` [T, B, ...] is the same at every step by construction: one step, or stride 0
    over T (the direct encoder's expanded input)."""
    return x.shape[0] == 1 or x.stride(0) == 0


class MergedTime:
    """Mixin: run the parent layer's forward on ``[T*B, ...]`` and restore ``[T, B, ...]``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        merged = super().forward(x.flatten(0, 1))
        return merged.unflatten(0, x.shape[:2])


class PerSample(MergedTime):
    """For layers whose output for a sample depends on that sample alone (no batch statistics).

    A time-constant input (stride 0 over T, as the direct encoder makes) is computed once, on
    ``x[0]``, and the result expanded over T: the same values, T times fewer operations.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[0] > 1 and is_time_constant(x):
            return super().forward(x[:1]).expand(x.shape[0], *([-1] * (x.dim() - 1)))
        return super().forward(x)


class TimeConv2d(PerSample, nn.Conv2d):
    pass


class TimeAvgPool2d(PerSample, nn.AvgPool2d):
    pass


class TimeMaxPool2d(PerSample, nn.MaxPool2d):
    pass


class TimeAdaptiveAvgPool2d(MergedTime, nn.AdaptiveAvgPool2d):
    pass


class TimeBatchNorm2d(RateBatchNorm, MergedTime, nn.BatchNorm2d):
    pass


class TimeBatchNorm1d(RateBatchNorm, MergedTime, nn.BatchNorm1d):
    pass


class Flatten(nn.Module):
    """Flatten every dimension after ``[T, B]``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(2)
