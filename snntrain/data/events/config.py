"""The event datasets' config schemas (``dataset=nmnist|cifar10_dvs``, with ``dataset.framing.*``):
dataclasses only, no torch or Tonic, so that the CLI can compose and check a config before it imports
them (the datasets are in ``nmnist.py`` and ``cifar10_dvs.py``, the framing in ``framing.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from snntrain.core.checks import one_of, require
from snntrain.data.config import DatasetConfig

SENSOR_SIZE = 128


MODES = ["span_time_bins", "n_time_bins", "n_event_bins", "time_window_us", "event_count"]


KEYED_MODES = MODES[1:]  # each chosen by setting its own key; span_time_bins is what mode=auto falls back to


@dataclass
class FramingConfig:
    """``dataset.framing.*``: how a recording becomes the ``T`` frames a model sees (T is the top-level key).

    Setting one of the keys below chooses the framing (``mode: auto``), or name it in ``mode``
    (n events, times t_0 <= ... <= t_last in µs):
    span_time_bins (no key; auto's default): T equal bins spanning [0, t_last]: the event at t lands in
      bin floor(t * T / (t_last + 1)), so every event is framed. Named n_time_bins before that name
      became Tonic's.
    n_time_bins: Tonic's ToFrame(n_time_bins=T): T bins of w = floor((t_last - t_0) / T) µs from t_0;
      events at t >= t_0 + T * w (at least those at t_last) are dropped, and w = 0 gives empty frames.
    n_event_bins: T runs of consecutive events, event i in bin floor(i * T / n), so run lengths differ
      by at most one and every event is framed. Not Tonic's n_event_bins (n // T events per bin, the
      last n mod T dropped) nor SpikingJelly's split_by="number" (the remainder in the last bin):
      the three agree when T divides n.
    time_window_us: bins of that many µs from t = 0 (bin floor(t / w)), cropped or zero-padded to T:
      Tonic's ToFrame(time_window=w, start_time=0, end_time=T * w) for a whole number of µs.
    event_count: bins of that many consecutive events, cropped or zero-padded to T: the first T frames
      of Tonic's ToFrame(event_count=c, include_incomplete=True).
    values count: events per cell (saturating at 255, where Tonic's int16 counts go on); binary: 1
    where any event fell.
    """

    mode: str = field(default="auto", metadata={"help": "auto (the one of n_time_bins, n_event_bins, time_window_us, event_count that is set; none: span_time_bins) | span_time_bins | n_time_bins | n_event_bins | time_window_us | event_count"})
    n_time_bins: int | None = field(default=None, metadata={"help": "Tonic's ToFrame(n_time_bins=T): T bins from the first event, the tail dropped; must equal T if set"})
    n_event_bins: int | None = field(default=None, metadata={"help": "T runs of consecutive events, lengths differing by <= 1 (not Tonic's: docs/tonic.md); must equal T if set"})
    time_window_us: float | None = field(default=None, metadata={"help": "bins of this many µs from t = 0: frames past T are cropped, missing ones are zeros (HM2-BP: 600)"})
    event_count: int | None = field(default=None, metadata={"help": "bins of this many consecutive events, cropped / zero-padded to T likewise"})
    values: str = field(default="count", metadata={"help": "count: events per cell (saturates at 255) | binary: 1 where any event fell"})

    def __post_init__(self) -> None:
        one_of("dataset.framing.mode", self.mode, ["auto", *MODES])
        for key in KEYED_MODES:
            value = getattr(self, key)
            require(value is None or value > 0, f"dataset.framing.{key}", value, "null or > 0")
        chosen = [key for key in KEYED_MODES if getattr(self, key) is not None]
        require(
            len(chosen) <= 1 or self.mode != "auto", "dataset.framing", chosen,
            f"set only one of {', '.join(f'dataset.framing.{key}' for key in KEYED_MODES)} (or name dataset.framing.mode)",
        )
        for key in chosen:
            require(
                key == self.resolved_mode, f"dataset.framing.{key}", getattr(self, key),
                f"dataset.framing.mode={self.mode} ignores it: set dataset.framing.mode={key} (or auto), or set it to null",
            )
        one_of("dataset.framing.values", self.values, ["count", "binary"])

    @property
    def resolved_mode(self) -> str:
        if self.mode != "auto":
            return self.mode
        return next((key for key in KEYED_MODES if getattr(self, key) is not None), "span_time_bins")


@dataclass
class EventDatasetConfig(DatasetConfig):
    """Keys shared by the event-camera datasets (``dataset.framing.*`` and the cache build)."""

    ENCODERS: ClassVar[tuple[str, ...]] = ("events",)
    SPLIT_KEYS: ClassVar[tuple[str, ...]] = ("dataset.root", "dataset.on_bad_file", "dataset.val_fraction")
    encoder: str = field(default="events", metadata={"help": "events: frames [B, T, 2, H, W] -> [T, B, 2, H, W]; the only encoder for event data"})
    on_bad_file: str = field(default="error", metadata={"help": "error: stop, naming the damaged file | skip: leave it out, report the count"})
    workers: int | None = field(default=None, metadata={"help": "processes that build the frame cache; null = every CPU core"})
    progress: bool = field(default=True, metadata={"help": "rich progress bar while building the cache"})
    framing: FramingConfig = field(default_factory=FramingConfig, metadata={"help": (
        "how a recording becomes the T frames: set one of n_event_bins / time_window_us / event_count "
        "(mode: auto picks it), or name mode"
    )})

    def __post_init__(self) -> None:
        super().__post_init__()
        one_of("dataset.on_bad_file", self.on_bad_file, ["error", "skip"])
        require(self.workers is None or self.workers > 0, "dataset.workers", self.workers, "null (every CPU core) or > 0")


@dataclass
class NMNISTConfig(EventDatasetConfig):
    name: str = "nmnist"
    root: str = "data/nmnist"
    first_saccade_only: bool = field(default=False, metadata={"help": "keep only events with t < 100 ms (the first of the three saccades)"})


@dataclass
class CIFAR10DVSConfig(EventDatasetConfig):
    SPLIT_KEYS: ClassVar[tuple[str, ...]] = ("dataset.root", "dataset.train_fraction", "dataset.on_bad_file", "dataset.val_fraction")
    name: str = "cifar10_dvs"
    root: str = "data/cifar10_dvs"
    batch_size: int = 128
    size: int = field(default=48, metadata={"help": "frames are size x size: sensor pixel x lands in column x*size//128 (counts summed)"})
    train_fraction: float = field(default=0.9, metadata={"help": "per class: this share of the recordings, the first in file-name order, trains; the rest tests"})
    framing: FramingConfig = field(default_factory=lambda: FramingConfig(mode="n_event_bins"), metadata={"help": (
        "mode n_event_bins: T bins of equal event counts (the rate-BP recipe); to use another framing set mode too, "
        "e.g. mode=time_window_us time_window_us=50000"
    )})

    def __post_init__(self) -> None:
        super().__post_init__()
        require(isinstance(self.size, int) and 1 <= self.size <= SENSOR_SIZE, "dataset.size", self.size,
                f"frames are size x size pixels binned from the {SENSOR_SIZE} x {SENSOR_SIZE} sensor: 1 ... {SENSOR_SIZE}")
        require(0.0 < self.train_fraction < 1.0, "dataset.train_fraction", self.train_fraction,
                "the share of each class used for training must be in (0, 1)")
