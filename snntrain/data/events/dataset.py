"""What every event-camera dataset shares: its config keys, class-folder listing and the cached splits.

A dataset subclasses ``EventDataset`` and says where a split's recordings are (``recordings``),
how to get them onto disk (``obtain``) and how to read one (``read``). Each split is framed once
into ``root/cache/<hash of the frame spec>/<split>.frames`` and memory-mapped afterwards; a cache
built from other recordings (names or sizes differ) is rebuilt.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from snntrain.core.errors import DatasetError
from snntrain.data.base import DataBundle, DatasetInfo, Split
from snntrain.data.events import convert
from snntrain.data.events.config import EventDatasetConfig
from snntrain.data.events.framing import FrameSpec
from snntrain.data.vision import with_validation

Listing = tuple[list[Path], np.ndarray]


def natural_key(path: Path) -> list:
    """Sort key that orders ``x_9`` before ``x_10`` (numbers compared as numbers)."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name)]


def class_recordings(folder: Path, classes: Sequence[str], suffixes: Sequence[str], exclusive: bool, where_from: str) -> Listing:
    """The recordings under ``folder/<class>/`` (natural order within a class) and their class indices.

    ``exclusive`` (a folder that holds nothing but class folders): any other visible folder is an
    error, since it would be silently ignored, and absent classes are allowed. Otherwise other
    entries are ignored and every class must be present. No recordings at all is an error too.
    """
    if exclusive:
        for entry in sorted(folder.iterdir()):
            if entry.is_dir() and not entry.name.startswith(".") and entry.name not in classes:
                raise DatasetError(
                    f"{entry} is not a class folder: {folder} must hold only the class folders "
                    f"{', '.join(classes)} (each with its recordings). Move it out of the way."
                )
    files, labels = [], []
    for label, name in enumerate(classes):
        if not (folder / name).is_dir():
            if exclusive:
                continue
            raise DatasetError(f"{folder / name} is missing: {folder} must hold one folder per class ({', '.join(classes)}). {where_from}")
        found = sorted((p for p in (folder / name).iterdir() if p.suffix in suffixes), key=natural_key)
        files += found
        labels += [label] * len(found)
    if not files:
        raise DatasetError(f"{folder} holds no recordings: expected {folder}/<class>/*{'|*'.join(suffixes)}. {where_from}")
    return files, np.array(labels, dtype=np.int64)


def fingerprint(files: list[Path], root: Path) -> str:
    """A hash of the recordings' names and sizes: a cache built from other files is not reused."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(f"{path.relative_to(root).as_posix()}\0{path.stat().st_size}\n".encode())
    return digest.hexdigest()


class EventDataset:
    """Framed splits of an event-camera dataset for ``spec``, from the cache (built on first use)."""

    info: DatasetInfo
    splits: tuple[str, ...] = ("train", "test")

    def __init__(self, cfg: EventDatasetConfig, seed: int, spec: FrameSpec) -> None:
        self.cfg, self.seed, self.spec = cfg, seed, spec
        self.root = Path(cfg.root).expanduser()
        self.cache_dir = self.root / "cache" / spec.digest()

    @staticmethod
    def read(path: str) -> np.ndarray:
        """The validated events of one recording (a module-level function: worker processes unpickle it)."""
        raise NotImplementedError

    def recordings(self, name: str) -> Listing | None:
        """Split ``name``'s recordings and labels, or None when they are not on disk."""
        raise NotImplementedError

    def obtain(self, name: str) -> None:
        """Put split ``name``'s recordings on disk (extract archives, download if allowed), or raise DatasetError."""
        raise NotImplementedError

    def split(self, name: str) -> Split:
        """The framed split ``name``: memory-mapped, built first if needed."""
        listing = self.recordings(name)
        sources = fingerprint(listing[0], self.root) if listing else None
        path = self.cache_dir / f"{name}.frames"
        cached = convert.open_cache(path, self.spec, sources)
        if cached is None:
            if listing is None:
                self.obtain(name)
                listing = self.recordings(name)
                if listing is None:
                    raise DatasetError(f"dataset={self.cfg.name}: the {name} recordings are still missing after extracting them under {self.root}.")
                sources = fingerprint(listing[0], self.root)
            if not listing[0]:  # a split rule left it nothing: an empty cache would train or score on nothing
                raise DatasetError(f"dataset={self.cfg.name}: the {name} split of {self.root} has no recordings. Change {', '.join(self.cfg.SPLIT_KEYS)}.")
            convert.build(
                path, listing[0], listing[1], self.spec, {"sources": sources},
                self.cfg.workers or os.cpu_count() or 1, self.cfg.on_bad_file, self.cfg.progress, type(self).read,
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

    def prepare(self) -> None:
        """Build the cache of every split that lacks one, without loading anything else."""
        for name in self.splits:
            self.split(name)

    def load(self) -> DataBundle:
        return with_validation(self.split("train"), self.split("test"), self.cfg.val_fraction, self.seed, self.info)
