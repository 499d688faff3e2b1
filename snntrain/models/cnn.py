"""Spiking CNN from the spec strings of the SNN papers, e.g. ``15C5-P2-40C5-P2-300``.

``<n>C<k>``: n filters of k x k, then a neuron; ``P<p>``: p x p pooling; ``<n>``: a fully
connected layer of n neurons. The output layer (dataset classes) is appended.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from torch import nn

from snntrain.core.checks import one_of, positive, require
from snntrain.core.errors import ConfigError
from snntrain.layers import Flatten, TimeAvgPool2d, TimeBatchNorm2d, TimeConv2d, TimeMaxPool2d
from snntrain.models.base import NeuronFactory, SpikingNet
from snntrain.models.mlp import INITS, init_weights, linear_stack

_TOKEN = re.compile(r"^(?:(?P<filters>\d+)C(?P<kernel>\d+)|P(?P<pool>\d+)|(?P<units>\d+))$")

# The keys that act on one kind of spec layer only: set on a spec without such a layer, they would do nothing.
LAYER_KEYS = {"padding": "conv", "batch_norm": "conv", "conv_init_bound": "conv", "pool": "pool", "spiking_pool": "pool"}


@dataclass
class CNNConfig:
    """``model=cnn model.spec="15C5-P2-40C5-P2-300"``."""

    name: str = field(default="cnn", metadata={"help": "the option's name (model=<name> selects it)"})
    spec: str = field(default="16C3-P2-32C3-P2-128", metadata={"help": "the layers: 15C5 = 15 filters 5x5 (then a neuron), P2 = 2x2 pooling, 300 = 300 fully connected; the output layer is appended"})
    padding: str = field(default="same", metadata={"help": "same | valid"})
    pool: str = field(default="avg", metadata={"help": "avg | max"})
    spiking_pool: bool = field(default=False, metadata={"help": "a neuron after each pooling layer (HM2-BP's spiking pooling)"})
    batch_norm: bool = field(default=False, metadata={"help": "BatchNorm after each convolution"})
    bias: bool = field(default=True, metadata={"help": "biases in the convolutions and linear layers"})
    readout: str = field(default="mean", metadata={"help": "mean: non-spiking linear readout averaged over T | spikes: spiking output layer"})
    init: str = field(default="default", metadata={"help": "default (torch) | uniform (U(-1, 1), HM2-BP) | normal (weights N(0, 0.5²), biases 0: rate-BP VGG)"})
    conv_init_bound: float = field(default=1.0, metadata={"help": "with init=uniform: conv weights U(-b, b) (HM2-BP's official CNN: 0.5)"})

    def __post_init__(self) -> None:
        one_of("model.padding", self.padding, ["same", "valid"])
        one_of("model.pool", self.pool, ["avg", "max"])
        one_of("model.readout", self.readout, ["mean", "spikes"])
        one_of("model.init", self.init, INITS)
        positive("model.conv_init_bound", self.conv_init_bound)
        require(
            self.init == "uniform" or self.conv_init_bound == 1.0, "model.conv_init_bound", self.conv_init_bound,
            f"it sets the range of model.init=uniform, and model.init={self.init}; set model.init=uniform or leave it at 1.0",
        )
        kinds = {kind for kind, _, _ in parse_spec(self.spec)}
        for key, kind in LAYER_KEYS.items():
            value, default = getattr(self, key), getattr(CNNConfig, key)
            require(
                kind in kinds or value == default, f"model.{key}", value,
                f"it applies to {kind} layers, and model.spec={self.spec!r} has none; leave it at {default}",
            )


def parse_spec(spec: str) -> list[tuple[str, int, int]]:
    """Parse a spec string into ``[("conv", filters, kernel) | ("pool", p, p) | ("fc", n, 0)]``.

    Convolutions and pools come before the fully connected layers.
    """
    layers: list[tuple[str, int, int]] = []
    for token in spec.replace(" ", "").split("-"):
        match = _TOKEN.match(token)
        if not match or any(int(v) == 0 for v in match.groupdict(default="1").values()):
            raise ConfigError(
                f"model.spec={spec!r} does not parse at {token!r}: use tokens like 15C5 (15 filters "
                "of 5x5), P2 (2x2 pooling) and 300 (a fully connected layer), joined by '-'."
            )
        if match["filters"]:
            layers.append(("conv", int(match["filters"]), int(match["kernel"])))
        elif match["pool"]:
            layers.append(("pool", int(match["pool"]), int(match["pool"])))
        else:
            layers.append(("fc", int(match["units"]), 0))
    kinds = [kind for kind, _, _ in layers]
    if "fc" in kinds and any(k != "fc" for k in kinds[kinds.index("fc"):]):
        raise ConfigError(f"model.spec={spec!r}: convolutions and pooling must come before the fully connected layers.")
    return layers


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


