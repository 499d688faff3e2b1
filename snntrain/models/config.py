"""The models' config schemas (``model=<name>``): dataclasses only, no torch, so that the CLI can
compose and check a config before it imports torch (the networks are in ``mlp.py``, ``cnn.py``,
``vgg.py`` and ``resnet.py``; ``model=feedback``'s schema is in ``feedback/config.py``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from snntrain.core.checks import one_of, positive, require
from snntrain.core.errors import ConfigError

CONNECT_NAMES = ["ADD", "AND", "IAND"]
"""The ``model.connect`` values of SEW-ResNet: the keys of ``resnet.CONNECT``."""
INITS = ["default", "uniform", "normal"]


@dataclass
class MLPConfig:
    """``model=mlp model.hidden=[800]``."""

    name: str = field(default="mlp", metadata={"help": "the option's name (model=<name> selects it)"})
    hidden: list[int] = field(default_factory=lambda: [800], metadata={"help": "hidden layer widths, each layer linear -> neuron"})
    bias: bool = field(default=True, metadata={"help": "biases in the linear layers"})
    readout: str = field(default="mean", metadata={"help": "mean: non-spiking linear readout averaged over T | spikes: spiking output layer"})
    init: str = field(default="default", metadata={"help": "default (torch) | uniform (U(-1, 1), HM2-BP) | normal (weights N(0, 0.5²), biases 0: rate-BP VGG)"})

    def __post_init__(self) -> None:
        require(all(h > 0 for h in self.hidden), "model.hidden", self.hidden, "every width must be > 0")
        one_of("model.readout", self.readout, ["mean", "spikes"])
        one_of("model.init", self.init, INITS)


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


@dataclass
class VGGConfig:
    """``model=vgg11``; ``model.fc`` are the hidden widths between the features and the readout."""

    name: str = field(default="vgg11", metadata={"help": "the option's name (model=<name> selects it)"})
    fc: list[int] = field(default_factory=list, metadata={"help": "hidden FC widths before the readout (each followed by a neuron)"})

    def __post_init__(self) -> None:
        require(all(w > 0 for w in self.fc), "model.fc", self.fc, "every width must be > 0")


@dataclass
class ResNetConfig:
    """``model=resnet19``: ``channels`` and ``blocks`` per stage, hidden ``fc`` widths, ``conv_bias``."""

    name: str = field(default="resnet19", metadata={"help": "the option's name (model=<name> selects it)"})
    channels: list[int] = field(default_factory=lambda: [128, 256, 512], metadata={"help": "output channels of each stage"})
    blocks: list[int] = field(default_factory=lambda: [3, 3, 2], metadata={"help": "basic blocks in each stage"})
    fc: list[int] = field(default_factory=lambda: [256], metadata={"help": "hidden FC widths before the readout (each followed by a neuron)"})
    conv_bias: bool = field(default=False, metadata={"help": "a bias in every convolution: redundant before BatchNorm; the official rate-BP ResNet-19 has none, its SEW-ResNet-34 has them (+8,512 parameters)"})

    def __post_init__(self) -> None:
        require(len(self.channels) == len(self.blocks) > 0, "model.blocks", self.blocks, "one block count per entry of model.channels")
        require(all(c > 0 for c in self.channels), "model.channels", self.channels, "every width must be > 0")
        require(all(b > 0 for b in self.blocks), "model.blocks", self.blocks, "every count must be > 0")
        require(all(w > 0 for w in self.fc), "model.fc", self.fc, "every width must be > 0")


@dataclass
class SEWResNetConfig(ResNetConfig):
    """``model=sew_resnet34 model.connect=ADD|AND|IAND``; ``channels``/``blocks`` per stage, hidden ``fc`` widths."""

    name: str = "sew_resnet34"
    channels: list[int] = field(default_factory=lambda: [64, 128, 256, 512])
    blocks: list[int] = field(default_factory=lambda: [3, 4, 6, 3])
    fc: list[int] = field(default_factory=list)
    connect: str = field(default="ADD", metadata={"help": "ADD (a + s) | AND (a * s) | IAND ((1 - a) * s); a: residual spikes, s: shortcut spikes"})

    def __post_init__(self) -> None:
        super().__post_init__()
        one_of("model.connect", self.connect, CONNECT_NAMES)
