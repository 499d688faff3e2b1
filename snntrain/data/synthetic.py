"""``dataset=synthetic``: random inputs of any shape, for smoke runs of rows whose data is absent.

Inputs lie in [0, 1] (valid for the direct and Poisson encoders): half uniform noise, half a fixed
pattern per class, so the classes differ. Everything follows from the seed. ``dataset.normalize``
(with a row's ``dataset.mean``/``std``, or the set's own: mean 0.5, std √(1/24) per element) lets it
stand in for an image set that is normalised.
"""

from __future__ import annotations

import numpy as np
import torch

from snntrain.data.base import DataBundle, DatasetInfo, Split
from snntrain.data.config import SyntheticConfig
from snntrain.data.vision import float_normalisation

OWN_MEAN, OWN_STD = 0.5, (1 / 24) ** 0.5  # of 0.5·U(0, 1) + 0.5·U(0, 1)


class Synthetic:
    def __init__(self, cfg: SyntheticConfig, seed: int) -> None:
        self.cfg, self.seed = cfg, seed
        self.info = DatasetInfo(input_shape=tuple(cfg.input_shape), num_classes=cfg.num_classes)
        channels = cfg.input_shape[0]
        self.normalisation = float_normalisation(cfg, ((OWN_MEAN,) * channels, (OWN_STD,) * channels))

    def pattern(self, label: int) -> np.ndarray:
        """Class ``label``'s fixed pattern, from its own generator: made only for the classes drawn
        (a 1,000-class stand-in at 224 x 224 would otherwise hold 1,000 patterns)."""
        return np.random.default_rng([self.seed, label]).random(tuple(self.cfg.input_shape), dtype=np.float32)

    def _split(self, rng: np.random.Generator, n: int) -> Split:
        y = rng.integers(0, self.cfg.num_classes, n)
        x = 0.5 * rng.random((n, *self.cfg.input_shape), dtype=np.float32)
        for label in np.unique(y).tolist():
            x[y == label] += 0.5 * self.pattern(label)
        return Split(torch.from_numpy(x), torch.from_numpy(y.astype(np.int64)))

    def load(self) -> DataBundle:
        rng = np.random.default_rng(self.seed)
        train = self._split(rng, self.cfg.train_size)
        n_val = round(self.cfg.val_fraction * self.cfg.train_size)
        val = train.subset(np.arange(n_val)) if n_val else None
        return DataBundle(train.subset(np.arange(n_val, self.cfg.train_size)), val, self._split(rng, self.cfg.test_size), self.info, self.normalisation)


def build_synthetic(cfg: SyntheticConfig, seed: int, T: int) -> Synthetic:
    return Synthetic(cfg, seed)
