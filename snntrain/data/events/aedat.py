"""Read one CIFAR10-DVS recording: the original AEDAT 2.0 ``.aedat`` file or Tonic's ``.aedat4`` copy.

AEDAT 2.0 (Li et al. 2017, figshare 4724671, what SpikingJelly reads): ``#`` header lines, the
first ``#!AER-DAT2.0``, then big-endian uint32 pairs (address, timestamp in µs). The header is
parsed here: Tonic's parser fails on headers with a "Creation time:" line in another layout. The
address of the DVS128 recordings holds the polarity in bit 0, x in bits 1-7 and y in bits 8-14. As in SpikingJelly (after events-tfds PR #1), the picture is turned upright with
x = 127 - y_raw, y = 127 - x_raw, and the polarity is flipped so that 1 is ON.

AEDAT 4 (Tonic's download, figshare 38023437): decoded by the ``aedat`` package through
``tonic.io.read_aedat4``; its coordinates and polarities are used as stored.

Both give ``EVENT_DTYPE`` events on the 128 x 128 sensor with times relative to the first event.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from snntrain.core.errors import DatasetError
from snntrain.data.events.config import SENSOR_SIZE
from snntrain.data.events.reader import EVENT_DTYPE, EventFileError, checked

HEADER_START = b"#!AER-DAT"
PAIR_BYTES = 8
X_MASK, X_SHIFT = 0x00FE, 1
Y_MASK, Y_SHIFT = 0x7F00, 8
POLARITY_MASK = 0x0001


def events_from(t: np.ndarray, x: np.ndarray, y: np.ndarray, p: np.ndarray, source: str | Path) -> np.ndarray:
    """Validated ``EVENT_DTYPE`` events with ``t`` shifted to start at 0."""
    events = np.empty(len(t), EVENT_DTYPE)
    t = t.astype(np.int64)
    events["t"] = t - t[0] if len(t) else t
    events["x"], events["y"], events["p"] = x, y, p
    return checked(events, source, SENSOR_SIZE, SENSOR_SIZE)


def aedat2_payload(data: bytes, source: str | Path) -> np.ndarray:
    """The (address, timestamp) uint32 pairs ``[n, 2]`` after the header of AEDAT 2 ``data``."""
    start, first = 0, None
    while data[start : start + 1] == b"#":
        end = data.find(b"\n", start)
        if end < 0:
            raise EventFileError(source, "its header never ends (no newline after a '#' line)")
        first = data[start:end].strip() if first is None else first
        start = end + 1
    if first is None or not first.startswith(HEADER_START):
        raise EventFileError(source, f"has no AEDAT header (a first line {HEADER_START.decode()}2.0)")
    version = first[len(HEADER_START) :].decode(errors="replace")
    if not version.startswith("2."):
        raise EventFileError(source, f"is AEDAT {version}, but the original CIFAR10-DVS files are AEDAT 2.0")
    payload = len(data) - start
    if payload % PAIR_BYTES:
        raise EventFileError(source, f"its {payload} bytes after the header are not a whole number of 8-byte events")
    return np.frombuffer(data, dtype=">u4", offset=start).reshape(-1, 2)


def read_aedat2(path: str | Path) -> np.ndarray:
    """The events of an original CIFAR10-DVS ``.aedat`` file; EventFileError names a damaged one."""
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise EventFileError(path, f"cannot be read ({err.strerror or err})") from None
    pairs = aedat2_payload(data, path).astype(np.int64)
    address, t = pairs[:, 0], pairs[:, 1]
    x_raw = (address & X_MASK) >> X_SHIFT
    y_raw = (address & Y_MASK) >> Y_SHIFT
    return events_from(t, SENSOR_SIZE - 1 - y_raw, SENSOR_SIZE - 1 - x_raw, 1 - (address & POLARITY_MASK), path)


def read_aedat4(path: str | Path) -> np.ndarray:
    """The events of a ``.aedat4`` file (Tonic's CIFAR10-DVS); EventFileError names a damaged one."""
    try:
        import aedat  # noqa: F401  (tonic.io.read_aedat4 imports it inside; say which package is missing)
    except ImportError:
        raise DatasetError(f"{path} is an AEDAT 4 file, which needs the 'aedat' package: pip install aedat") from None
    from tonic.io import read_aedat4 as tonic_read_aedat4

    try:
        raw = tonic_read_aedat4(str(path))
    except Exception as err:  # the Rust decoder raises plain Exceptions of several kinds
        raise EventFileError(path, f"is not a readable AEDAT 4 file ({err})") from None
    t, x, y, p = (raw[name] for name in raw.dtype.names)  # (t, x, y, on); Tonic renames the last one
    return events_from(t, x, y, p.astype(np.int8), path)


READERS = {".aedat": read_aedat2, ".aedat4": read_aedat4}


def read_recording(path: str | Path) -> np.ndarray:
    """The events of a CIFAR10-DVS recording, read by its suffix (``.aedat`` or ``.aedat4``)."""
    suffix = Path(path).suffix
    if suffix not in READERS:
        raise EventFileError(path, f"has the suffix {suffix!r}; CIFAR10-DVS recordings are .aedat or .aedat4")
    return READERS[suffix](path)
