"""Time-major layers: stateless layers run once over the merged T*B batch."""

from snntrain.layers.merged import (
    Flatten,
    TimeAdaptiveAvgPool2d,
    TimeAvgPool2d,
    TimeBatchNorm1d,
    TimeBatchNorm2d,
    TimeConv2d,
    TimeMaxPool2d,
)
from snntrain.layers.synaptic import Linear
from snntrain.layers.weights import WEIGHT_LAYERS, weight_layers

__all__ = [
    "Flatten",
    "Linear",
    "TimeAdaptiveAvgPool2d",
    "TimeAvgPool2d",
    "TimeBatchNorm1d",
    "TimeBatchNorm2d",
    "TimeConv2d",
    "TimeMaxPool2d",
    "WEIGHT_LAYERS",
    "weight_layers",
]
