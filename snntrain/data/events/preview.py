"""What the network sees: the first framed sample of each class as one RGB image for TensorBoard."""

from __future__ import annotations

import numpy as np
import torch
from torchvision.utils import make_grid

from snntrain.data.base import Split

ON_COLOUR = (1.0, 0.55, 0.0)  # orange
OFF_COLOUR = (0.0, 0.6, 1.0)  # blue
SCALE = 4  # 34 px is too small to see; nearest-neighbour upscaling keeps the pixels crisp


def frames_image(frames: np.ndarray | torch.Tensor) -> torch.Tensor:
    """RGB ``[3, H, W]`` in [0, 1] tiling samples ``[n, T, 2, h, w]`` side by side.

    Each sample's frames are summed over time and scaled by its own maximum; ON events (channel
    1) are drawn orange and OFF events (channel 0) blue, so overlapping edges show both.
    """
    x = torch.as_tensor(np.asarray(frames)).float().sum(dim=1)
    x = x / x.amax(dim=(1, 2, 3), keepdim=True).clamp(min=1.0)
    on, off = torch.tensor(ON_COLOUR).view(1, 3, 1, 1), torch.tensor(OFF_COLOUR).view(1, 3, 1, 1)
    rgb = (x[:, 1:2] * on + x[:, 0:1] * off).clamp(max=1.0)
    rgb = rgb.repeat_interleave(SCALE, dim=2).repeat_interleave(SCALE, dim=3)
    return make_grid(rgb, nrow=len(rgb), padding=SCALE, pad_value=1.0)


def class_examples_image(split: Split) -> torch.Tensor:
    """``frames_image`` of the first sample of every class in ``split``, in class order."""
    _, first = np.unique(split.y.numpy(), return_index=True)
    return frames_image(split.x[np.sort(first)])
