"""Batches of a split through ``torch.utils.data.DataLoader``: read ahead, pinned, resumable.

The order is the one snntrain has always used: shuffling is a permutation drawn from
``seed + epoch``, and with ``world_size > 1`` rank r takes every ``world_size``-th sample of each
global batch of that permutation (the global batch is rank-independent). ``EpochBatches`` (the
sampler, with ``set_epoch`` like ``DistributedSampler``) yields, for one rank, each batch's sorted
sample indices (sorted reads are sequential on a memory-mapped cache) tagged with its epoch and
number, from any batch number on, so a resumed epoch continues exactly. ``SplitBatches`` (the
dataset) reads a batch with one fancy index and, for training, applies ``dataset.augment.*`` with
draws fixed by (seed, epoch, batch number, rank): a batch is the same whichever process reads it.

``DataLoader`` runs them with automatic batching off (``batch_size=None``: each sampler item is a
whole batch). With ``workers > 0`` that many processes read and augment ahead of the step
(``prefetch_factor`` batches each), kept across epochs; with 0 the training process reads each
batch when it needs it, the fast path for sets held in memory (digits, MNIST, CIFAR, cached event
frames), where there is nothing to overlap but augmentation. ``pin_memory`` (the trainer sets it
on CUDA) pins each batch, so its copy to the device does not block the host.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from snntrain.data.augment import augment, batch_generator
from snntrain.data.base import Split
from snntrain.data.config import AugmentConfig

BatchRef = tuple[int, int, np.ndarray]
"""(epoch, batch number in the epoch, sorted sample indices of this rank)."""


class EpochBatches(Sampler[BatchRef]):
    """One rank's batches of an epoch in the seeded order, from batch ``start`` on.

    ``equal_steps`` (training, where every step is a collective) drops a last global batch too small
    to give every rank a sample, so all ranks take the same number of steps.
    """

    def __init__(self, n: int, batch_size: int, shuffle: bool, seed: int, rank: int, world_size: int, limit: int | None, equal_steps: bool) -> None:
        self.n, self.batch_size, self.shuffle, self.seed = n, batch_size, shuffle, seed
        self.rank, self.world_size, self.limit = rank, world_size, limit
        self.min_batch = world_size if equal_steps else 1
        self.epoch = self.start = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def indices(self) -> list[np.ndarray]:
        """This rank's unsorted sample indices of every batch of the epoch."""
        order = np.random.default_rng(self.seed + self.epoch).permutation(self.n) if self.shuffle else np.arange(self.n)
        global_batch = self.batch_size * self.world_size
        batches = [order[i : i + global_batch] for i in range(0, self.n, global_batch)]
        mine = [b[self.rank :: self.world_size] for b in batches if len(b) >= self.min_batch]
        mine = [b for b in mine if len(b)]
        return mine[: self.limit] if self.limit else mine

    def split_length(self) -> int:
        """Batches the whole split makes, ``limit`` aside."""
        global_batch = self.batch_size * self.world_size
        return self.n // global_batch + (self.n % global_batch >= self.min_batch)

    def epoch_length(self) -> int:
        """Batches in a whole epoch (whatever ``start`` is)."""
        return min(self.split_length(), self.limit) if self.limit else self.split_length()

    def __iter__(self) -> Iterator[BatchRef]:
        for number, index in enumerate(self.indices()[self.start :], self.start):
            yield self.epoch, number, np.sort(index)

    def __len__(self) -> int:
        return max(self.epoch_length() - self.start, 0)


class SplitBatches(Dataset):
    """``dataset[(epoch, number, indices)]`` is the ``(x, y)`` batch of those samples, augmented as
    ``augmentation`` says (training) with the draws of (seed, epoch, number, rank)."""

    def __init__(self, split: Split, augmentation: AugmentConfig | None, seed: int, rank: int) -> None:
        self.split, self.augmentation, self.seed, self.rank = split, augmentation, seed, rank

    def __len__(self) -> int:
        return len(self.split)

    def __getitem__(self, ref: BatchRef) -> tuple[torch.Tensor, torch.Tensor]:
        epoch, number, index = ref
        if hasattr(self.split.x, "set_epoch"):  # inputs with per-epoch random views (ImageNet's crops)
            self.split.x.set_epoch(epoch)
        x, y = torch.as_tensor(self.split.x[index]), self.split.y[torch.from_numpy(index)]
        if self.augmentation is not None and self.augmentation.enabled():
            x = augment(x, self.augmentation, batch_generator(self.seed, epoch, number, self.rank))
        return x, y


class BatchLoader:
    """Yields the ``(x, y)`` batches of ``split`` (see the module docstring); ``set_epoch`` before each
    epoch, ``batches(start)`` to resume one. ``augmentation``: training batches only."""

    def __init__(
        self, split: Split, batch_size: int, shuffle: bool, seed: int = 0, rank: int = 0, world_size: int = 1,
        limit: int | None = None, equal_steps: bool = False, augmentation: AugmentConfig | None = None,
        workers: int = 0, pin_memory: bool = False,
    ) -> None:
        self.sampler = EpochBatches(len(split), batch_size, shuffle, seed, rank, world_size, limit, equal_steps)
        self.loader = DataLoader(
            SplitBatches(split, augmentation, seed, rank), batch_size=None, sampler=self.sampler, num_workers=workers,
            pin_memory=pin_memory, persistent_workers=workers > 0,
            # DataLoader draws its workers' base seed from this generator: a private one leaves
            # torch's global stream (Poisson encoding, dropout) as the old loader left it.
            generator=torch.Generator(),
        )

    def set_epoch(self, epoch: int) -> None:
        self.sampler.set_epoch(epoch)

    def __len__(self) -> int:
        return self.sampler.epoch_length()

    def split_length(self) -> int:
        """Batches the whole split makes; more than ``len(self)`` when ``limit`` cuts epochs short."""
        return self.sampler.split_length()

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        return self.batches()

    def batches(self, start: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Iterate from batch number ``start`` of this epoch (resuming a partial epoch)."""
        self.sampler.start = start
        return iter(self.loader)
