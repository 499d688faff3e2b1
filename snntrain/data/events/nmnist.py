"""``dataset=nmnist``: N-MNIST (Orchard et al. 2015), MNIST digits recorded by an ATIS event camera.

``dataset.root`` holds the official layout, ``Train/<digit>/*.bin`` and ``Test/<digit>/*.bin``
(what ``Train.zip`` and ``Test.zip`` unpack to), or the archives themselves, which are extracted
on first use. Each split is framed once into a cache under ``root/cache/<hash of the framing>/``
and memory-mapped afterwards.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from snntrain.config.checks import one_of, require
from snntrain.data.base import DataBundle, DatasetConfig, DatasetInfo, Split
from snntrain.data.events import archive, convert
from snntrain.data.events.framing import FrameSpec, FramingConfig
from snntrain.data.vision import with_validation
from snntrain.errors import DatasetError
from snntrain.registry import register

INFO = DatasetInfo(input_shape=(2, 34, 34), num_classes=10)
SPLITS = {"train": "Train", "test": "Test"}
DIGITS = [str(d) for d in range(10)]
WHERE_FROM = (
    "The archives Train.zip and Test.zip come from https://www.garrickorchard.com/datasets/n-mnist "
    "(Mendeley Data, doi:10.17632/468j46mzdv.1); put them in dataset.root, or set dataset.download=true."
)


@dataclass
class NMNISTConfig(DatasetConfig):
    name: str = "nmnist"
    root: str = "data/nmnist"
    encoder: str = "events"
    first_saccade_only: bool = False
    on_bad_file: str = "error"
    workers: int | None = None
    progress: bool = True
    framing: FramingConfig = field(default_factory=FramingConfig)

    def __post_init__(self) -> None:
        super().__post_init__()
        one_of("dataset.encoder", self.encoder, ["events"])
        one_of("dataset.on_bad_file", self.on_bad_file, ["error", "skip"])
        require(self.workers is None or self.workers > 0, "dataset.workers", self.workers, "null (every CPU core) or > 0")


def list_recordings(folder: Path) -> tuple[list[Path], np.ndarray]:
    """The ``.bin`` files under ``folder/<digit>/`` (sorted) and their digit labels."""
    files, labels = [], []
    for entry in sorted(folder.iterdir()):
        if not entry.is_dir() or entry.name.startswith("."):
            continue
        if entry.name not in DIGITS:
            raise DatasetError(
                f"{entry} is not a class folder: {folder} must hold only the digit folders 0 ... 9 "
                "(each with its .bin recordings). Move it out of the way."
            )
        found = sorted(p for p in entry.iterdir() if p.suffix == ".bin")
        files += found
        labels += [int(entry.name)] * len(found)
    if not files:
        raise DatasetError(f"{folder} holds no recordings: expected {folder}/<digit>/*.bin. {WHERE_FROM}")
    return files, np.array(labels, dtype=np.int64)


def fingerprint(files: list[Path], root: Path) -> str:
    """A hash of the recordings' names and sizes: a cache built from other files is not reused."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(f"{path.relative_to(root).as_posix()}\0{path.stat().st_size}\n".encode())
    return digest.hexdigest()


class NMNIST:
    """Frames of N-MNIST for ``T`` time steps, from the cache (built on first use)."""

    info = INFO

    def __init__(self, cfg: NMNISTConfig, seed: int, T: int) -> None:
        self.cfg, self.seed = cfg, seed
        self.spec = FrameSpec.from_config(cfg.framing, T, cfg.first_saccade_only)
        self.root = Path(cfg.root).expanduser()
        self.cache_dir = self.root / "cache" / self.spec.digest()

    def split(self, name: str) -> Split:
        """The framed split ``name`` ("train" or "test"): memory-mapped, built first if needed."""
        folder = self.root / SPLITS[name]
        listing = list_recordings(folder) if folder.is_dir() else None
        sources = fingerprint(listing[0], self.root) if listing else None
        path = self.cache_dir / f"{name}.frames"
        cached = convert.open_cache(path, self.spec, sources)
        if cached is None:
            if listing is None:
                listing = list_recordings(self.obtain(SPLITS[name]))
                sources = fingerprint(listing[0], self.root)
            convert.build(
                path, listing[0], listing[1], self.spec, {"sources": sources},
                self.cfg.workers or os.cpu_count() or 1, self.cfg.on_bad_file, self.cfg.progress,
            )
            cached = convert.open_cache(path, self.spec, sources)
            if cached is None:
                raise DatasetError(f"{path} was just written but cannot be read back; is {self.cache_dir} on a full disk?")
        frames, labels, header = cached
        if header["skipped"] and self.cfg.on_bad_file == "error":
            bad_path, problem = header["skipped"][0]
            raise DatasetError(
                f"{path} was built with dataset.on_bad_file=skip and left out {len(header['skipped'])} damaged "
                f"file(s), the first {bad_path} ({problem}). Set dataset.on_bad_file=skip, or replace those "
                f"files and delete {path}."
            )
        return Split(frames, torch.from_numpy(labels))

    def obtain(self, folder: str) -> Path:
        """``root/folder`` from its archive in ``root`` (downloaded first if allowed); DatasetError otherwise."""
        for name in (f"{folder}.zip", f"{folder.lower()}.zip"):
            if (self.root / name).is_file():
                return archive.extract_folder(self.root / name, folder, self.root)
        if self.cfg.download:
            return archive.extract_folder(archive.download(folder, self.root), folder, self.root)
        raise DatasetError(
            f"dataset=nmnist: {self.root / folder} not found. Expected the official layout "
            f"{self.root}/Train/<digit>/*.bin and {self.root}/Test/<digit>/*.bin (what Train.zip and "
            f"Test.zip unpack to), or the archives themselves in {self.root}. {WHERE_FROM}"
        )

    def prepare(self) -> None:
        """Build the cache of every split that lacks one, without loading anything else."""
        for name in SPLITS:
            self.split(name)

    def load(self) -> DataBundle:
        return with_validation(self.split("train"), self.split("test"), self.cfg.val_fraction, self.seed, INFO)


@register("dataset", "nmnist", NMNISTConfig)
def build_nmnist(cfg: NMNISTConfig, seed: int, T: int) -> NMNIST:
    return NMNIST(cfg, seed, T)
