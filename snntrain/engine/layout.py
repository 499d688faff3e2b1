"""The memory layout a model's 2-D convolutions (and the pooling and neurons after them) run in.

On the CPU, oneDNN computes convolutions in channels-last (NHWC) blocks: a contiguous (NCHW) input
and output are reordered on every call, and PyTorch's NCHW average pooling is a slow scalar loop.
Measured on the conv SNN of the frameworks benchmark ([256, 32, 34, 34] activations, one thread):
NHWC takes conv forward 5.7 / 24.8 ms (layers 1 / 2) against 9.8 / 30.3 ms, conv 2's backward 54
against 63 ms, average pooling forward + backward 11.7 against 35.7 ms. The fused LIF scans either
layout in place. On CUDA the layout is left as it is unless asked for: cuDNN's fp32 choice differs
by GPU and has not been measured here.
"""

from __future__ import annotations

import torch
from torch import nn


def has_conv2d(model: nn.Module) -> bool:
    return any(isinstance(m, nn.Conv2d) for m in model.modules())


def conv_memory_format(model: nn.Module, device: torch.device, channels_last: bool | None) -> torch.memory_format:
    """``torch.channels_last`` if ``channels_last`` is true, or if it is None (``trainer.channels_last=null``,
    the default) and ``model`` has 2-D convolutions on the CPU; otherwise ``torch.preserve_format``."""
    wanted = channels_last if channels_last is not None else device.type == "cpu" and has_conv2d(model)
    return torch.channels_last if wanted else torch.preserve_format
