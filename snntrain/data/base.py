"""What a dataset provides to the trainer, and the batch loader over array splits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import numpy as np
import torch

from snntrain.config.checks import in_unit_interval, one_of, require
from snntrain.data.augment import AugmentConfig
from snntrain.errors import DatasetError


@dataclass
class DatasetConfig:
    """Keys shared by every ``dataset=...`` option. ``ENCODERS``: the encoders its samples suit;
    ``SPLIT_KEYS``: the keys that decide how many samples each split gets."""

    ENCODERS: ClassVar[tuple[str, ...]] = ("direct", "poisson")
    SPLIT_KEYS: ClassVar[tuple[str, ...]] = ("dataset.root", "dataset.val_fraction")

    name: str = ""
    root: str = "data"
    download: bool = False
    batch_size: int = 64
    eval_batch_size: int = 256
    val_fraction: float = 0.1
    encoder: str = "direct"
    poisson_scale: float = 1.0
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    def __post_init__(self) -> None:
        require(self.batch_size > 0, "dataset.batch_size", self.batch_size, "it must be > 0")
        require(self.eval_batch_size > 0, "dataset.eval_batch_size", self.eval_batch_size, "it must be > 0")
        require(0.0 <= self.val_fraction < 1.0, "dataset.val_fraction", self.val_fraction, "it must be in [0, 1)")
        one_of("dataset.encoder", self.encoder, self.ENCODERS)
        in_unit_interval("dataset.poisson_scale", self.poisson_scale)
        require(
            self.encoder == "poisson" or self.poisson_scale == DatasetConfig.poisson_scale, "dataset.poisson_scale", self.poisson_scale,
            f"it scales the poisson encoder's spike probability, and dataset.encoder={self.encoder}; "
            f"set dataset.encoder=poisson, or leave it at {DatasetConfig.poisson_scale}",
        )


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


class BatchLoader:
    """Yields ``(x, y)`` batches of a split, read with one fancy-index per batch.

    Shuffling is a permutation drawn from ``seed + epoch`` (``set_epoch``), so an interrupted
    and resumed run sees the same order. With ``world_size > 1`` each rank takes every
    ``world_size``-th sample of each global batch of the same permutation (the global batch is
    rank-independent). ``equal_steps`` (training, where every step is a collective) drops a last
    global batch too small to give every rank a sample, so all ranks take the same number of steps.
    """

    def __init__(self, split: Split, batch_size: int, shuffle: bool, seed: int = 0, rank: int = 0, world_size: int = 1, limit: int | None = None, equal_steps: bool = False) -> None:
        self.split, self.batch_size, self.shuffle, self.seed = split, batch_size, shuffle, seed
        self.rank, self.world_size, self.limit = rank, world_size, limit
        self.min_batch = world_size if equal_steps else 1
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Shuffle for ``epoch``; inputs with random per-epoch views (``set_epoch`` of their own) follow it."""
        self.epoch = epoch
        if hasattr(self.split.x, "set_epoch"):
            self.split.x.set_epoch(epoch)

    def _batches(self) -> list[np.ndarray]:
        n = len(self.split)
        if self.shuffle:
            order = np.random.default_rng(self.seed + self.epoch).permutation(n)
        else:
            order = np.arange(n)
        global_batch = self.batch_size * self.world_size
        batches = [order[i : i + global_batch] for i in range(0, n, global_batch)]
        mine = [b[self.rank :: self.world_size] for b in batches if len(b) >= self.min_batch]
        mine = [b for b in mine if len(b)]
        return mine[: self.limit] if self.limit else mine

    def __len__(self) -> int:
        n, global_batch = len(self.split), self.batch_size * self.world_size
        n_batches = n // global_batch + (n % global_batch >= self.min_batch)
        return min(n_batches, self.limit) if self.limit else n_batches

    def __iter__(self):
        return self.batches()

    def batches(self, start: int = 0):
        """Iterate from batch number ``start`` of this epoch (resuming a partial epoch)."""
        for index in self._batches()[start:]:
            index = np.sort(index)  # sorted reads are sequential on a memory-mapped cache
            x = self.split.x[index]
            yield torch.as_tensor(x), self.split.y[torch.from_numpy(index)]


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
