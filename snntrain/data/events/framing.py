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
from dataclasses import asdict, dataclass

import numpy as np

from snntrain.core.checks import require
from snntrain.data.events.config import MODES, FramingConfig

CHANNELS = 2
# Tonic's NMNIST(first_saccade_only=True) keeps t < 100 ms: the first of the three 100 ms saccades.
FIRST_SACCADE_END_US = 100_000
BIN_COUNT_MODES = MODES[:3]  # T bins by definition: no parameter of their own


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
