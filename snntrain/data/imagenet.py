"""``dataset=imagenet``: ILSVRC-2012 from its folder layout, JPEGs decoded batch by batch.

``dataset.root`` holds ``train/<wnid>/*.JPEG`` and ``val/<wnid>/*.JPEG`` (the layout most copies
have, and the one ``torchvision.datasets.ImageNet`` unpacks the official archives into). Both
folders are listed with torchvision's ``ImageFolder``: classes are the sorted folder names, so
label i is the i-th wnid. The 50,000 ``val`` images are the test split, as in every ImageNet
paper; ``dataset.val_fraction`` (default 0) holds a stratified share of ``train`` out for
model selection, read with the evaluation transform.

Images cannot be held in memory, so a split's ``x`` is a :class:`JpegBatches`: indexing it with
an integer array decodes those files on a thread pool (PIL releases the GIL while decoding and
resizing) and returns one uint8 batch; the bundle's transform (as CIFAR's) makes floats in [0, 1]
of it on the device, normalised with ImageNet's channel statistics unless ``dataset.normalize=false``,
after any ``dataset.augment.*`` (so AutoAugment sees uint8 images). Training samples get torchvision's
RandomResizedCrop(image_size) and RandomHorizontalFlip, drawn from a generator seeded by
(seed, epoch, sample index): a sample's crop does not depend on the batch it lands in, the
rank, the thread that decodes it or a resume. Evaluation samples are resized (shorter side
``image_size · 256/224``) and centre-cropped. ``dataset.download`` cannot fetch ImageNet (it
needs an image-net.org account); the error for a missing folder says where to get it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from snntrain.core.errors import DatasetError
from snntrain.data.base import DataBundle, DatasetInfo, Split, stratified_split
from snntrain.data.config import ImageNetConfig
from snntrain.data.vision import image_scaling

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
CROP_SCALE = (0.08, 1.0)  # RandomResizedCrop's defaults: share of the area, aspect ratio range
CROP_RATIO = (3 / 4, 4 / 3)


def random_resized_crop_box(width: int, height: int, rng: np.random.Generator) -> tuple[int, int, int, int]:
    """(top, left, height, width) of a random crop: torchvision's RandomResizedCrop.get_params, drawn from ``rng``.

    Up to 10 tries of an area share in ``CROP_SCALE`` and a log-uniform aspect ratio in
    ``CROP_RATIO``; if none fits, the largest centre crop with a ratio in range.
    """
    area, log_ratio = width * height, np.log(CROP_RATIO)
    for _ in range(10):
        target = area * rng.uniform(*CROP_SCALE)
        aspect = math.exp(rng.uniform(*log_ratio))
        w, h = round(math.sqrt(target * aspect)), round(math.sqrt(target / aspect))
        if 0 < w <= width and 0 < h <= height:
            return int(rng.integers(0, height - h + 1)), int(rng.integers(0, width - w + 1)), h, w
    ratio = width / height
    if ratio < CROP_RATIO[0]:
        w, h = width, round(width / CROP_RATIO[0])
    elif ratio > CROP_RATIO[1]:
        w, h = round(height * CROP_RATIO[1]), height
    else:
        w, h = width, height
    return (height - h) // 2, (width - w) // 2, h, w


def train_view(image: Image.Image, size: int, rng: np.random.Generator) -> Image.Image:
    """RandomResizedCrop(size) then RandomHorizontalFlip, with every draw from ``rng``."""
    from torchvision.transforms import functional as F

    top, left, h, w = random_resized_crop_box(*image.size, rng)
    image = F.resized_crop(image, top, left, h, w, [size, size], antialias=True)
    return F.hflip(image) if rng.random() < 0.5 else image


def eval_view(image: Image.Image, size: int) -> Image.Image:
    """Resize the shorter side to ``size · 256/224``, then CenterCrop(size)."""
    from torchvision.transforms import functional as F

    return F.center_crop(F.resize(image, round(size * 256 / 224), antialias=True), [size, size])


class JpegBatches:
    """Image files as a split's ``x``: ``x[index_array]`` is the uint8 batch ``[n, 3, size, size]`` of those files.

    ``train=True``: random views (see the module docstring) seeded by ``(seed, epoch, index)``;
    ``set_epoch`` (called by the batch loader) moves to another epoch's draws. ``train=False``:
    the fixed evaluation view.
    """

    def __init__(self, files: Sequence[str], size: int, train: bool, seed: int, workers: int) -> None:
        self.files, self.size, self.train, self.seed, self.workers = list(files), size, train, seed, workers
        self.epoch = 0
        self._pool: tuple[int, ThreadPoolExecutor] | None = None

    @property
    def pool(self) -> ThreadPoolExecutor:
        """This process's decoding threads: a loader worker forked from the training process has
        none of its parent's threads, so it starts its own."""
        if self._pool is None or self._pool[0] != os.getpid():
            self._pool = (os.getpid(), ThreadPoolExecutor(self.workers, thread_name_prefix="jpeg"))
        return self._pool[1]

    def __len__(self) -> int:
        return len(self.files)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def generator(self, index: int) -> np.random.Generator:
        """The generator of sample ``index``'s draws in this epoch."""
        return np.random.default_rng([self.seed % 2**64, self.epoch, index])

    def decode(self, index: int) -> np.ndarray:
        """Sample ``index`` as an HxWx3 uint8 array of the transformed image; DatasetError names a bad file."""
        path = self.files[index]
        try:
            with Image.open(path) as image:
                image = image.convert("RGB")
        except OSError as err:
            raise DatasetError(f"dataset=imagenet: {path} is not a readable image ({err}). Replace or remove it.") from None
        view = train_view(image, self.size, self.generator(index)) if self.train else eval_view(image, self.size)
        return np.asarray(view)

    def __getitem__(self, index) -> torch.Tensor:
        pixels = np.stack(list(self.pool.map(self.decode, np.asarray(index, dtype=np.int64).ravel().tolist())))
        return torch.from_numpy(pixels).permute(0, 3, 1, 2).contiguous()


LAYOUT = "train/<wnid>/*.JPEG and val/<wnid>/*.JPEG (1,000 wnid folders each)"


class ImageNet:
    """ILSVRC-2012 (or any folder set in the same layout): info before reading, splits on ``load``."""

    def __init__(self, cfg: ImageNetConfig, seed: int) -> None:
        self.cfg, self.seed = cfg, seed
        self.info = DatasetInfo(input_shape=(3, cfg.image_size, cfg.image_size), num_classes=cfg.num_classes)
        self.scaling = image_scaling(cfg, (MEAN, STD))  # a configuration error surfaces before any file is read

    def listing(self, folder: str) -> tuple[list[str], np.ndarray, list[str]]:
        """(files, labels, class names) under ``root/folder``; DatasetError for a missing or empty folder."""
        from torchvision.datasets import ImageFolder

        root = Path(self.cfg.root).expanduser()
        path = root / folder
        if not path.is_dir():
            raise DatasetError(
                f"dataset=imagenet: {path} not found. dataset.root={root} must hold {LAYOUT}. ImageNet cannot be "
                "downloaded automatically: get ILSVRC2012_img_train.tar, ILSVRC2012_img_val.tar and "
                "ILSVRC2012_devkit_t12.tar.gz from https://image-net.org/download.php into dataset.root, unpack them "
                f"once with `python -c \"import torchvision as tv; [tv.datasets.ImageNet('{root}', split=s) for s in ('train', 'val')]\"`, "
                "or point dataset.root at a copy that has them."
            )
        try:
            listed = ImageFolder(str(path))
        except (FileNotFoundError, RuntimeError) as err:
            raise DatasetError(f"dataset=imagenet: {path} has no images in the layout {LAYOUT} ({err}).") from None
        files, labels = zip(*listed.samples)
        return list(files), np.asarray(labels, dtype=np.int64), listed.classes

    def load(self) -> DataBundle:
        cfg = self.cfg
        train_files, train_labels, classes = self.listing("train")
        test_files, test_labels, test_classes = self.listing("val")
        if len(classes) != cfg.num_classes:
            raise DatasetError(
                f"dataset=imagenet: {Path(cfg.root).expanduser() / 'train'} has {len(classes)} class folders but "
                f"dataset.num_classes={cfg.num_classes}; set dataset.num_classes={len(classes)} for a subset."
            )
        if test_classes != classes:
            missing = sorted(set(classes) ^ set(test_classes))[:5]
            raise DatasetError(f"dataset=imagenet: train/ and val/ under {cfg.root} have different class folders (e.g. {missing}); val/ must be sorted into the same wnid folders.")

        def split(files: list[str], labels: np.ndarray, train: bool) -> Split:
            x = JpegBatches(files, cfg.image_size, train, self.seed, cfg.workers)
            return Split(x, torch.from_numpy(labels))

        fit, held = stratified_split(train_labels, cfg.val_fraction, self.seed)
        val = split([train_files[i] for i in held], train_labels[held], False) if len(held) else None
        return DataBundle(split([train_files[i] for i in fit], train_labels[fit], True), val, split(test_files, test_labels, False), self.info, self.scaling)


def build_imagenet(cfg: ImageNetConfig, seed: int, T: int) -> ImageNet:
    return ImageNet(cfg, seed)
