"""A small spiking MLP built the way snntrain builds a model: ``TinyNet(cfg, input_shape, num_classes, neuron)``."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn

from snntrain.core.checks import require


@dataclass
class TinyNetConfig:
    """The keys of a config file that names ``_target_: my_components.TinyNet`` and no built-in ``name``."""

    name: str = "tiny"
    hidden: list[int] = field(default_factory=lambda: [64])
    bias: bool = True

    def __post_init__(self) -> None:
        require(all(width > 0 for width in self.hidden), "model.hidden", self.hidden, "every width must be > 0")


class TinyNet(nn.Module):
    """Flatten, then [linear -> spiking neuron] per width of ``cfg.hidden``, then a linear readout:
    two layers with the default ``hidden=[64]``. Time-major: ``[T, B, ...]`` in, ``[T, B, classes]`` out.

    ``cfg`` is a ``TinyNetConfig``, or ``model=mlp``'s config when ``model._target_`` is set over it
    (both have ``hidden`` and ``bias``). The neuron layers are what ``neuron=...`` builds: snntrain's
    LIF by default, which the trainer resets before every batch.
    """

    config_class = TinyNetConfig

    def __init__(self, cfg, input_shape: tuple[int, ...], num_classes: int, neuron) -> None:
        super().__init__()
        widths = [math.prod(input_shape), *cfg.hidden]
        layers: list[nn.Module] = []
        for index, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:])):
            layers += [nn.Linear(fan_in, fan_out, bias=cfg.bias), neuron(index, len(cfg.hidden))]
        layers.append(nn.Linear(widths[-1], num_classes, bias=cfg.bias))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x.flatten(2))
