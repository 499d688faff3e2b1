"""The TensorBoard preview: one tile per class, ON and OFF events in two colours."""

import numpy as np
import torch

from snntrain.data.base import Split
from snntrain.data.events.preview import (
    OFF_COLOUR,
    ON_COLOUR,
    SCALE,
    class_examples_image,
    frames_image,
)


def test_on_and_off_events_get_their_own_colours():
    frames = np.zeros((2, 3, 2, 34, 34), np.uint8)  # the first tile is drawn; the second stays empty
    frames[0, 0, 1, 5, 7] = 2  # ON at y=5, x=7
    frames[0, 2, 0, 20, 30] = 1  # OFF at y=20, x=30
    image = frames_image(frames)
    pixel = lambda y, x: image[:, SCALE + y * SCALE, SCALE + x * SCALE]  # noqa: E731  (past the grid padding)
    assert torch.allclose(pixel(5, 7), torch.tensor(ON_COLOUR))
    assert torch.allclose(pixel(20, 30), torch.tensor(OFF_COLOUR) * 0.5)  # scaled by the sample's maximum
    assert torch.allclose(pixel(0, 0), torch.zeros(3))


def test_one_tile_per_class_in_class_order():
    x = np.zeros((6, 2, 2, 34, 34), np.uint8)
    split = Split(x, torch.tensor([3, 1, 3, 0, 1, 0]))
    image = class_examples_image(split)
    tile = 34 * SCALE + SCALE
    assert image.shape == (3, tile + SCALE, 3 * tile + SCALE)
