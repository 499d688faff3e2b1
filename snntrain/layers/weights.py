"""Which modules carry a weight that a gradient method trains: conv and linear layers."""

from __future__ import annotations

from torch import nn

WEIGHT_LAYERS = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d, nn.Linear)


def weight_layers(model: nn.Module) -> list[str]:
    """The names of ``model``'s conv and linear modules, in registration (forward) order."""
    return [name for name, module in model.named_modules() if isinstance(module, WEIGHT_LAYERS)]
