"""Time-major versions of torch's stateless layers.

Each class is the torch layer it names, applied once to ``x.flatten(0, 1)`` (the merged
``T*B`` batch) and unflattened back to ``[T, B, ...]``; one launch per layer, not one per step.
``nn.Linear`` needs no wrapper: it already maps any leading dimensions.
"""

from __future__ import annotations

import torch
from torch import nn

from snntrain.layers.rate_bn import RateBatchNorm


class MergedTime:
    """Mixin: run the parent layer's forward on ``[T*B, ...]`` and restore ``[T, B, ...]``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        merged = super().forward(x.flatten(0, 1))
        return merged.unflatten(0, x.shape[:2])


class TimeConv2d(MergedTime, nn.Conv2d):
    pass


class TimeAvgPool2d(MergedTime, nn.AvgPool2d):
    pass


class TimeMaxPool2d(MergedTime, nn.MaxPool2d):
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
