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

from snntrain.config.checks import one_of, positive, require
from snntrain.data.events.reader import SENSOR_HEIGHT, SENSOR_WIDTH

CHANNELS = 2
PIXELS = CHANNELS * SENSOR_HEIGHT * SENSOR_WIDTH
# Tonic's NMNIST(first_saccade_only=True) keeps t < 100 ms: the first of the three 100 ms saccades.
FIRST_SACCADE_END_US = 100_000
MODES = ["n_time_bins", "time_window_us", "event_count"]


@dataclass
class FramingConfig:
    """``dataset.framing.*``: how a recording becomes the ``T`` frames a model sees (T is the top-level key).

    mode n_time_bins: T equal bins spanning [0, last event]; every event lands in a frame.
    mode time_window_us: bins of ``time_window_us`` from t = 0; frames past T are cropped, missing ones are zeros.
    mode event_count: bins of ``event_count`` consecutive events; cropped or zero-padded to T likewise.
    values count: events per cell (saturating at 255); binary: 1 where any event fell.
    """

    mode: str = "n_time_bins"
    time_window_us: float = 1000.0
    event_count: int = 1000
    values: str = "count"

    def __post_init__(self) -> None:
        one_of("dataset.framing.mode", self.mode, MODES)
        positive("dataset.framing.time_window_us", self.time_window_us)
        positive("dataset.framing.event_count", self.event_count)
        one_of("dataset.framing.values", self.values, ["count", "binary"])


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
        parameter = {"n_time_bins": None, "time_window_us": framing.time_window_us, "event_count": framing.event_count}
        return cls(T, framing.mode, parameter[framing.mode], framing.values, first_saccade_only)

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
