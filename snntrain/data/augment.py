"""``dataset.augment.*``: distortions, random crops, flips, rolls, AutoAugment and Cutout of training
batches, per sample, on the device.

A batch is ``[B, ..., H, W]``: images ``[B, C, H, W]`` or event frames ``[B, T, C, H, W]``. Each
sample gets its own draw, shared by everything between the batch and the two spatial dims (all
channels and all time frames of one sample move together). The enabled transforms apply in the
order distortion (scale, rotation, elastic: HM2-BP's official map, ``warp.py``), crop, flip, roll,
AutoAugment, Cutout, to the batch as stored (CIFAR: uint8, so zeros are black) and before the
dataset's transform to floats; crop, flip and roll are composed into one index per axis and
applied with a single gather, Cutout and the crop's zero border with one mask (two when
AutoAugment comes between them). AutoAugment is torchvision's, one sample at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from snntrain.data.config import AugmentConfig
from snntrain.data.warp import warp


@dataclass
class Draws:
    """Each sample's random choices, one row per sample; ``None`` where that transform is off.

    ``distortion_noise``: the U(-1, 1) field [H, W] that draws the sample's distortion map
    (``warp.displacement``). ``crop_offset``: the (top, left) corner of the crop in the padded image, in [0, 2·padding].
    ``flip``: mirror left-right. ``shift``: torch.roll's (rows, cols) shifts. ``cutout_centre``:
    the (row, col) centre of the zeroed square. ``autoaugment_seed``: the seed of the global CPU
    generator under which torchvision's AutoAugment draws that sample's sub-policy.
    """

    distortion_noise: torch.Tensor | None = None
    crop_offset: torch.Tensor | None = None
    flip: torch.Tensor | None = None
    shift: torch.Tensor | None = None
    cutout_centre: torch.Tensor | None = None
    autoaugment_seed: torch.Tensor | None = None


def draw(cfg: AugmentConfig, n: int, size: tuple[int, int], generator: torch.Generator) -> Draws:
    """Draw ``n`` samples' choices for images of ``size`` (H, W) from ``generator`` (CPU tensors)."""
    draws = Draws()
    if cfg.scale or cfg.rotation or cfg.elastic:
        draws.distortion_noise = torch.rand((n, *size), generator=generator) * 2 - 1
    if cfg.crop_padding:
        draws.crop_offset = torch.randint(0, 2 * cfg.crop_padding + 1, (n, 2), generator=generator)
    if cfg.flip:
        draws.flip = torch.rand(n, generator=generator) < 0.5
    if cfg.roll:
        draws.shift = torch.randint(-cfg.roll, cfg.roll + 1, (n, 2), generator=generator)
    if cfg.cutout:
        draws.cutout_centre = torch.stack([torch.randint(0, s, (n,), generator=generator) for s in size], 1)
    if cfg.autoaugment:
        draws.autoaugment_seed = torch.randint(0, 2**62, (n,), generator=generator)
    return draws


def _source(size: int, n: int, axis: int, draws: Draws, padding: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """For each sample and output position on ``axis`` (0 rows, 1 cols): the input position it reads,
    clamped into range, and whether it lies inside the image (False: the crop's zero border)."""
    src = torch.arange(size, device=device).expand(n, size)
    if draws.shift is not None:  # roll, applied last, is undone first
        src = (src - draws.shift[:, axis, None].to(device)) % size
    if axis == 1 and draws.flip is not None:
        src = torch.where(draws.flip[:, None].to(device), size - 1 - src, src)
    if draws.crop_offset is not None:
        src = src + draws.crop_offset[:, axis, None].to(device) - padding
    return src.clamp(0, size - 1), (src >= 0) & (src < size)


def _cutout_mask(size: tuple[int, int], draws: Draws, side: int, device: torch.device) -> torch.Tensor:
    """[n, H, W]: True inside each sample's square of ``side`` px (rows/cols centre - side//2 onward)."""
    inside = []
    for axis, length in enumerate(size):
        start = draws.cutout_centre[:, axis, None].to(device) - side // 2
        position = torch.arange(length, device=device)
        inside.append((position >= start) & (position < start + side))
    return inside[0][:, :, None] & inside[1][:, None, :]


def autoaugment(x: torch.Tensor, policy: str, seeds: torch.Tensor) -> torch.Tensor:
    """``x`` [B, 3, H, W] with sample ``b`` passed through torchvision's ``AutoAugment(policy)`` while
    the global CPU generator is seeded with ``seeds[b]``; the generator's state is restored afterwards."""
    from torchvision.transforms.v2 import AutoAugment, AutoAugmentPolicy

    transform = AutoAugment(AutoAugmentPolicy(policy))
    out = torch.empty_like(x)
    with torch.random.fork_rng(devices=[]):
        for b, seed in enumerate(seeds.tolist()):
            torch.default_generator.manual_seed(seed)
            out[b] = transform(x[b])
    return out


def _zeroed(out: torch.Tensor, keep: torch.Tensor | None, source: torch.Tensor) -> torch.Tensor:
    """``out`` [n, ..., H·W] zero where ``keep`` [n, H, W] is False (in place unless ``out`` is ``source``)."""
    if keep is None:
        return out
    drop = ~keep.reshape(keep.shape[0], 1, -1)
    return out.masked_fill(drop, 0) if out is source else out.masked_fill_(drop, 0)


def apply(x: torch.Tensor, cfg: AugmentConfig, draws: Draws) -> torch.Tensor:
    """``x`` [B, ..., H, W] transformed per sample by ``draws`` (same shape and dtype, a new tensor)."""
    if draws.distortion_noise is not None:
        x = warp(x, draws.distortion_noise, cfg.scale, cfg.rotation, cfg.elastic)
    n, (h, w) = x.shape[0], x.shape[-2:]
    flat = x.reshape(n, -1, h * w)
    out, border = flat, None
    if draws.crop_offset is not None or draws.flip is not None or draws.shift is not None:
        rows, rows_in = _source(h, n, 0, draws, cfg.crop_padding, x.device)
        cols, cols_in = _source(w, n, 1, draws, cfg.crop_padding, x.device)
        index = (rows[:, :, None] * w + cols[:, None, :]).reshape(n, 1, h * w)
        out = torch.gather(flat, 2, index.expand(-1, flat.shape[1], -1))
        if draws.crop_offset is not None:
            border = rows_in[:, :, None] & cols_in[:, None, :]
    if draws.autoaugment_seed is not None:  # sees the crop's black border, not Cutout's square
        out = _zeroed(out, border, flat).reshape(x.shape)
        out, border = autoaugment(out, cfg.autoaugment, draws.autoaugment_seed).reshape(n, -1, h * w), None
    keep = border
    if draws.cutout_centre is not None:
        hole = _cutout_mask((h, w), draws, cfg.cutout, x.device)
        keep = ~hole if keep is None else keep & ~hole
    out = _zeroed(out, keep, flat)
    return out.reshape(x.shape) if out is not flat else x.clone()


def augment(x: torch.Tensor, cfg: AugmentConfig, generator: torch.Generator) -> torch.Tensor:
    """``x`` [B, ..., H, W] with each sample augmented by its own draw from ``generator``; ``x`` itself
    when nothing is enabled. The draw of a sample is the same for every index between B and H."""
    if not cfg.enabled():
        return x
    return apply(x, cfg, draw(cfg, x.shape[0], tuple(x.shape[-2:]), generator))


def batch_generator(seed: int, epoch: int, batch: int, rank: int) -> torch.Generator:
    """A CPU generator that depends only on (seed, epoch, batch number, rank): a resumed run draws
    what an uninterrupted one would, and data-parallel ranks draw differently."""
    state = np.random.SeedSequence([seed % 2**64, epoch, batch, rank]).generate_state(1, np.uint64)[0]
    return torch.Generator().manual_seed(int(state))
