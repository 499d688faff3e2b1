"""Test helper: write a miniature ImageNet tree ``root/<split>/<wnid>/*.JPEG`` of generated images.

Also used by the ImageNet loader benchmark (``scripts/bench.py imagenet``) to make 500x375 JPEGs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def wnids(n: int) -> list[str]:
    """``n`` wnid-like folder names in sorted order (label i is the i-th)."""
    return [f"n{1440764 + 1000 * i:08d}" for i in range(n)]


def write_tree(root: Path, per_class: dict[str, int], classes: list[str], size: tuple[int, int] | None = None, seed: int = 0) -> None:
    """``per_class[split]`` JPEGs per class under ``root/<split>/<wnid>/``.

    ``size=(width, height)``: every image that size, smooth colour fields plus noise (compressing
    like a photograph, ~100 KB at 500x375); ``None``: random noise of random sizes from 20 to 59 px.
    """
    rng = np.random.default_rng(seed)
    for split, count in per_class.items():
        for wnid in classes:
            folder = root / split / wnid
            folder.mkdir(parents=True)
            for i in range(count):
                image(rng, size).save(folder / f"{wnid}_{i}.JPEG", quality=90)


def image(rng: np.random.Generator, size: tuple[int, int] | None) -> Image.Image:
    if size is None:
        height, width = rng.integers(20, 60, 2)
        return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))
    coarse = Image.fromarray(rng.integers(0, 256, (size[1] // 16, size[0] // 16, 3), dtype=np.uint8)).resize(size, Image.BICUBIC)
    noise = rng.normal(0, 12, (size[1], size[0], 3))
    return Image.fromarray(np.clip(np.asarray(coarse) + noise, 0, 255).astype(np.uint8))
