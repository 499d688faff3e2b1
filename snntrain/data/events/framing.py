"""Events to frames: T time bins x 2 polarities (channel 0 OFF, 1 ON) x 34 x 34 pixels.

Frames are produced sparse (the flat indices of the non-zero cells and their values), because a
recording of a few thousand events fills a few percent of the cells; ``densify`` expands them.
Every mode measures time from the start of the recording (t = 0).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

import numpy as np

from snntrain.config.checks import one_of, require
from snntrain.data.events.reader import SENSOR_HEIGHT, SENSOR_WIDTH

CHANNELS = 2
PIXELS = CHANNELS * SENSOR_HEIGHT * SENSOR_WIDTH
# Tonic's NMNIST(first_saccade_only=True) keeps t < 100 ms: the first of the three 100 ms saccades.
FIRST_SACCADE_END_US = 100_000
MODES = ["n_time_bins", "time_window_us", "event_count"]


@dataclass
class FramingConfig:
    """``dataset.framing.*``: how a recording becomes the ``T`` frames a model sees (T is the top-level key).

    Setting one of the three keys below chooses the framing (``mode: auto``), or name it in ``mode``:
    n_time_bins: T equal bins spanning [0, last event]; every event lands in a frame (the default).
    time_window_us: bins of that many µs from t = 0; frames past T are cropped, missing ones are zeros.
    event_count: bins of that many consecutive events; cropped or zero-padded to T likewise.
    values count: events per cell (saturating at 255); binary: 1 where any event fell.
    """

    mode: str = "auto"
    n_time_bins: int | None = None
    time_window_us: float | None = None
    event_count: int | None = None
    values: str = "count"

    def __post_init__(self) -> None:
        one_of("dataset.framing.mode", self.mode, ["auto", *MODES])
        for key in MODES:
            value = getattr(self, key)
            require(value is None or value > 0, f"dataset.framing.{key}", value, "null or > 0")
        chosen = [key for key in ("time_window_us", "event_count") if getattr(self, key) is not None]
        require(
            len(chosen) <= 1 or self.mode != "auto", "dataset.framing", chosen,
            "set only one of dataset.framing.time_window_us and dataset.framing.event_count (or name dataset.framing.mode)",
        )
        one_of("dataset.framing.values", self.values, ["count", "binary"])

    @property
    def resolved_mode(self) -> str:
        if self.mode != "auto":
            return self.mode
        if self.time_window_us is not None:
            return "time_window_us"
        return "event_count" if self.event_count is not None else "n_time_bins"


DEFAULT_PARAMETER = {"time_window_us": 1000.0, "event_count": 1000}


@dataclass(frozen=True)
class FrameSpec:
    """Everything that decides a sample's frames; equal specs give identical frames."""

    T: int
    mode: str
    parameter: float | int | None  # the mode's window or event count; None for n_time_bins
    values: str
    first_saccade_only: bool

    @classmethod
    def from_config(cls, framing: FramingConfig, T: int, first_saccade_only: bool) -> FrameSpec:
        require(isinstance(T, int) and T > 0, "T", T, "the number of frames must be an integer > 0")
        bins = framing.n_time_bins
        require(bins is None or bins == T, "dataset.framing.n_time_bins", bins, f"the frames are the T={T} time steps: leave it null or set T={bins}")
        mode = framing.resolved_mode
        parameter = None if mode == "n_time_bins" else getattr(framing, mode) or DEFAULT_PARAMETER[mode]
        return cls(T, mode, parameter, framing.values, first_saccade_only)

    @property
    def frame_shape(self) -> tuple[int, int, int, int]:
        return (self.T, CHANNELS, SENSOR_HEIGHT, SENSOR_WIDTH)

    @property
    def cells(self) -> int:
        return self.T * PIXELS

    def digest(self) -> str:
        """A short hash of the spec: the name of its cache folder."""
        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def time_bins(events: np.ndarray, spec: FrameSpec) -> np.ndarray:
    """The frame index of every event (may be >= T; those events are cropped)."""
    t = events["t"]
    if spec.mode == "n_time_bins":
        return t * spec.T // (int(t[-1]) + 1) if len(t) else np.zeros(0, np.int64)
    if spec.mode == "time_window_us":
        return np.floor_divide(t, spec.parameter).astype(np.int64)
    return np.arange(len(t), dtype=np.int64) // spec.parameter


def frame_events(events: np.ndarray, spec: FrameSpec) -> tuple[np.ndarray, np.ndarray]:
    """Sparse frames of one recording: sorted flat cell indices (uint32) and their values (uint8).

    A flat index addresses ``[T, 2, 34, 34]`` in C order. With count values the values sum to the
    number of framed events (unless a cell saturates at 255); with binary values they are all 1.
    """
    if spec.first_saccade_only:
        events = events[events["t"] < FIRST_SACCADE_END_US]
    bins = time_bins(events, spec)
    kept = bins < spec.T
    cell = ((bins[kept] * CHANNELS + events["p"][kept]) * SENSOR_HEIGHT + events["y"][kept]) * SENSOR_WIDTH
    cell += events["x"][kept]
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
