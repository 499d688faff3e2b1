"""The model container every builder returns."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from snntrain.core.errors import ConfigError

NeuronFactory = Callable[[int, int], nn.Module]
"""``factory(layer_index, n_neuron_layers) -> neuron module``; lets a neuron config vary by layer."""


class SpikingNet(nn.Module):
    """A time-major network: ``[T, B, ...]`` in, ``[T, B, classes]`` out.

    ``readout="mean"``: the last layer is a non-spiking linear map, averaged over time by the
    method. ``readout="spikes"``: the last layer spikes; its counts are the class scores.
    ``body`` is an ``nn.Sequential`` that methods with their own backward pass (HM2-BP) walk.
    """

    body_runner: Callable[[nn.Sequential, torch.Tensor], torch.Tensor] | None = None
    """How to run ``body`` on the input instead of ``body(x)``; set for the length of a step by a
    compression scheme with recomputed blocks (``trainer.recompute``), None otherwise."""

    def __init__(self, body: nn.Sequential, readout: str) -> None:
        super().__init__()
        self.body = body
        self.readout = readout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) if self.body_runner is None else self.body_runner(self.body, x)


def image_channels(name: str, input_shape: tuple[int, ...], downsampling: int) -> int:
    """The channel count of a [C, H, W] input that survives ``downsampling``; ConfigError otherwise."""
    if len(input_shape) != 3:
        raise ConfigError(f"model={name} needs image input [C, H, W]; this dataset gives {list(input_shape)}.")
    channels, height, width = input_shape
    if min(height, width) < downsampling:
        raise ConfigError(
            f"model={name} downsamples by {downsampling}; the {height}x{width} input is too small. "
            "Use model=cnn for small images."
        )
    return channels
