"""The synaptic layers' linear maps c = W x and their transposes (``core.capabilities.SynapticLayer``),
on a merged batch ``[M, in...]``: what a method computing gradients outside autograd (HM2-BP) needs
of a fully connected layer, a convolution and an average pool (fixed weights 1/p², nothing to learn)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from snntrain.core.capabilities import SynapticLayer


class Linear(SynapticLayer, nn.Linear):
    """``nn.Linear`` (it maps any leading dimensions, so needs no time-major wrapper), declaring its map."""

    @property
    def synaptic_weight(self) -> nn.Parameter:
        return self.weight

    def drive(self, x):
        return F.linear(x, self.weight)

    def weight_gradient(self, x, grad):
        return grad.T @ x

    def input_gradient(self, grad, in_shape):
        return grad @ self.weight


class ConvMap(SynapticLayer):
    """Mixin for a ``nn.Conv2d`` subclass: its map, the convolution without bias."""

    @property
    def synaptic_weight(self) -> nn.Parameter:
        return self.weight

    def _args(self) -> dict:
        return dict(stride=self.stride, padding=self.padding, dilation=self.dilation, groups=self.groups)

    def drive(self, x):
        return F.conv2d(x, self.weight, None, **self._args())

    def weight_gradient(self, x, grad):
        return torch.nn.grad.conv2d_weight(x, self.weight.shape, grad, **self._args())

    def input_gradient(self, grad, in_shape):
        return torch.nn.grad.conv2d_input(in_shape, self.weight, grad, **self._args())


class AvgPoolMap(SynapticLayer):
    """Mixin for a ``nn.AvgPool2d`` subclass: fixed weights from each window to one output, no weight gradient."""

    def drive(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad, self.divisor_override)

    def input_gradient(self, grad, in_shape):
        return torch.ops.aten.avg_pool2d_backward(
            grad, grad.new_empty(in_shape), self.kernel_size, self.stride, self.padding, self.ceil_mode,
            self.count_include_pad, self.divisor_override,
        )
