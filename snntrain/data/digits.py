"""``dataset=digits``: scikit-learn's bundled 8x8 handwritten digits (1,797 images, no download)."""

from __future__ import annotations

import numpy as np
import torch

from snntrain.data.base import DataBundle, DatasetInfo, Split, stratified_split
from snntrain.data.config import DigitsConfig

INFO = DatasetInfo(input_shape=(1, 8, 8), num_classes=10)


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
