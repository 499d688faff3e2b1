"""Time-major versions of torch's stateless layers.

Each class is the torch layer it names, applied once to ``x.flatten(0, 1)`` (the merged
``T*B`` batch) and unflattened back to ``[T, B, ...]``; one launch per layer, not one per step.
``nn.Linear`` needs no wrapper: it already maps any leading dimensions (``synaptic.Linear`` declares
its map). The convolution and the average pool declare theirs (``synaptic.py``).
"""

from __future__ import annotations

import torch
from torch import nn

from snntrain.layers.rate_bn import RateBatchNorm
from snntrain.layers.synaptic import AvgPoolMap, ConvMap


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


class TimeConv2d(ConvMap, PerSample, nn.Conv2d):
    pass


class TimeAvgPool2d(AvgPoolMap, PerSample, nn.AvgPool2d):
    pass


class TimeMaxPool2d(PerSample, nn.MaxPool2d):
    pass


class TimeAdaptiveAvgPool2d(MergedTime, nn.AdaptiveAvgPool2d):
    pass


class TimeBatchNorm2d(RateBatchNorm, MergedTime, nn.BatchNorm2d):
    pass


class TimeBatchNorm1d(RateBatchNorm, MergedTime, nn.BatchNorm1d):
    pass


def _channels_last_grad(grad: torch.Tensor) -> torch.Tensor:
    """A ``[T, B, C, H, W]`` gradient laid out as channels_last ``[T*B, C, H, W]``."""
    return grad.flatten(0, 1).contiguous(memory_format=torch.channels_last).unflatten(0, grad.shape[:2])


class Flatten(nn.Module):
    """Flatten every dimension after ``[T, B]``.

    A channels_last feature map (conv models on the CPU, engine/layout.py) gets its gradient back in
    channels_last: flattening copies it in (C, H, W) order, whose gradient would otherwise reach the
    pooling before it as NCHW, and PyTorch's CPU average-pool backward with an NHWC input and an NCHW
    gradient is a slow path (47 ms against 7 ms on [256, 64, 17, 17], one thread).
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.requires_grad and is_channels_last_map(x):
            x.register_hook(_channels_last_grad)
        return x.flatten(2)


def is_channels_last_map(x: torch.Tensor) -> bool:
    """Whether ``x`` is ``[T, B, C, H, W]`` laid out as one channels_last ``[T*B, C, H, W]`` tensor."""
    return (
        x.dim() == 5 and x.stride(0) == x.shape[1] * x.stride(1) and not x.is_contiguous()
        and x[0].is_contiguous(memory_format=torch.channels_last)
    )
