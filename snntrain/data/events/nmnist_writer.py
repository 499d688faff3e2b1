"""Write N-MNIST ``.bin`` recordings (the inverse of ``reader.py``) and miniature roots of random ones.

For ``scripts/reproduce.py --smoke`` (an N-MNIST row runs through its own loader and framing
without the real data), the tests and the data benchmarks.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

OVERFLOW_US = 1 << 13
OVERFLOW_Y = 240


def encode_bin(x, y, t, p, wrap: bool = False) -> bytes:
    """The .bin bytes of events (x, y, t in µs, p). With ``wrap`` the timestamps are stored modulo
    2^13 and an overflow-marker row (y = 240) is written each time t passes a multiple of 2^13, as
    the ATIS camera does; otherwise t is stored as is (23 bits)."""
    x, y, t, p = (np.asarray(a, dtype=np.int64) for a in (x, y, t, p))
    markers_before = t // OVERFLOW_US if wrap else np.zeros_like(t)
    raw = t - markers_before * OVERFLOW_US
    assert (raw < 1 << 23).all(), "timestamps need 23 bits or fewer (use wrap=True)"
    total = len(t) + int(markers_before[-1] if len(t) else 0)
    rows = np.zeros((total, 5), np.uint8)
    rows[:, 1] = OVERFLOW_Y  # every row not overwritten by an event below is a marker
    at = np.arange(len(t)) + markers_before
    rows[at, 0], rows[at, 1] = x, y
    rows[at, 2] = (p << 7) | (raw >> 16)
    rows[at, 3], rows[at, 4] = (raw >> 8) & 0xFF, raw & 0xFF
    return rows.tobytes()


def random_events(rng: np.random.Generator, n: int, duration_us: int = 300_000):
    """``n`` uniformly random events over ``duration_us``: (x, y, t, p), t sorted."""
    return (
        rng.integers(0, 34, n), rng.integers(0, 34, n),
        np.sort(rng.integers(0, duration_us, n)), rng.integers(0, 2, n),
    )


def write_split(folder: Path, files_per_class: int, rng: np.random.Generator, n_events: int = 300, classes=range(10)) -> list[Path]:
    """``folder/<digit>/<5 digits>.bin`` random recordings, ``files_per_class`` per digit; their paths."""
    paths = []
    for digit in classes:
        (folder / str(digit)).mkdir(parents=True, exist_ok=True)
        for i in range(files_per_class):
            path = folder / str(digit) / f"{i:05d}.bin"
            path.write_bytes(encode_bin(*random_events(rng, n_events)))
            paths.append(path)
    return paths


def write_root(root: Path, files_per_class: int = 3, seed: int = 0, n_events: int = 300) -> Path:
    """A miniature N-MNIST root (Train/ and Test/) of random recordings."""
    rng = np.random.default_rng(seed)
    write_split(root / "Train", files_per_class, rng, n_events)
    write_split(root / "Test", max(1, files_per_class // 2), rng, n_events)
    return root
