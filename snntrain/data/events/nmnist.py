"""``dataset=nmnist``: N-MNIST (Orchard et al. 2015), MNIST digits recorded by an ATIS event camera.

``dataset.root`` holds the official layout, ``Train/<digit>/*.bin`` and ``Test/<digit>/*.bin``
(what ``Train.zip`` and ``Test.zip`` unpack to), directly or under ``NMNIST/`` (where
``tonic.datasets.NMNIST(save_to=root)`` puts its ``train.zip`` and ``test.zip`` and unpacks them), or
the archives themselves, which are extracted on first use beside the archive. A split is read from
the first of those folders that exists. Each split is framed once into a cache under
``root/cache/<hash of the framing>/`` and memory-mapped afterwards.
"""

from __future__ import annotations

from pathlib import Path

from snntrain.core.errors import DatasetError
from snntrain.data.base import DatasetInfo
from snntrain.data.events import archive
from snntrain.data.events.config import NMNISTConfig
from snntrain.data.events.dataset import EventDataset, Listing, class_recordings
from snntrain.data.events.framing import FrameSpec
from snntrain.data.events.reader import read_events

INFO = DatasetInfo(input_shape=(2, 34, 34), num_classes=10)
SPLITS = {"train": "Train", "test": "Test"}
TONIC_FOLDER = "NMNIST"  # tonic.datasets.NMNIST(save_to=root) keeps its archives and their folders in root/NMNIST
DIGITS = [str(d) for d in range(10)]
WHERE_FROM = (
    "The archives Train.zip and Test.zip come from https://www.garrickorchard.com/datasets/n-mnist "
    "(Mendeley Data, doi:10.17632/468j46mzdv.1); put them in dataset.root, or set dataset.download=true."
)


class NMNIST(EventDataset):
    """Frames of N-MNIST for ``T`` time steps, from the cache (built on first use)."""

    info = INFO
    read = staticmethod(read_events)

    def __init__(self, cfg: NMNISTConfig, seed: int, T: int) -> None:
        super().__init__(cfg, seed, FrameSpec.from_config(cfg.framing, T, cfg.first_saccade_only))

    def homes(self) -> list[Path]:
        """The folders a copy may sit in, in the order they are searched: ``root``, then Tonic's ``root/NMNIST``."""
        return [self.root, self.root / TONIC_FOLDER]

    def archives(self, name: str) -> list[Path]:
        """Where split ``name``'s archive may be, in the order they are tried (Tonic names them in lower case)."""
        folder = SPLITS[name]
        return [home / archive_name for home in self.homes() for archive_name in (f"{folder}.zip", f"{folder.lower()}.zip")]

    def recordings(self, name: str) -> Listing | None:
        for home in self.homes():
            folder = home / SPLITS[name]
            if folder.is_dir():
                return class_recordings(folder, DIGITS, [".bin"], True, WHERE_FROM)
        return None

    def obtain(self, name: str) -> None:
        folder = SPLITS[name]
        for path in self.archives(name):
            if path.is_file():
                archive.extract_folder(path, folder, path.parent)
                return
        if self.cfg.download:
            from tonic.datasets import NMNIST as Tonic

            url, filename, md5 = (
                (Tonic.train_url, Tonic.train_filename, Tonic.train_md5) if name == "train"
                else (Tonic.test_url, Tonic.test_filename, Tonic.test_md5)
            )
            archive.extract_folder(archive.download(url, self.root, filename, md5, "nmnist"), folder, self.root)
            return
        looked_for = [f"{home / folder}/<digit>/*.bin" for home in self.homes()] + [str(path) for path in self.archives(name)]
        raise DatasetError(
            f"dataset=nmnist: the {name} recordings were not found; looked for {', '.join(looked_for)}. "
            f"Expected the official layout Train/<digit>/*.bin and Test/<digit>/*.bin (what Train.zip and "
            f"Test.zip unpack to) in {self.root}, or Tonic's copy in {self.root / TONIC_FOLDER} "
            f"(tonic.datasets.NMNIST(save_to={self.root})), or the archives themselves. {WHERE_FROM}"
        )


def build_nmnist(cfg: NMNISTConfig, seed: int, T: int) -> NMNIST:
    return NMNIST(cfg, seed, T)
