"""Test helper: miniature dataset roots in each dataset's real on-disk layout, so that a paper row
runs through its own loader (IDX files, CIFAR pickles, N-MNIST ``.bin``, CIFAR10-DVS ``.aedat``,
an ImageNet JPEG tree) without the real data. Random content; a handful of samples per class."""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path

import numpy as np

from snntrain.data.events.nmnist_writer import write_root
from tests.data.dvs_writer import write_dataset
from tests.data.imagenet_writer import wnids, write_tree

IMAGENET_CLASSES = 4


def write_idx(path: Path, array: np.ndarray) -> None:
    """``array`` (uint8) as a gzipped IDX file, the MNIST format."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    path.write_bytes(gzip.compress(header + array.tobytes()))


def idx_root(root: Path, per_class: int, rng: np.random.Generator) -> None:
    raw = root / "raw"
    raw.mkdir(parents=True)
    for split, n in (("train", 3 * per_class), ("t10k", per_class)):
        labels = np.arange(10 * n, dtype=np.uint8) % 10
        write_idx(raw / f"{split}-images-idx3-ubyte.gz", rng.integers(0, 256, (len(labels), 28, 28), dtype=np.uint8))
        write_idx(raw / f"{split}-labels-idx1-ubyte.gz", labels)


def cifar_root(root: Path, classes: int, per_class: int, rng: np.random.Generator) -> None:
    """torchvision's pickle layout (its checksums are those of the real files: the caller switches the check off)."""
    def batch(n: int, label_key: str) -> bytes:
        labels = [i % classes for i in range(n)]
        return pickle.dumps({"data": rng.integers(0, 256, (n, 3 * 32 * 32), dtype=np.uint8), label_key: labels})

    if classes == 10:
        folder = root / "cifar-10-batches-py"
        folder.mkdir(parents=True)
        for name in [f"data_batch_{i}" for i in range(1, 6)]:
            (folder / name).write_bytes(batch(2 * per_class, "labels"))
        (folder / "test_batch").write_bytes(batch(10 * per_class, "labels"))
        (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": [str(c) for c in range(10)]}))
    else:
        folder = root / "cifar-100-python"
        folder.mkdir(parents=True)
        (folder / "train").write_bytes(batch(3 * classes * per_class, "fine_labels"))
        (folder / "test").write_bytes(batch(classes * per_class, "fine_labels"))
        (folder / "meta").write_bytes(pickle.dumps({"fine_label_names": [str(c) for c in range(classes)]}))


def materialize(dataset: str, root: Path) -> list[str]:
    """Write a miniature root for ``dataset`` under ``root``; the overrides that point the run at it.

    CIFAR needs torchvision's checksum check switched off by the caller
    (``torchvision.datasets.cifar.check_integrity``), because the pickles are not the real ones.
    """
    rng = np.random.default_rng(0)
    overrides = [f"dataset.root={root}"]
    if dataset in ("mnist", "fashion_mnist"):
        idx_root(root, 2, rng)
    elif dataset in ("cifar10", "cifar100"):
        cifar_root(root, 10 if dataset == "cifar10" else 100, 1, rng)
    elif dataset == "nmnist":
        write_root(root, files_per_class=3)
        overrides += ["dataset.workers=1", "dataset.progress=false"]
    elif dataset == "cifar10_dvs":
        write_dataset(root, 10, rng, n_events=400)
        overrides += ["dataset.workers=1", "dataset.progress=false"]
    elif dataset == "imagenet":
        write_tree(root, {"train": 3, "val": 1}, wnids(IMAGENET_CLASSES))
        overrides += [f"dataset.num_classes={IMAGENET_CLASSES}", "dataset.workers=1"]
    elif dataset not in ("digits", "synthetic"):
        raise ValueError(f"no miniature root for dataset={dataset}")
    else:
        overrides = []
    return overrides
