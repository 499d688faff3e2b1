"""``dataset.augment.scale|rotation|elastic``: the distortion map of the official HM2-BP code, per sample.

The official code (jinyyy666/mm-bp-snn, dataAugmentation/cuTransformation.cu: ``g_generateDistortionMap``,
``g_applyDistortionMap``; Simard et al. 2003) moves the pixels of an H x W image by a displacement
field (d_v rows, d_h columns) built from one field of noise n ~ U(-1, 1) per pixel:

    elastic   d_h = d_v = elastic * (n * G)      G[a, b] = exp(-(a^2 + b^2) / (2 sigma^2)) / (2 pi sigma),
                                                  sigma = 4, 21 x 21 taps, zero outside the image
    scale     d_h += scale/100 * r_h * (col - W//2),  d_v += scale/100 * r_v * (row - H//2),
              r_h = n[0, 0], r_v = n[0, 1], each clamped at 0 while rotation is on (zoom in only)
    rotation  a = rotation * n[0, 0] degrees,  x = row - H//2,  y = col - W//2:
              d_h += y - y cos a - x sin a,  d_v += x - x cos a + y sin a

and reads output[row, col] bilinearly at (row - d_v, col - d_h), with C's truncation of the
source position; a source outside the image gives 0 (the official background -1 of its [-1, 1]
images, pixel 0), and a pixel whose displacement is below 1e-9 on both axes keeps its value. The
quirks are the official code's: the horizontal and vertical elastic fields are one field (it reads
both from the same address), and the horizontal stretch and the angle share one draw. G is not
normalised (its taps sum to about sigma), so ``elastic`` is the official DISTORTION value as is.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

GAUSSIAN_TAPS = 21
ELASTIC_SIGMA = 4.0
STILL = 1e-9  # a displacement below this on both axes leaves the pixel as it is


def gaussian_taps(dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """The official elastic kernel G [21, 21] (``g_createGaussianKernel``)."""
    offset = torch.arange(GAUSSIAN_TAPS, dtype=dtype, device=device) - GAUSSIAN_TAPS // 2
    squared = offset[:, None] ** 2 + offset[None, :] ** 2
    return torch.exp(-squared / (2 * ELASTIC_SIGMA**2)) / (2 * math.pi * ELASTIC_SIGMA)


def displacement(noise: torch.Tensor, scale: float, rotation: float, elastic: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The rows and columns displacements (d_v, d_h) [n, H, W] that ``noise`` [n, H, W] (U(-1, 1)) draws."""
    n, h, w = noise.shape
    rows = (torch.arange(h, dtype=noise.dtype, device=noise.device) - h // 2)[None, :, None]
    cols = (torch.arange(w, dtype=noise.dtype, device=noise.device) - w // 2)[None, None, :]
    d_v = d_h = torch.zeros_like(noise)
    if elastic:
        taps = gaussian_taps(noise.dtype, noise.device)
        d_v = d_h = elastic * F.conv2d(noise[:, None], taps[None, None], padding=GAUSSIAN_TAPS // 2)[:, 0]
    draw_h, draw_v = noise[:, 0, 0, None, None], noise[:, 0, 1, None, None]
    if scale:
        stretch_h, stretch_v = (draw_h.clamp(min=0), draw_v.clamp(min=0)) if rotation else (draw_h, draw_v)
        d_h = d_h + scale / 100 * stretch_h * cols
        d_v = d_v + scale / 100 * stretch_v * rows
    if rotation:
        angle = torch.deg2rad(rotation * draw_h)
        cos, sin = torch.cos(angle), torch.sin(angle)
        d_h = d_h + cols - cols * cos - rows * sin
        d_v = d_v + rows - rows * cos + cols * sin
    return d_v, d_h


def resample(x: torch.Tensor, d_v: torch.Tensor, d_h: torch.Tensor) -> torch.Tensor:
    """``x`` [n, K, H, W] (float) read bilinearly at (row - d_v, col - d_h) as the official kernel reads it."""
    n, k, h, w = x.shape
    source_row = torch.arange(h, dtype=d_v.dtype, device=x.device)[None, :, None] - d_v
    source_col = torch.arange(w, dtype=d_h.dtype, device=x.device)[None, None, :] - d_h
    top, left = torch.trunc(source_row), torch.trunc(source_col)  # C's (int) cast
    below, beside = (source_row - top)[:, None], (source_col - left)[:, None]  # weights of row + 1, col + 1
    inside = (top >= 0) & (top + 1 < h) & (left >= 0) & (left + 1 < w)
    corner = (top.clamp(0, h - 2) * w + left.clamp(0, w - 2)).long().reshape(n, 1, h * w).expand(n, k, h * w)
    flat = x.reshape(n, k, h * w)

    def at(offset: int) -> torch.Tensor:
        return torch.gather(flat, 2, corner + offset).reshape(n, k, h, w)

    upper = (1 - beside) * at(0) + beside * at(1)
    lower = (1 - beside) * at(w) + beside * at(w + 1)
    value = torch.where(inside[:, None], (1 - below) * upper + below * lower, torch.zeros((), dtype=x.dtype, device=x.device))
    still = (d_v.abs() < STILL) & (d_h.abs() < STILL)
    return torch.where(still[:, None], x, value)


def warp(x: torch.Tensor, noise: torch.Tensor, scale: float, rotation: float, elastic: float) -> torch.Tensor:
    """``x`` [n, ..., H, W] with sample b distorted by the map ``noise[b]`` [H, W] draws (same shape and dtype).

    Every index between the batch and the two spatial dims (channels, time frames) moves alike.
    Integer batches are warped in float32 and rounded back into their dtype's range.
    """
    n, (h, w) = x.shape[0], x.shape[-2:]
    work = x.dtype if x.is_floating_point() else torch.float32
    d_v, d_h = displacement(noise.to(x.device, work), scale, rotation, elastic)
    out = resample(x.reshape(n, -1, h, w).to(work), d_v, d_h).reshape(x.shape)
    if x.is_floating_point():
        return out
    limits = torch.iinfo(x.dtype)
    return out.round().clamp(limits.min, limits.max).to(x.dtype)
