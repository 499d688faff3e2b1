"""``dataset=cifar10_dvs``: CIFAR10-DVS (Li et al. 2017), 10,000 CIFAR-10 images moved in front of a DVS128.

``dataset.root`` holds one folder per class (``airplane/`` ... ``truck/``) of recordings, either
the original AEDAT 2.0 ``.aedat`` files or Tonic's ``.aedat4`` copies, directly or under
``CIFAR10DVS/`` (Tonic's layout); or the per-class archives (``airplane.zip`` ...) or Tonic's
``CIFAR10DVS.zip``, which are extracted on first use; or set ``dataset.download=true`` (Tonic's
copy, MD5-checked). There is no official test split: the first ``train_fraction`` of each class
(in file-name order, numbers compared as numbers) is the training split, the rest the test split
(1,000 recordings per class: 900 / 100, as SpikingJelly's ``split_to_train_test_set(0.9, ...)``).

Frames follow the rate-BP recipe: T=10 bins of equal event counts, 2 polarities, the 128 x 128
sensor binned down to ``size`` x ``size`` (48). They are cached like N-MNIST's.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from snntrain.core.errors import DatasetError
from snntrain.data.base import DatasetInfo
from snntrain.data.events import archive
from snntrain.data.events.aedat import read_recording
from snntrain.data.events.config import (
    SENSOR_SIZE,
    CIFAR10DVSConfig,
)
from snntrain.data.events.dataset import EventDataset, Listing, class_recordings
from snntrain.data.events.framing import FrameSpec

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
SUFFIXES = (".aedat", ".aedat4")
TONIC_FOLDER = "CIFAR10DVS"
WHERE_FROM = (
    "The original recordings are at https://figshare.com/articles/dataset/CIFAR10-DVS_New/4724671 (one zip "
    "per class: put them in dataset.root); Tonic's copy (CIFAR10DVS.zip, AEDAT 4) is fetched with "
    "dataset.download=true."
)


def split_per_class(labels: np.ndarray, fraction: float, train: bool) -> np.ndarray:
    """Indices of the first ``fraction`` of each class (``train``) or of the rest, in their order.

    A class of two or more recordings puts at least one in each split.
    """
    chosen = []
    for c in np.unique(labels):
        index = np.flatnonzero(labels == c)
        cut = min(max(round(fraction * len(index)), 1), len(index) - 1) if len(index) > 1 else len(index)
        chosen.append(index[:cut] if train else index[cut:])
    return np.concatenate(chosen) if chosen else np.zeros(0, np.int64)


class CIFAR10DVS(EventDataset):
    """Frames of CIFAR10-DVS for ``T`` time steps, from the cache (built on first use)."""

    read = staticmethod(read_recording)

    def __init__(self, cfg: CIFAR10DVSConfig, seed: int, T: int) -> None:
        sensor, size = (SENSOR_SIZE, SENSOR_SIZE), (cfg.size, cfg.size)
        super().__init__(cfg, seed, FrameSpec.from_config(cfg.framing, T, False, sensor, size))
        self.info = DatasetInfo(input_shape=(2, cfg.size, cfg.size), num_classes=len(CLASSES))

    def folder(self) -> Path | None:
        """The folder holding the class folders: ``root`` or Tonic's ``root/CIFAR10DVS``; None if neither does."""
        for folder in (self.root, self.root / TONIC_FOLDER):
            if any((folder / name).is_dir() for name in CLASSES):
                return folder
        return None

    def recordings(self, name: str) -> Listing | None:
        folder = self.folder()
        if folder is None:
            return None
        files, labels = class_recordings(folder, CLASSES, SUFFIXES, False, WHERE_FROM)
        chosen = split_per_class(labels, self.cfg.train_fraction, name == "train")
        return [files[i] for i in chosen], labels[chosen]

    def class_archives(self) -> list[Path]:
        """The per-class archives ``root/<class>.zip`` that are on disk."""
        return [self.root / f"{c}.zip" for c in CLASSES if (self.root / f"{c}.zip").is_file()]

    def obtain(self, name: str) -> None:
        """Extract the class archives (from Tonic's CIFAR10DVS.zip first, downloading it if allowed)."""
        if not self.class_archives():
            outer = self.root / "CIFAR10DVS.zip"
            if not outer.is_file() and self.cfg.download:
                from tonic.datasets import CIFAR10DVS as Tonic

                outer = archive.download(Tonic.url, self.root, Tonic.filename, Tonic.file_md5, "cifar10_dvs")
            if outer.is_file():
                archive.extract_named(outer, {f"{c}.zip" for c in CLASSES}, self.root)
        if not self.class_archives():
            raise DatasetError(
                f"dataset=cifar10_dvs: no recordings under {self.root}. Expected {self.root}/<class>/*.aedat "
                f"(or *.aedat4, or under {self.root}/{TONIC_FOLDER}/) for the classes {', '.join(CLASSES)}, "
                f"or their archives airplane.zip ... truck.zip, or CIFAR10DVS.zip, in {self.root}. {WHERE_FROM}"
            )
        for path in self.class_archives():
            archive.extract_folder(path, path.stem, self.root)


def build_cifar10_dvs(cfg: CIFAR10DVSConfig, seed: int, T: int) -> CIFAR10DVS:
    return CIFAR10DVS(cfg, seed, T)
