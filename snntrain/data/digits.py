"""``dataset=digits``: scikit-learn's bundled 8x8 handwritten digits (1,797 images, no download)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import torch

from snntrain.core.checks import require
from snntrain.data.base import DataBundle, DatasetConfig, DatasetInfo, Split, stratified_split

INFO = DatasetInfo(input_shape=(1, 8, 8), num_classes=10)


@dataclass
class DigitsConfig(DatasetConfig):
    SPLIT_KEYS: ClassVar[tuple[str, ...]] = ("dataset.test_fraction", "dataset.val_fraction")
    name: str = "digits"
    batch_size: int = 32
    eval_batch_size: int = 512
    test_fraction: float = field(default=0.2, metadata={"help": "share of the images in the fixed, stratified test split (the same for every seed)"})

    def __post_init__(self) -> None:
        super().__post_init__()
        require(0.0 < self.test_fraction < 1.0, "dataset.test_fraction", self.test_fraction, "it must be in (0, 1)")


class Digits:
    def __init__(self, cfg: DigitsConfig, seed: int) -> None:
        self.cfg, self.seed, self.info = cfg, seed, INFO

    def load(self) -> DataBundle:
        from sklearn.datasets import load_digits

        data = load_digits()
        x = torch.tensor(data.images / 16.0, dtype=torch.float32).unsqueeze(1)
        y = torch.tensor(data.target, dtype=torch.long)
        labels = np.asarray(data.target)
        # The test split is fixed (seed 0) so results are comparable across seeds.
        train_idx, test_idx = stratified_split(labels, self.cfg.test_fraction, seed=0)
        fit_idx, val_idx = stratified_split(labels[train_idx], self.cfg.val_fraction, seed=self.seed)
        full = Split(x, y)
        train = full.subset(train_idx)
        return DataBundle(train.subset(fit_idx), train.subset(val_idx) if len(val_idx) else None, full.subset(test_idx), INFO)


def build_digits(cfg: DigitsConfig, seed: int, T: int) -> Digits:
    return Digits(cfg, seed)
