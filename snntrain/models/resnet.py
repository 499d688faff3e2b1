"""``model=resnet19``: spiking ResNet-19 with BatchNorm, as in rate-BP's tables (METHODS.md §3).

A 3x3 stem (128 channels), three stages of basic blocks (128, 256, 512 channels; 3, 3, 2 blocks;
stride 2 into stages 2 and 3), global average pooling, FC 512 -> 256 -> neuron -> readout.
Every convolution is followed by BatchNorm; a block is conv-BN-neuron-conv-BN, plus the
shortcut (1x1 conv-BN when the shape changes), then a neuron. Inputs: any [C, H, W] with
H, W >= 4, e.g. 3x32x32 images or 2xHxW event frames.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from snntrain.config.checks import require
from snntrain.layers import Flatten, TimeAdaptiveAvgPool2d, TimeBatchNorm2d, TimeConv2d
from snntrain.models.base import NeuronFactory, SpikingNet, image_channels
from snntrain.models.mlp import linear_stack
from snntrain.registry import register


def conv_bn(c_in: int, c_out: int, kernel: int, stride: int) -> list[nn.Module]:
    return [TimeConv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False), TimeBatchNorm2d(c_out)]


class BasicBlock(nn.Module):
    """Time-major residual block: ``neuron(BN(conv(neuron(BN(conv(x))))) + shortcut(x))``."""

    def __init__(self, c_in: int, c_out: int, stride: int, make_neuron: Callable[[], nn.Module]) -> None:
        super().__init__()
        self.residual = nn.Sequential(*conv_bn(c_in, c_out, 3, stride), make_neuron(), *conv_bn(c_out, c_out, 3, 1))
        reshaped = stride != 1 or c_in != c_out
        self.shortcut = nn.Sequential(*conv_bn(c_in, c_out, 1, stride)) if reshaped else nn.Identity()
        self.neuron = make_neuron()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.neuron(self.residual(x) + self.shortcut(x))


@dataclass
class ResNetConfig:
    """``model=resnet19``: ``channels`` and ``blocks`` per stage, hidden ``fc`` widths."""

    name: str = "resnet19"
    channels: list[int] = field(default_factory=lambda: [128, 256, 512])
    blocks: list[int] = field(default_factory=lambda: [3, 3, 2])
    fc: list[int] = field(default_factory=lambda: [256])

    def __post_init__(self) -> None:
        require(len(self.channels) == len(self.blocks) > 0, "model.blocks", self.blocks, "one block count per entry of model.channels")
        require(all(c > 0 for c in self.channels), "model.channels", self.channels, "every width must be > 0")
        require(all(b > 0 for b in self.blocks), "model.blocks", self.blocks, "every count must be > 0")
        require(all(w > 0 for w in self.fc), "model.fc", self.fc, "every width must be > 0")


@register("model", "resnet19", ResNetConfig)
def build_resnet19(cfg: ResNetConfig, input_shape: tuple[int, ...], num_classes: int, neuron: NeuronFactory) -> SpikingNet:
    channels = image_channels("resnet19", input_shape, 2 ** (len(cfg.channels) - 1))
    n_neurons = 1 + 2 * sum(cfg.blocks) + len(cfg.fc)
    index = itertools.count()
    make_neuron = lambda: neuron(next(index), n_neurons)  # noqa: E731
    body: list[nn.Module] = [*conv_bn(channels, cfg.channels[0], 3, 1), make_neuron()]
    channels = cfg.channels[0]
    for stage, (width, count) in enumerate(zip(cfg.channels, cfg.blocks)):
        for b in range(count):
            body.append(BasicBlock(channels, width, 2 if stage > 0 and b == 0 else 1, make_neuron))
            channels = width
    body += [TimeAdaptiveAvgPool2d(1), Flatten()]
    body += linear_stack([channels, *cfg.fc], num_classes, True, "mean", neuron, next(index), n_neurons)
    return SpikingNet(nn.Sequential(*body), "mean")
