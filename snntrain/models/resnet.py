"""``model=resnet19`` and ``model=sew_resnet34``: spiking ResNets with BatchNorm, built from one block.

ResNet-19 (rate-BP's tables, METHODS.md §3): a 3x3 stem (128 channels), three stages of basic
blocks (128, 256, 512 channels; 3, 3, 2 blocks; stride 2 into stages 2 and 3), global average
pooling, FC 512 -> 256 -> neuron -> readout. Its block is conv-BN-neuron-conv-BN, plus the
shortcut (1x1 conv-BN when the shape changes), then a neuron on the sum.

SEW-ResNet-34 (Fang et al., NeurIPS 2021, "Deep Residual Learning in Spiking Neural Networks";
rate-BP's ImageNet row): a 7x7/2 stem (64 channels) with BN and a neuron, 3x3/2 max pooling,
four stages of 3, 4, 6, 3 blocks (64, 128, 256, 512 channels), global average pooling, FC to the
classes. Its block ends both branches in a neuron, conv-BN-neuron-conv-BN-neuron and the
shortcut (1x1/2 conv-BN-neuron when the shape changes), and joins their spikes with the
element-wise connect function ``g`` (``model.connect``): ADD ``a + s``, AND ``a * s``, IAND
``(1 - a) * s``, with ``a`` the residual branch's spikes and ``s`` the shortcut's.

Every convolution is followed by BatchNorm, so a conv bias is redundant: the BatchNorm removes it
and its gradient is zero. ``model.conv_bias=true`` adds one anyway to every convolution, as the
official rate-BP SEW-ResNet-34 does (``model/sew_resnet.py``: 8,512 more parameters). Both accept any
[C, H, W] input; SEW-ResNet-34 downsamples by 32 (a 224x224 image ends at 7x7, a 32x32 one at
1x1, smaller inputs stay at 1x1).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import torch
from torch import nn

from snntrain.layers import (
    Flatten,
    TimeAdaptiveAvgPool2d,
    TimeBatchNorm2d,
    TimeConv2d,
    TimeMaxPool2d,
)
from snntrain.models.base import NeuronFactory, SpikingNet, image_channels
from snntrain.models.config import ResNetConfig, SEWResNetConfig
from snntrain.models.mlp import linear_stack


def conv_bn(c_in: int, c_out: int, kernel: int, stride: int, bias: bool) -> list[nn.Module]:
    return [TimeConv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=bias), TimeBatchNorm2d(c_out)]


def connect_add(a: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """SEW's ADD: ``a + s`` (spike counts 0, 1 or 2; the plain residual sum)."""
    return a + s


def connect_and(a: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """SEW's AND: ``a ∧ s``, computed as ``a * s`` (exact on spikes, differentiable)."""
    return a * s


def connect_iand(a: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """SEW's IAND: ``¬a ∧ s``, computed as ``(1 - a) * s`` (the shortcut passes where the residual is silent)."""
    return (1 - a) * s


CONNECT: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "ADD": connect_add,
    "AND": connect_and,
    "IAND": connect_iand,
}


class BasicBlock(nn.Module):
    """Time-major residual block of a spiking ResNet (``sew=None``) or a SEW-ResNet (``sew=ADD|AND|IAND``).

    Spiking ResNet: ``neuron(BN(conv(neuron(BN(conv(x))))) + shortcut(x))``, shortcut = identity
    or 1x1 conv-BN. SEW: ``g(neuron(BN(conv(neuron(BN(conv(x)))))), shortcut(x))`` with ``g`` =
    ``CONNECT[sew]``, shortcut = identity or 1x1 conv-BN-neuron, and no neuron after ``g``.
    """

    def __init__(
        self, c_in: int, c_out: int, stride: int, make_neuron: Callable[[], nn.Module], sew: str | None = None, conv_bias: bool = False,
    ) -> None:
        super().__init__()
        residual = [*conv_bn(c_in, c_out, 3, stride, conv_bias), make_neuron(), *conv_bn(c_out, c_out, 3, 1, conv_bias)]
        reshaped = stride != 1 or c_in != c_out
        shortcut = conv_bn(c_in, c_out, 1, stride, conv_bias) if reshaped else []
        if sew is not None:
            residual.append(make_neuron())
            shortcut += [make_neuron()] if reshaped else []
        self.residual = nn.Sequential(*residual)
        self.shortcut = nn.Sequential(*shortcut) if reshaped else nn.Identity()
        self.connect_name = sew or "ADD"
        self.connect = CONNECT[self.connect_name]
        self.neuron = make_neuron() if sew is None else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.neuron(self.connect(self.residual(x), self.shortcut(x)))

    def extra_repr(self) -> str:
        return f"connect={self.connect_name}"


def stages(
    channels: int, widths: list[int], blocks: list[int], make_neuron: Callable[[], nn.Module], sew: str | None = None, conv_bias: bool = False,
) -> list[nn.Module]:
    """The blocks of every stage: ``blocks[i]`` blocks of ``widths[i]`` channels, stride 2 into every stage but the first."""
    body: list[nn.Module] = []
    for stage, (width, count) in enumerate(zip(widths, blocks)):
        for b in range(count):
            body.append(BasicBlock(channels, width, 2 if stage > 0 and b == 0 else 1, make_neuron, sew, conv_bias))
            channels = width
    return body


def spiking_resnet(
    cfg: ResNetConfig, num_classes: int, neuron: NeuronFactory, n_neurons: int,
    stem: Callable[[Callable[[], nn.Module]], list[nn.Module]], sew: str | None = None,
) -> SpikingNet:
    """``stem(make_neuron)``, the stages of ``cfg``, global average pooling, ``cfg.fc`` and the readout.

    Neurons are numbered in build order for the factory (``n_neurons`` of them in all).
    """
    index = itertools.count()
    make_neuron = lambda: neuron(next(index), n_neurons)  # noqa: E731
    body = [*stem(make_neuron), *stages(cfg.channels[0], cfg.channels, cfg.blocks, make_neuron, sew, cfg.conv_bias)]
    body += [TimeAdaptiveAvgPool2d(1), Flatten()]
    body += linear_stack([cfg.channels[-1], *cfg.fc], num_classes, True, "mean", neuron, next(index), n_neurons)
    return SpikingNet(nn.Sequential(*body), "mean")


def build_resnet19(cfg: ResNetConfig, input_shape: tuple[int, ...], num_classes: int, neuron: NeuronFactory) -> SpikingNet:
    channels = image_channels("resnet19", input_shape, 2 ** (len(cfg.channels) - 1))
    stem = lambda make_neuron: [*conv_bn(channels, cfg.channels[0], 3, 1, cfg.conv_bias), make_neuron()]  # noqa: E731
    return spiking_resnet(cfg, num_classes, neuron, 1 + 2 * sum(cfg.blocks) + len(cfg.fc), stem)


def build_sew_resnet34(cfg: SEWResNetConfig, input_shape: tuple[int, ...], num_classes: int, neuron: NeuronFactory) -> SpikingNet:
    channels = image_channels("sew_resnet34", input_shape, 1)
    stem = lambda make_neuron: [*conv_bn(channels, cfg.channels[0], 7, 2, cfg.conv_bias), make_neuron(), TimeMaxPool2d(3, stride=2, padding=1)]  # noqa: E731
    # neurons: the stem's, two per block, one per 1x1 shortcut (first block of each later stage), hidden FCs'
    n_neurons = 1 + 2 * sum(cfg.blocks) + len(cfg.blocks) - 1 + len(cfg.fc)
    net = spiking_resnet(cfg, num_classes, neuron, n_neurons, stem, cfg.connect)
    for m in net.modules():  # the convolutions' init of torchvision's ResNets and of the official rate-BP code
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
    return net
