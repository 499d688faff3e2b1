"""Spiking CNN from the spec strings of the SNN papers, e.g. ``15C5-P2-40C5-P2-300``.

``<n>C<k>``: n filters of k x k, then a neuron; ``P<p>``: p x p pooling; ``<n>``: a fully
connected layer of n neurons. The output layer (dataset classes) is appended.
"""

from __future__ import annotations

from torch import nn

from snntrain.core.errors import ConfigError
from snntrain.layers import Flatten, TimeAvgPool2d, TimeBatchNorm2d, TimeConv2d, TimeMaxPool2d
from snntrain.models.base import NeuronFactory, SpikingNet
from snntrain.models.config import CNNConfig, parse_spec
from snntrain.models.mlp import init_weights, linear_stack


def build_cnn(cfg: CNNConfig, input_shape: tuple[int, ...], num_classes: int, neuron: NeuronFactory) -> SpikingNet:
    if len(input_shape) != 3:
        raise ConfigError(f"model=cnn needs image input [C, H, W]; this dataset gives {list(input_shape)}. Use model=mlp.")
    layers = parse_spec(cfg.spec)
    n_neurons = sum(kind == "conv" or kind == "fc" or (kind == "pool" and cfg.spiking_pool) for kind, _, _ in layers)
    n_neurons += cfg.readout == "spikes"
    channels, height, width = input_shape
    body: list[nn.Module] = []
    index = 0
    for kind, a, b in layers:
        if kind == "fc":
            break
        if kind == "conv":
            pad = b // 2 if cfg.padding == "same" else 0
            height, width = height + 2 * pad - b + 1, width + 2 * pad - b + 1
            body.append(TimeConv2d(channels, a, b, padding=pad, bias=cfg.bias))
            if cfg.batch_norm:
                body.append(TimeBatchNorm2d(a))
            channels = a
        else:
            height, width = height // a, width // a
            body.append(TimeAvgPool2d(a) if cfg.pool == "avg" else TimeMaxPool2d(a))
        if height <= 0 or width <= 0:
            raise ConfigError(
                f"model.spec={cfg.spec!r} shrinks the {input_shape[1]}x{input_shape[2]} input to "
                f"{max(height, 0)}x{max(width, 0)} at '{f'{a}C{b}' if kind == 'conv' else f'P{a}'}'. Use "
                "model.padding=same, smaller kernels or fewer pooling layers."
            )
        if kind == "conv" or cfg.spiking_pool:
            body.append(neuron(index, n_neurons))
            index += 1
    fc = [a for kind, a, _ in layers if kind == "fc"]
    body.append(Flatten())
    body += linear_stack([channels * height * width, *fc], num_classes, cfg.bias, cfg.readout, neuron, index, n_neurons)
    net = SpikingNet(nn.Sequential(*body), cfg.readout)
    init_weights(net, cfg.init, cfg.conv_init_bound)
    return net


