"""``model=vgg11``: spiking VGG-11 with BatchNorm, as in rate-BP's tables (METHODS.md §3).

Features 64-A-128-256-A-512-512-A-512-A-512-512 (3x3 conv -> BatchNorm -> neuron; A: 2x2
average pooling), global average pooling, then fully connected layers ``model.fc`` (each
followed by a neuron) and the linear readout. Inputs: any [C, H, W] with H, W >= 16, e.g.
3x32x32 images or 2xHxW event frames.
"""

from __future__ import annotations

import itertools

from torch import nn

from snntrain.layers import (
    Flatten,
    TimeAdaptiveAvgPool2d,
    TimeAvgPool2d,
    TimeBatchNorm2d,
    TimeConv2d,
)
from snntrain.models.base import NeuronFactory, SpikingNet, image_channels
from snntrain.models.config import VGGConfig
from snntrain.models.mlp import linear_stack

VGG11 = [64, "A", 128, 256, "A", 512, 512, "A", 512, "A", 512, 512]


def build_vgg11(cfg: VGGConfig, input_shape: tuple[int, ...], num_classes: int, neuron: NeuronFactory) -> SpikingNet:
    channels = image_channels("vgg11", input_shape, 2 ** VGG11.count("A"))
    n_neurons = sum(isinstance(v, int) for v in VGG11) + len(cfg.fc)
    index = itertools.count()
    body: list[nn.Module] = []
    for v in VGG11:
        if v == "A":
            body.append(TimeAvgPool2d(2))
        else:
            body += [TimeConv2d(channels, v, 3, padding=1), TimeBatchNorm2d(v), neuron(next(index), n_neurons)]
            channels = v
    body += [TimeAdaptiveAvgPool2d(1), Flatten()]
    body += linear_stack([channels, *cfg.fc], num_classes, True, "mean", neuron, next(index), n_neurons)
    return SpikingNet(nn.Sequential(*body), "mean")
