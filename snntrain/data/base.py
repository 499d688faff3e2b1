"""What a dataset provides to the trainer (the batch loader over its splits is ``data/loading.py``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import numpy as np
import torch

from snntrain.core.checks import in_unit_interval, one_of, require
from snntrain.core.errors import DatasetError
from snntrain.data.augment import AugmentConfig


@dataclass
class DatasetConfig:
    """Keys shared by every ``dataset=...`` option. ``ENCODERS``: the encoders its samples suit;
    ``SPLIT_KEYS``: the keys that decide how many samples each split gets."""

    ENCODERS: ClassVar[tuple[str, ...]] = ("direct", "poisson")
    SPLIT_KEYS: ClassVar[tuple[str, ...]] = ("dataset.root", "dataset.val_fraction")

    name: str = field(default="", metadata={"help": "the option's name (dataset=<name> selects it)"})
    root: str = field(default="data", metadata={"help": "folder holding the data (digits, synthetic: unused)"})
    download: bool = field(default=False, metadata={"help": "fetch the files into root when they are absent (torchvision; Tonic for event data, MD5-checked); not ImageNet"})
    batch_size: int = field(default=64, metadata={"help": "training samples per batch (per process under torchrun)"})
    eval_batch_size: int = field(default=256, metadata={"help": "samples per evaluation batch (validation and test)"})
    val_fraction: float = field(default=0.1, metadata={"help": "share of the training split held out, stratified, to select best.pt; 0: none (best.pt is then selected on test, labelled so)"})
    encoder: str = field(default="direct", metadata={"help": "direct (analog input every step) | poisson (Bernoulli spikes)"})
    poisson_scale: float = field(default=1.0, metadata={"help": "encoder=poisson only: spike probability per step = poisson_scale × pixel (HM2-BP: pixel/(5.5*255) is 0.1818)"})
    augment: AugmentConfig = field(default_factory=AugmentConfig, metadata={"help": (
        "training batches only (evaluation never augments); each sample its own draw (event frames: the same for all "
        "T), in the loader, on the batch as stored (uint8 images: before normalisation, so the zeros of crop_padding "
        "and cutout are black)"
    )})
    loader_workers: int = field(default=0, metadata={"help": "processes that read (and augment) batches ahead of the step; 0: in the training process"})

    def __post_init__(self) -> None:
        require(self.loader_workers >= 0, "dataset.loader_workers", self.loader_workers, "it must be >= 0 (0 reads in the training process)")
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
