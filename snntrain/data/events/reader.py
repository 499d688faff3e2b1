"""Validated events, and the N-MNIST ``.bin`` reader.

Every reader returns the structured ``EVENT_DTYPE`` array checked by ``checked``: on the sensor,
p in {0, 1}, time-ordered. N-MNIST's format (Orchard et al. 2015): 5 bytes per event: x (byte 0), y (byte 1), polarity (bit 7 of
byte 2) and a 23-bit timestamp in µs (the rest of byte 2, then bytes 3 and 4, big-endian). A row
with y == 240 is a timestamp-overflow marker: 2^13 µs is added to every later timestamp and the
row is dropped. Tonic decodes the bytes; this module checks what Tonic does not.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from tonic.io import read_mnist_file

from snntrain.core.errors import DatasetError

SENSOR_WIDTH = SENSOR_HEIGHT = 34
BYTES_PER_EVENT = 5
EVENT_DTYPE = np.dtype([("x", np.int16), ("y", np.int16), ("t", np.int64), ("p", np.int8)])


class EventFileError(DatasetError):
    """A recording is damaged; ``path`` names the file and ``problem`` says what is wrong."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path, self.problem = str(path), problem
        super().__init__(
            f"{path}: {problem}. Replace the file (extract it again from the official archive), "
            "or set dataset.on_bad_file=skip to leave damaged files out of the cache."
        )

    def __reduce__(self):  # so the error crosses process boundaries intact
        return type(self), (self.path, self.problem)


def decode_events(data: bytes, source: str | Path) -> np.ndarray:
    """Events of the recording ``data`` as a structured array (x, y, t, p), time-ordered.

    Every returned event has 0 <= x, y < 34, p in {0, 1} and non-decreasing t. Anything else
    raises EventFileError naming ``source``; no other exception escapes.
    """
    if len(data) % BYTES_PER_EVENT:
        raise EventFileError(source, f"its {len(data)} bytes are not a whole number of 5-byte events")
    events = read_mnist_file(io.BytesIO(data), dtype=EVENT_DTYPE, is_stream=True)
    return checked(events, source, SENSOR_HEIGHT, SENSOR_WIDTH)


def checked(events: np.ndarray, source: str | Path, height: int, width: int) -> np.ndarray:
    """``events`` (EVENT_DTYPE) if every one is on the ``height`` x ``width`` sensor and time-ordered.

    Anything else raises EventFileError naming ``source`` and the first offending event.
    """
    outside = (events["x"] < 0) | (events["x"] >= width) | (events["y"] < 0) | (events["y"] >= height)
    if outside.any():
        i = int(np.argmax(outside))
        raise EventFileError(
            source, f"event {i} is at x={events['x'][i]}, y={events['y'][i]}, outside the {width}x{height} sensor"
        )
    odd = (events["p"] != 0) & (events["p"] != 1)
    if odd.any():
        i = int(np.argmax(odd))
        raise EventFileError(source, f"event {i} has polarity {events['p'][i]}; only 0 (OFF) and 1 (ON) exist")
    backwards = np.diff(events["t"]) < 0
    if backwards.any():
        i = int(np.argmax(backwards)) + 1
        raise EventFileError(
            source, f"timestamps go backwards at event {i} ({events['t'][i]} µs after {events['t'][i - 1]} µs)"
        )
    return events


def read_events(path: str | Path) -> np.ndarray:
    """The validated events of the file ``path`` (see ``decode_events``)."""
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise EventFileError(path, f"cannot be read ({err.strerror or err})") from None
    return decode_events(data, path)
