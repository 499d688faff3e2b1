"""What a dataset provides to the trainer (the batch loader over its splits is ``data/loading.py``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch

from snntrain.core.errors import DatasetError
from snntrain.data.config import DatasetConfig


@dataclass(frozen=True)
class DatasetInfo:
    """Known before any file is read: lets models be built (and configs fail) before loading."""

    input_shape: tuple[int, ...]
    num_classes: int


class ArrayLike(Protocol):
    def __getitem__(self, index: Any) -> Any: ...
    def __len__(self) -> int: ...


@dataclass
class Split:
    """Inputs indexable by an integer array (tensor, ndarray or memmap) and integer labels."""

    x: ArrayLike
    y: torch.Tensor

    def __len__(self) -> int:
        return len(self.y)

    def subset(self, index: np.ndarray) -> Split:
        """The rows ``index``: copied for in-memory tensors, a lazy view over anything else."""
        index = np.asarray(index)
        x = self.x[torch.from_numpy(index)] if isinstance(self.x, torch.Tensor) else IndexedView(self.x, index)
        return Split(x, self.y[torch.from_numpy(index)])


class IndexedView:
    """A lazy row subset of an array, so a memory-mapped cache is not copied by a split."""

    def __init__(self, base: ArrayLike, index: np.ndarray) -> None:
        self.base, self.index = base, np.asarray(index)

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i):
        return self.base[self.index[i]]


@dataclass
class DataBundle:
    """The three splits, what is known of their samples, and what turns a stored batch into model input.

    ``transform``: applied by the trainer to every batch on the device, after training-batch
    augmentation and before the encoder (e.g. CIFAR's uint8 images to normalised floats, so that
    augmentation fills with black as torchvision does); ``None``: batches reach the encoder as stored.
    """

    train: Split
    val: Split | None
    test: Split
    info: DatasetInfo
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None


def require_samples(data: DataBundle, cfg: DatasetConfig) -> None:
    """DatasetError unless the training and test splits, and the validation split if there is one,
    hold samples: an empty split would train on nothing, or score on nothing, and report success."""
    sizes = {"training": len(data.train), **({"validation": len(data.val)} if data.val is not None else {}), "test": len(data.test)}
    empty = [name for name, n in sizes.items() if n == 0]
    if empty:
        raise DatasetError(
            f"dataset={cfg.name}: the {' and '.join(empty)} split{'s are' if len(empty) > 1 else ' is'} empty "
            f"({', '.join(f'{name} {n}' for name, n in sizes.items())} samples). Change {', '.join(cfg.SPLIT_KEYS)}."
        )


def stratified_split(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic stratified split: returns (kept, held-out) index arrays."""
    if fraction <= 0:
        return np.arange(len(labels)), np.array([], dtype=np.int64)
    rng = np.random.default_rng(seed)
    held = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        idx = idx[rng.permutation(len(idx))]
        held.append(idx[: max(1, round(fraction * len(idx)))])
    held_out = np.sort(np.concatenate(held))
    kept = np.setdiff1d(np.arange(len(labels)), held_out)
    return kept, held_out
