"""The model container every builder returns."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

NeuronFactory = Callable[[int, int], nn.Module]
"""``factory(layer_index, n_neuron_layers) -> neuron module``; lets a neuron config vary by layer."""


class SpikingNet(nn.Module):
    """A time-major network: ``[T, B, ...]`` in, ``[T, B, classes]`` out.

    ``readout="mean"``: the last layer is a non-spiking linear map, averaged over time by the
    method. ``readout="spikes"``: the last layer spikes; its counts are the class scores.
    ``body`` is an ``nn.Sequential`` that methods with their own backward pass (HM2-BP) walk.
    """

    def __init__(self, body: nn.Sequential, readout: str) -> None:
        super().__init__()
        self.body = body
        self.readout = readout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)
