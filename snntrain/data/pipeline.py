"""The input path of a run as one object: stored batch -> augment -> transform -> encode -> model input.

``InputPipeline`` holds the loaders (training batches are augmented in the loader, with draws fixed
by seed, epoch, batch and rank) and turns a loaded batch into the model's time-major input: on the
device, through the dataset's transform if it has one, then the encoder. The trainer reads batches
from it and knows nothing of datasets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from snntrain.core.errors import SnntrainError
from snntrain.data.base import DataBundle
from snntrain.data.config import DatasetConfig
from snntrain.data.encoders import ENCODERS
from snntrain.data.loading import BatchLoader


@dataclass
class InputPipeline:
    train: BatchLoader
    evaluation: dict[str, BatchLoader]
    """``val`` (when the dataset has a validation split) and ``test``."""
    T: int
    encode: Callable[[torch.Tensor, int, float], torch.Tensor]
    poisson_scale: float = 1.0
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None

    def inputs(self, x: torch.Tensor, device: torch.device) -> torch.Tensor:
        """A loaded batch [B, ...] as the model's time-major input [T, B, ...] on ``device``."""
        x = x.to(device, non_blocking=True)
        if self.transform is not None:
            x = self.transform(x)
        return self.encode(x, self.T, self.poisson_scale)

    @property
    def has_val(self) -> bool:
        return "val" in self.evaluation

    def partial_splits(self) -> dict[str, list[int]]:
        """The splits whose epochs the batch limits cut short: name -> [batches per epoch, batches in the split]."""
        loaders = {"train": self.train, **self.evaluation}
        return {name: [len(loader), loader.split_length()] for name, loader in loaders.items() if len(loader) < loader.split_length()}


def input_pipeline(
    data: DataBundle, cfg: DatasetConfig, T: int, seed: int = 0, rank: int = 0, world_size: int = 1,
    limit_batches: int | None = None, limit_eval_batches: int | None = None, pin_memory: bool = False,
) -> InputPipeline:
    """The pipeline of ``data`` as ``dataset.*`` (``cfg``) configures it, for this rank of ``world_size``.

    An SnntrainError when the training split cannot give every rank one step (every step is a
    collective, so a split smaller than the ranks gives none)."""
    train = BatchLoader(
        data.train, cfg.batch_size, True, seed, rank, world_size, limit_batches, equal_steps=True,
        augmentation=cfg.augment, workers=cfg.loader_workers, pin_memory=pin_memory,
    )
    if len(train) == 0:
        raise SnntrainError(
            f"no training step: the training split's {len(data.train)} samples cannot give each of the {world_size} "
            "processes one; train on more data (dataset.val_fraction and the split keys) or start fewer processes."
        )
    evaluation = {
        name: BatchLoader(split, cfg.eval_batch_size, False, 0, rank, world_size, limit_eval_batches, workers=cfg.loader_workers, pin_memory=pin_memory)
        for name, split in (("val", data.val), ("test", data.test)) if split is not None
    }
    return InputPipeline(train, evaluation, T, ENCODERS[cfg.encoder], cfg.poisson_scale, data.transform)
