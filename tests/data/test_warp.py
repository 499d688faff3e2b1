"""``dataset.augment.scale|rotation|elastic`` against a pixel-by-pixel transcription of the official
kernels (jinyyy666/mm-bp-snn, dataAugmentation/cuTransformation.cu: g_createGaussianKernel,
g_generateDistortionMap for batch position 0, g_applyDistortionMap), its draws, and its config checks."""

from __future__ import annotations

import math

import pytest
import torch

from snntrain.app import plan
from snntrain.core.errors import ConfigError
from snntrain.data.augment import AugmentConfig, apply, augment, draw
from snntrain.data.warp import warp
from tests.conftest import compose_config

MNIST_LIKE = (6, 1, 28, 28)


def official_map(noise: list[list[float]], scale: float, rotation: float, elastic: float) -> tuple[list, list]:
    """dispV, dispH of one image as g_generateDistortionMap computes them (float64), ImgSize x ImgSize."""
    size, field, sigma = len(noise), 21, 4.0
    mid = field // 2
    gaussian = [[1.0 / (sigma * 2.0 * math.pi) * math.exp(-((r - mid) ** 2 + (c - mid) ** 2) / (2.0 * sigma * sigma)) for c in range(field)] for r in range(field)]
    disp_h = [[0.0] * size for _ in range(size)]
    disp_v = [[0.0] * size for _ in range(size)]
    for row in range(size):
        for col in range(size):
            if elastic >= 0.1:
                h = v = 0.0
                for xxx in range(field):
                    for yyy in range(field):
                        x_disp, y_disp = col - mid + xxx, row - mid + yyy
                        inside = 0 <= x_disp < size and 0 <= y_disp < size
                        sample_h = noise[y_disp][x_disp] if inside else 0.0  # uniformH = rand + 0
                        sample_v = noise[y_disp][x_disp] if inside else 0.0  # uniformV = rand + 0 * 2
                        h += sample_h * gaussian[yyy][xxx]
                        v += sample_v * gaussian[yyy][xxx]
                disp_h[row][col], disp_v[row][col] = elastic * h, elastic * v
    rand1, rand2 = noise[0][0], noise[0][1]
    if abs(rotation) >= 0.01:
        rand1, rand2 = max(rand1, 0.0), max(rand2, 0.0)
    i_mid = size // 2
    for row in range(size):
        for col in range(size):
            disp_h[row][col] += scale / 100.0 * rand1 * (col - i_mid)
            disp_v[row][col] += scale / 100.0 * rand2 * (row - i_mid)
    angle = rotation * noise[0][0] * math.pi / 180.0
    for row in range(size):
        for col in range(size):
            xx, yy = row - i_mid, col - i_mid
            disp_h[row][col] += yy - yy * math.cos(angle) - xx * math.sin(angle)
            disp_v[row][col] += xx - xx * math.cos(angle) + yy * math.sin(angle)
    return disp_v, disp_h


def official_apply(image: list[list[float]], disp_v: list, disp_h: list, background: float) -> list[list[float]]:
    """g_applyDistortionMap for one channel; out-of-bounds reads give ``background``."""
    size = len(image)
    out = [[0.0] * size for _ in range(size)]
    for row in range(size):
        for col in range(size):
            if abs(disp_v[row][col]) < 1e-9 and abs(disp_h[row][col]) < 1e-9:
                out[row][col] = image[row][col]
                continue
            source_row, source_col = row - disp_v[row][col], col - disp_h[row][col]
            s_row, s_col = int(source_row), int(source_col)  # C truncation toward zero
            frac_row, frac_col = source_row - s_row, source_col - s_col
            if s_row + 1 >= size or s_row < 0 or s_col + 1 >= size or s_col < 0:
                out[row][col] = background
                continue
            out[row][col] = (
                (1 - frac_row) * (1 - frac_col) * image[s_row][s_col] + (1 - frac_row) * frac_col * image[s_row][s_col + 1]
                + frac_row * (1 - frac_col) * image[s_row + 1][s_col] + frac_row * frac_col * image[s_row + 1][s_col + 1]
            )
    return out


def digit_like(n: int, seed: int = 0) -> torch.Tensor:
    """[n, 1, 28, 28] in [0, 1]: a bright blob off the centre on a black background, so borders and stretches show."""
    g = torch.Generator().manual_seed(seed)
    rows, cols = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    centres = torch.rand(n, 2, generator=g) * 10 + 9
    blob = torch.exp(-((rows - centres[:, 0, None, None]) ** 2 + (cols - centres[:, 1, None, None]) ** 2) / 30)
    return (blob + 0.1 * torch.rand(n, 28, 28, generator=g)).clamp(max=1)[:, None].double()


@pytest.mark.parametrize(
    "scale, rotation, elastic",
    [(12.0, 0.0, 0.0), (0.0, 12.0, 0.0), (0.0, 0.0, 3.4), (12.0, 12.0, 3.4)],  # the last: HM2-BP's official CNN
)
def test_each_sample_is_the_official_map_of_its_noise(scale, rotation, elastic):
    """The official images live in [-1, 1] with background -1 (pixel 0); snntrain's in [0, 1] with
    background 0: the same map, since the official maps pixel p to p * 2 / 255 - 1 and back."""
    x = digit_like(MNIST_LIKE[0])
    noise = torch.rand(MNIST_LIKE[0], 28, 28, generator=torch.Generator().manual_seed(1), dtype=torch.float64) * 2 - 1
    out = warp(x, noise, scale, rotation, elastic)
    changed = 0
    for b in range(len(x)):
        disp_v, disp_h = official_map(noise[b].tolist(), scale, rotation, elastic)
        official = official_apply((x[b, 0] * 2 - 1).tolist(), disp_v, disp_h, background=-1.0)
        expected = (torch.tensor(official, dtype=torch.float64) + 1) / 2
        torch.testing.assert_close(out[b, 0], expected, rtol=0, atol=1e-12)
        changed += not torch.allclose(out[b], x[b])
    assert changed == len(x)


def test_channels_and_time_frames_move_alike_and_uint8_stays_uint8():
    x = (digit_like(4)[:, None].expand(4, 3, 2, 28, 28) * 255).round().to(torch.uint8)  # [B, T, C, H, W]
    noise = torch.rand(4, 28, 28, generator=torch.Generator().manual_seed(2)) * 2 - 1
    out = warp(x, noise, 12.0, 12.0, 3.4)
    assert out.dtype == torch.uint8 and out.shape == x.shape
    assert torch.equal(out, out[:, :1, :1].expand_as(out))
    assert torch.equal(out[:, 0, 0], warp(x[:, 0, 0], noise, 12.0, 12.0, 3.4))


def test_draws_come_from_the_batch_generator_one_field_per_sample_and_leave_the_global_generator():
    cfg = AugmentConfig(scale=12.0, rotation=12.0, elastic=3.4)
    x = digit_like(MNIST_LIKE[0]).float()
    state = torch.random.get_rng_state()
    a, b, c = (augment(x, cfg, torch.Generator().manual_seed(s)) for s in (7, 7, 8))
    assert torch.equal(torch.random.get_rng_state(), state)
    assert torch.equal(a, b) and not torch.equal(a, c)
    draws = draw(cfg, len(x), (28, 28), torch.Generator().manual_seed(7))
    assert draws.distortion_noise.shape == (len(x), 28, 28) and draws.distortion_noise.abs().max() <= 1
    assert torch.equal(apply(x, cfg, draws), warp(x, draws.distortion_noise, 12.0, 12.0, 3.4))
    same = augment(x[:1].expand(2, 1, 28, 28).contiguous(), cfg, torch.Generator().manual_seed(7))
    assert not torch.equal(same[0], same[1])  # two copies of one image get two maps


def test_distortion_comes_before_the_other_transforms():
    cfg = AugmentConfig(elastic=3.4, flip=True)
    x = digit_like(MNIST_LIKE[0]).float()
    draws = draw(cfg, len(x), (28, 28), torch.Generator().manual_seed(3))
    warped = warp(x, draws.distortion_noise, 0.0, 0.0, 3.4)
    expected = torch.where(draws.flip[:, None, None, None], warped.flip(-1), warped)
    assert torch.equal(apply(x, cfg, draws), expected)


@pytest.mark.parametrize("key", ["scale", "rotation", "elastic"])
def test_a_negative_strength_names_the_key(key):
    with pytest.raises(ConfigError, match=rf"dataset\.augment\.{key}=-1.0 is not allowed: it must be >= 0"):
        plan(compose_config(["dataset=mnist", f"dataset.augment.{key}=-1"]))
