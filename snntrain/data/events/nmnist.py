"""``dataset=nmnist``: N-MNIST (Orchard et al. 2015), MNIST digits recorded by an ATIS event camera.

``dataset.root`` holds the official layout, ``Train/<digit>/*.bin`` and ``Test/<digit>/*.bin``
(what ``Train.zip`` and ``Test.zip`` unpack to), or the archives themselves, which are extracted
on first use. Each split is framed once into a cache under ``root/cache/<hash of the framing>/``
and memory-mapped afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from snntrain.core.errors import DatasetError
from snntrain.data.base import DatasetInfo
from snntrain.data.events import archive
from snntrain.data.events.dataset import EventDataset, EventDatasetConfig, Listing, class_recordings
from snntrain.data.events.framing import FrameSpec
from snntrain.data.events.reader import read_events

INFO = DatasetInfo(input_shape=(2, 34, 34), num_classes=10)
SPLITS = {"train": "Train", "test": "Test"}
DIGITS = [str(d) for d in range(10)]
WHERE_FROM = (
    "The archives Train.zip and Test.zip come from https://www.garrickorchard.com/datasets/n-mnist "
    "(Mendeley Data, doi:10.17632/468j46mzdv.1); put them in dataset.root, or set dataset.download=true."
)


@dataclass
class NMNISTConfig(EventDatasetConfig):
    name: str = "nmnist"
    root: str = "data/nmnist"
    first_saccade_only: bool = field(default=False, metadata={"help": "keep only events with t < 100 ms (the first of the three saccades)"})


class NMNIST(EventDataset):
    """Frames of N-MNIST for ``T`` time steps, from the cache (built on first use)."""

    info = INFO
    read = staticmethod(read_events)

    def __init__(self, cfg: NMNISTConfig, seed: int, T: int) -> None:
        super().__init__(cfg, seed, FrameSpec.from_config(cfg.framing, T, cfg.first_saccade_only))

    def recordings(self, name: str) -> Listing | None:
        folder = self.root / SPLITS[name]
        return class_recordings(folder, DIGITS, [".bin"], True, WHERE_FROM) if folder.is_dir() else None

    def obtain(self, name: str) -> None:
        folder = SPLITS[name]
        for archive_name in (f"{folder}.zip", f"{folder.lower()}.zip"):
            if (self.root / archive_name).is_file():
                archive.extract_folder(self.root / archive_name, folder, self.root)
                return
        if self.cfg.download:
            from tonic.datasets import NMNIST as Tonic

            url, filename, md5 = (
                (Tonic.train_url, Tonic.train_filename, Tonic.train_md5) if name == "train"
                else (Tonic.test_url, Tonic.test_filename, Tonic.test_md5)
            )
            archive.extract_folder(archive.download(url, self.root, filename, md5, "nmnist"), folder, self.root)
            return
        raise DatasetError(
            f"dataset=nmnist: {self.root / folder} not found. Expected the official layout "
            f"{self.root}/Train/<digit>/*.bin and {self.root}/Test/<digit>/*.bin (what Train.zip and "
            f"Test.zip unpack to), or the archives themselves in {self.root}. {WHERE_FROM}"
        )


def build_nmnist(cfg: NMNISTConfig, seed: int, T: int) -> NMNIST:
    return NMNIST(cfg, seed, T)
