"""Test helper: write CIFAR10-DVS recordings in both formats, from the formats' definitions.

AEDAT 2.0 (the original release): '#' header lines, then big-endian uint32 (address, timestamp)
pairs, the address holding polarity in bit 0, x in bits 1-7, y in bits 8-14, of a sensor that
readers turn upright (x = 127 - y_raw, y = 127 - x_raw, ON = 1 - p_raw). AEDAT 4 is written by
iniVation's own dv-processing library.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
HEADER = (
    b"#!AER-DAT2.0\r\n"
    b"# This is a raw AE data file - do not edit\r\n"
    b"# Data format is int32 address, int32 timestamp (8 bytes total), repeated for each event\r\n"
    b"# Creation time: Thu Dec 08 16:47:38 CET 2016\r\n"
)


def encode_aedat2(x, y, t, p, header: bytes = HEADER) -> bytes:
    """The .aedat bytes of upright events (x, y, t in µs, p with 1 = ON)."""
    x, y, t, p = (np.asarray(a, dtype=np.int64) for a in (x, y, t, p))
    x_raw, y_raw, p_raw = 127 - y, 127 - x, 1 - p
    pairs = np.empty((len(t), 2), ">u4")
    pairs[:, 0] = (y_raw << 8) | (x_raw << 1) | p_raw
    pairs[:, 1] = t
    return header + pairs.tobytes()


def write_aedat4(path: Path, x, y, t, p) -> None:
    """An AEDAT 4 file of events (x, y, t in µs, p with 1 = ON), written by dv-processing."""
    import dv_processing as dv

    store = dv.EventStore()
    for ti, xi, yi, pi in zip(*(np.asarray(a).tolist() for a in (t, x, y, p))):
        store.push_back(int(ti), int(xi), int(yi), bool(pi))
    writer = dv.io.MonoCameraWriter(str(path), dv.io.MonoCameraWriter.EventOnlyConfig("DVS128", (128, 128)))
    writer.writeEvents(store)
    del writer  # the file is complete once the writer is gone


def random_events(rng: np.random.Generator, n: int, start_us: int = 5_000_000, duration_us: int = 1_300_000):
    """``n`` random events: (x, y, t, p), t sorted, starting at ``start_us`` (recordings carry a clock offset)."""
    return (
        rng.integers(0, 128, n), rng.integers(0, 128, n),
        start_us + np.sort(rng.integers(0, duration_us, n)), rng.integers(0, 2, n),
    )


def write_dataset(folder: Path, per_class: int, rng: np.random.Generator, n_events: int = 200, suffix: str = ".aedat") -> dict[str, list[Path]]:
    """``folder/<class>/cifar10_<class>_<i>.<suffix>`` random recordings, ``per_class`` each; their paths by class."""
    written = {}
    for name in CLASSES:
        (folder / name).mkdir(parents=True, exist_ok=True)
        written[name] = []
        for i in range(per_class):
            path = folder / name / f"cifar10_{name}_{i}{suffix}"
            events = random_events(rng, n_events)
            if suffix == ".aedat":
                path.write_bytes(encode_aedat2(*events))
            else:
                write_aedat4(path, *events)
            written[name].append(path)
    return written
