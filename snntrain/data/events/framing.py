"""Events to frames: T time bins x 2 polarities (channel 0 OFF, 1 ON) x height x width pixels.

Frames are produced sparse (the flat indices of the non-zero cells and their values), because a
recording of a few thousand events fills a few percent of the cells; ``densify`` expands them.
Time is measured from t = 0 of the reader's clock, except by ``n_time_bins``, which is Tonic's
``ToFrame(n_time_bins=T)`` and starts at the first event. A frame smaller than the sensor bins
events spatially: sensor pixel x lands in frame column ``x * width // sensor_width`` (Tonic's
``Downsample``), so counts are summed, never resampled. docs/tonic.md compares every mode with Tonic.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

import numpy as np

from snntrain.core.checks import one_of, require

CHANNELS = 2
# Tonic's NMNIST(first_saccade_only=True) keeps t < 100 ms: the first of the three 100 ms saccades.
FIRST_SACCADE_END_US = 100_000
MODES = ["span_time_bins", "n_time_bins", "n_event_bins", "time_window_us", "event_count"]
KEYED_MODES = MODES[1:]  # each chosen by setting its own key; span_time_bins is what mode=auto falls back to
BIN_COUNT_MODES = MODES[:3]  # T bins by definition: no parameter of their own


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


DEFAULT_PARAMETER = {"time_window_us": 1000.0, "event_count": 1000}


@dataclass(frozen=True)
class FrameSpec:
    """Everything that decides a sample's frames; equal specs give identical frames."""

    T: int
    mode: str
    parameter: float | int | None  # the mode's window or event count; None for the BIN_COUNT_MODES
    values: str
    first_saccade_only: bool
    sensor_height: int = 34
    sensor_width: int = 34
    height: int = 34
    width: int = 34

    @classmethod
    def from_config(
        cls, framing: FramingConfig, T: int, first_saccade_only: bool,
        sensor: tuple[int, int] = (34, 34), size: tuple[int, int] | None = None,
    ) -> FrameSpec:
        """The spec for ``T`` frames of a ``sensor`` (height, width), binned down to ``size`` if given."""
        require(isinstance(T, int) and T > 0, "T", T, "the number of frames must be an integer > 0")
        for key in ("n_time_bins", "n_event_bins"):
            bins = getattr(framing, key)
            require(bins is None or bins == T, f"dataset.framing.{key}", bins, f"the frames are the T={T} time steps: leave it null or set T={bins}")
        mode = framing.resolved_mode
        parameter = None if mode in BIN_COUNT_MODES else getattr(framing, mode) or DEFAULT_PARAMETER[mode]
        height, width = size or sensor
        return cls(T, mode, parameter, framing.values, first_saccade_only, *sensor, height, width)

    @property
    def frame_shape(self) -> tuple[int, int, int, int]:
        return (self.T, CHANNELS, self.height, self.width)

    @property
    def cells(self) -> int:
        return self.T * CHANNELS * self.height * self.width

    def digest(self) -> str:
        """A short hash of the spec: the name of its cache folder."""
        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def time_bins(events: np.ndarray, spec: FrameSpec) -> np.ndarray:
    """The frame index of every event (may be >= T; those events are cropped)."""
    t = events["t"]
    if not len(t):
        return np.zeros(0, np.int64)
    if spec.mode == "span_time_bins":
        return t * spec.T // (int(t[-1]) + 1)
    if spec.mode == "n_time_bins":  # tonic.slicers.SliceByTimeBins with overlap 0
        width = (int(t[-1]) - int(t[0])) // spec.T
        return (t - t[0]) // width if width else np.full(len(t), spec.T, np.int64)
    if spec.mode == "n_event_bins":
        return np.arange(len(t), dtype=np.int64) * spec.T // max(len(t), 1)
    if spec.mode == "time_window_us":
        return np.floor_divide(t, spec.parameter).astype(np.int64)
    return np.arange(len(t), dtype=np.int64) // spec.parameter


def frame_events(events: np.ndarray, spec: FrameSpec) -> tuple[np.ndarray, np.ndarray]:
    """Sparse frames of one recording: sorted flat cell indices (uint32) and their values (uint8).

    A flat index addresses ``spec.frame_shape`` in C order. With count values the values sum to
    the number of framed events (unless a cell saturates at 255); with binary values they are all 1.
    """
    if spec.first_saccade_only:
        events = events[events["t"] < FIRST_SACCADE_END_US]
    bins = time_bins(events, spec)
    kept = bins < spec.T
    y = events["y"][kept].astype(np.int64) * spec.height // spec.sensor_height
    x = events["x"][kept].astype(np.int64) * spec.width // spec.sensor_width
    cell = ((bins[kept] * CHANNELS + events["p"][kept]) * spec.height + y) * spec.width + x
    if 4 * len(cell) >= spec.cells:  # dense recordings (CIFAR10-DVS): counting beats sorting
        counts = np.bincount(cell, minlength=spec.cells)
        flat = np.flatnonzero(counts)
        counts = counts[flat]
    else:
        flat, counts = np.unique(cell, return_counts=True)
    values = np.ones(len(flat), np.uint8) if spec.values == "binary" else np.minimum(counts, 255).astype(np.uint8)
    return flat.astype(np.uint32), values


def densify(offsets: np.ndarray, flat: np.ndarray, values: np.ndarray | None, rows: np.ndarray, cells: int) -> np.ndarray:
    """Dense uint8 ``[len(rows), cells]`` of sparse samples ``rows``.

    Sample i's cells are ``flat[offsets[i]:offsets[i + 1]]`` with ``values`` likewise (all 1 when
    ``values`` is None). Each sample is one contiguous slice, so sorted rows read sequentially.
    """
    rows = np.asarray(rows, dtype=np.int64)
    out = np.zeros((len(rows), cells), np.uint8)
    for i, (start, end) in enumerate(zip(offsets[rows].tolist(), offsets[rows + 1].tolist())):
        out[i, flat[start:end]] = 1 if values is None else values[start:end]
    return out
