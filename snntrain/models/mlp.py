"""Spiking multilayer perceptron: flatten, then [linear -> neuron] per hidden layer, readout."""

from __future__ import annotations

import math

from torch import nn

from snntrain.layers import Flatten, Linear
from snntrain.models.base import NeuronFactory, SpikingNet
from snntrain.models.config import MLPConfig


def init_weights(net: nn.Module, scheme: str, conv_bound: float = 1.0) -> None:
    """``default`` keeps torch's init; ``uniform`` draws every parameter from U(-1, 1) (HM2-BP), those
    of convolutions from U(-conv_bound, conv_bound); ``normal`` draws conv and linear weights from
    N(0, 0.5²) and zeroes their biases (the official rate-BP VGG's ``_initialize_weights``,
    Tab-ct/rate-based-backpropagation ``model/vgg.py``)."""
    if scheme == "uniform":
        for module in net.modules():
            bound = conv_bound if isinstance(module, nn.Conv2d) else 1.0
            for p in module.parameters(recurse=False):
                nn.init.uniform_(p, -bound, bound)
    if scheme == "normal":
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.normal_(m.weight, 0.0, 0.5)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)


def linear_stack(
    widths: list[int], num_classes: int, bias: bool, readout: str, neuron: NeuronFactory, first_neuron: int = 0, n_neurons: int | None = None
) -> list[nn.Module]:
    """[Linear -> neuron] for each consecutive pair of ``widths``, then the readout layer."""
    if n_neurons is None:
        n_neurons = first_neuron + len(widths) - 1 + (readout == "spikes")
    layers: list[nn.Module] = []
    index = first_neuron
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        layers += [Linear(fan_in, fan_out, bias=bias), neuron(index, n_neurons)]
        index += 1
    layers.append(Linear(widths[-1], num_classes, bias=bias))
    if readout == "spikes":
        layers.append(neuron(index, n_neurons))
    return layers


def build_mlp(cfg: MLPConfig, input_shape: tuple[int, ...], num_classes: int, neuron: NeuronFactory) -> SpikingNet:
    widths = [math.prod(input_shape), *cfg.hidden]
    body = nn.Sequential(Flatten(), *linear_stack(widths, num_classes, cfg.bias, cfg.readout, neuron))
    net = SpikingNet(body, cfg.readout)
    init_weights(net, cfg.init)
    return net
