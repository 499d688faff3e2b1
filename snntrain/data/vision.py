"""``dataset=mnist|fashion_mnist|cifar10|cifar100`` through torchvision's files and downloaders.

MNIST-style sets are read straight from their IDX files (``.gz`` or unpacked), so a read-only
copy of the raw files works; CIFAR-10 and CIFAR-100 are read by torchvision and kept as uint8, with
a per-batch transform to (normalised) floats that the trainer applies after augmentation. Missing
files give an error that names the folder, the files and the command that downloads them.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from snntrain.core.errors import DatasetError
from snntrain.data.base import DataBundle, DatasetInfo, Split, stratified_split
from snntrain.data.config import (
    CIFAR10Config,
    CIFAR100Config,
    FashionMNISTConfig,
    ImagesConfig,
    MNISTConfig,
    Statistics,
)

IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (optionally gzipped) into an ndarray; DatasetError names a damaged file."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
        magic = int.from_bytes(data[:4], "big")
        ndim = magic & 0xFF
        if magic >> 8 != 0x08 or not 1 <= ndim <= 4:
            raise ValueError(f"bad magic number {magic:#x}")
        dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
        return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)
    except (OSError, ValueError, EOFError) as err:
        raise DatasetError(f"{path} is not a readable IDX file ({err}). Delete it and download again.") from None


def find_idx(root: Path, folder: str, stem: str) -> Path | None:
    for directory in (root / folder / "raw", root / "raw", root):
        for name in (stem, stem + ".gz"):
            if (directory / name).is_file():
                return directory / name
    return None


MNIST_STATISTICS: Statistics = ((0.1307,), (0.3081,))
FASHION_MNIST_STATISTICS: Statistics = ((0.2860,), (0.3530,))


class IDXDataset:
    """MNIST and Fashion-MNIST: 28x28 grey images in [0, 1], 10 classes; with ``dataset.normalize``
    the bundle's transform normalises each batch after augmentation (``own``: the set's statistics)."""

    info = DatasetInfo(input_shape=(1, 28, 28), num_classes=10)

    def __init__(self, cfg: ImagesConfig, seed: int, folder: str, tv_class: str, own: Statistics = MNIST_STATISTICS) -> None:
        self.cfg, self.seed, self.folder, self.tv_class = cfg, seed, folder, tv_class
        self.normalisation = float_normalisation(cfg, own)  # a configuration error surfaces before any file is read

    def read_split(self, split: str) -> Split:
        root = Path(self.cfg.root).expanduser()
        paths = [find_idx(root, self.folder, stem) for stem in IDX_FILES[split]]
        if None in paths and self.cfg.download:
            self._download(root)
            paths = [find_idx(root, self.folder, stem) for stem in IDX_FILES[split]]
        if None in paths:
            raise DatasetError(
                f"dataset={self.cfg.name}: {', '.join(IDX_FILES[split])} (or .gz) not found under "
                f"{root / self.folder / 'raw'} or {root / 'raw'}. Download them with "
                f"`snntrain dataset={self.cfg.name} dataset.root={root} dataset.download=true`, "
                "or point dataset.root at a folder that has them."
            )
        images, labels = (read_idx(p) for p in paths)
        if len(images) != len(labels):
            raise DatasetError(f"{paths[0]} has {len(images)} images but {paths[1]} has {len(labels)} labels.")
        x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
        return Split(x, torch.from_numpy(labels.astype(np.int64)))

    def _download(self, root: Path) -> None:
        import torchvision

        try:
            getattr(torchvision.datasets, self.tv_class)(str(root), train=True, download=True)
            getattr(torchvision.datasets, self.tv_class)(str(root), train=False, download=True)
        except Exception as err:  # network errors come in many types
            raise DatasetError(f"dataset={self.cfg.name}: download into {root} failed ({err}).") from None

    def load(self) -> DataBundle:
        train, test = self.read_split("train"), self.read_split("test")
        return with_validation(train, test, self.cfg.val_fraction, self.seed, self.info, self.normalisation)


def with_validation(train: Split, test: Split, val_fraction: float, seed: int, info: DatasetInfo, transform: Callable[[torch.Tensor], torch.Tensor] | None = None) -> DataBundle:
    """Hold out a stratified ``val_fraction`` of the training split for model selection; ``transform``: the bundle's."""
    fit_idx, val_idx = stratified_split(train.y.numpy(), val_fraction, seed)
    val = train.subset(val_idx) if len(val_idx) else None
    return DataBundle(train.subset(fit_idx), val, test, info, transform)


@dataclass(frozen=True)
class CIFARSpec:
    """What tells the two CIFAR sets apart: torchvision class, folder, classes, channel statistics."""

    tv_class: str
    folder: str
    num_classes: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]


CIFAR10_SPEC = CIFARSpec("CIFAR10", "cifar-10-batches-py", 10, (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616))
CIFAR100_SPEC = CIFARSpec("CIFAR100", "cifar-100-python", 100, (0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762))


@dataclass(frozen=True)
class Normalisation:
    """Float images [B, C, H, W] normalised per channel, (x − mean) / std (torchvision's Normalize)."""

    mean: tuple[float, ...]
    std: tuple[float, ...]

    def __call__(self, x: torch.Tensor, inplace: bool = False) -> torch.Tensor:
        from torchvision.transforms.v2.functional import normalize

        return normalize(x, list(self.mean), list(self.std), inplace=inplace)


@dataclass(frozen=True)
class ImageScaling:
    """uint8 images [B, C, H, W] to floats in [0, 1] (torchvision's ToTensor: divide by 255), then,
    when ``mean`` and ``std`` are given, per-channel normalised (torchvision's Normalize)."""

    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        x = x.float().div_(255.0)  # as ToTensor; v2's to_dtype multiplies by 1/255, which differs in the last bit
        if self.mean is None or self.std is None:
            return x
        return Normalisation(self.mean, self.std)(x, inplace=True)


def float_normalisation(cfg: ImagesConfig, own: Statistics) -> Normalisation | None:
    """What normalises batches of float images as ``cfg`` says (``own``: the dataset's statistics); None: nothing to do."""
    stats = cfg.statistics(own)
    return Normalisation(*stats) if stats else None


def image_scaling(cfg: ImagesConfig, own: Statistics) -> ImageScaling:
    """uint8 batches to floats, normalised as ``cfg`` says (``own``: the dataset's statistics)."""
    stats = cfg.statistics(own)
    return ImageScaling(*stats) if stats else ImageScaling()


class CIFAR:
    """CIFAR-10 or CIFAR-100 (``spec``): 32x32 colour images kept as uint8 [N, 3, 32, 32]; the bundle's
    transform makes floats in [0, 1] of each batch, per-channel normalised if asked."""

    def __init__(self, cfg: CIFAR10Config, seed: int, spec: CIFARSpec) -> None:
        self.cfg, self.seed, self.spec = cfg, seed, spec
        self.scaling = image_scaling(cfg, (spec.mean, spec.std))  # a configuration error surfaces before any file is read
        self.info = DatasetInfo(input_shape=(3, 32, 32), num_classes=spec.num_classes)

    def _split(self, train: bool) -> Split:
        import torchvision

        root = Path(self.cfg.root).expanduser()
        try:
            ds = getattr(torchvision.datasets, self.spec.tv_class)(str(root), train=train, download=self.cfg.download)
        except RuntimeError:
            raise DatasetError(
                f"dataset={self.cfg.name}: {self.spec.folder} not found under {root}. Download it with "
                f"`snntrain dataset={self.cfg.name} dataset.root={root} dataset.download=true`."
            ) from None
        x = torch.from_numpy(ds.data).permute(0, 3, 1, 2).contiguous()
        return Split(x, torch.tensor(ds.targets, dtype=torch.long))

    def load(self) -> DataBundle:
        train, test = self._split(True), self._split(False)
        return with_validation(train, test, self.cfg.val_fraction, self.seed, self.info, self.scaling)


def build_mnist(cfg: MNISTConfig, seed: int, T: int) -> IDXDataset:
    return IDXDataset(cfg, seed, "MNIST", "MNIST")


def build_fashion_mnist(cfg: FashionMNISTConfig, seed: int, T: int) -> IDXDataset:
    return IDXDataset(cfg, seed, "FashionMNIST", "FashionMNIST", FASHION_MNIST_STATISTICS)


def build_cifar10(cfg: CIFAR10Config, seed: int, T: int) -> CIFAR:
    return CIFAR(cfg, seed, CIFAR10_SPEC)


def build_cifar100(cfg: CIFAR100Config, seed: int, T: int) -> CIFAR:
    return CIFAR(cfg, seed, CIFAR100_SPEC)
