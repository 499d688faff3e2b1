"""The frame cache file: one per split, written once, memory-mapped by every later run.

Layout: 8-byte magic, 8-byte little-endian header length, a JSON header, then raw arrays at
64-byte aligned offsets recorded in the header. The header's ``sha256`` is the digest of the rest of
the header and of every array's bytes (``checksum``); ``verified`` recomputes it. The frames are stored in whichever of three
forms is smallest for the data: ``dense`` uint8 ``[n, T*2*34*34]``, ``bits`` (the same, one bit
per cell, when no cell exceeds 1) or ``sparse`` (per-sample offsets into flat cell indices and
values). ``FrameStore`` hides the form: indexing it always gives dense uint8 frames.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from snntrain.data.events.framing import densify

MAGIC = b"SNNFRM01"
ALIGN = 64
CHECKSUM_KEY = "sha256"


@dataclass
class ArraySpec:
    """An array to write: its dtype, shape and the chunks (in order) that make it up."""

    dtype: str
    shape: tuple[int, ...]
    chunks: Iterable[np.ndarray]


def write(path: Path, header: dict[str, Any], arrays: dict[str, ArraySpec]) -> None:
    """Write ``header`` and ``arrays`` to ``path`` with their checksum and fsync it (callers rename it into place)."""
    layout, offset = {}, 0
    for name, spec in arrays.items():
        layout[name] = {"dtype": spec.dtype, "shape": list(spec.shape), "offset": offset}
        offset += -(-int(np.prod(spec.shape, dtype=np.int64)) * np.dtype(spec.dtype).itemsize // ALIGN) * ALIGN
    header = {**header, "arrays": layout, "data_bytes": offset}
    digest = header_digest(header)
    with open(path, "wb") as f:
        head = header_bytes({**header, CHECKSUM_KEY: "0" * 64})  # the same length as the real one, written last
        f.write(head)
        data_start = aligned(len(head))
        for name, spec in arrays.items():
            f.seek(data_start + layout[name]["offset"])
            written = 0
            for chunk in spec.chunks:
                chunk = np.ascontiguousarray(chunk, dtype=spec.dtype)
                f.write(chunk.data)
                digest.update(chunk.data)
                written += chunk.nbytes
            expected = int(np.prod(spec.shape, dtype=np.int64)) * np.dtype(spec.dtype).itemsize
            assert written == expected, f"{name}: wrote {written} of {expected} bytes"
        f.truncate(data_start + offset)
        f.seek(0)
        f.write(header_bytes({**header, CHECKSUM_KEY: digest.hexdigest()}))
        f.flush()
        os.fsync(f.fileno())


def header_bytes(header: dict[str, Any]) -> bytes:
    text = json.dumps(header).encode()
    return MAGIC + len(text).to_bytes(8, "little") + text


def aligned(n: int) -> int:
    return -(-n // ALIGN) * ALIGN


def header_digest(header: dict[str, Any]):
    """A sha256 fed with ``header`` (but its checksum), to be fed the arrays' bytes in order."""
    return hashlib.sha256(json.dumps({k: v for k, v in header.items() if k != CHECKSUM_KEY}, sort_keys=True).encode())


def verified(header: dict[str, Any], arrays: dict[str, np.ndarray]) -> bool:
    """Whether ``arrays`` (as ``read`` maps them) and ``header`` still have the checksum they were written with."""
    digest = header_digest(header)
    for name in header["arrays"]:
        digest.update(np.ascontiguousarray(arrays[name]).reshape(-1).view(np.uint8))
    return header.get(CHECKSUM_KEY) == digest.hexdigest()


def read(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]] | None:
    """The header and memory-mapped arrays of ``path``; None when it is absent, foreign or short
    (its checksum is not checked here: see ``verified``)."""
    try:
        with open(path, "rb") as f:
            if f.read(len(MAGIC)) != MAGIC:
                return None
            length = int.from_bytes(f.read(8), "little")
            header = json.loads(f.read(length))
        data_start = aligned(len(MAGIC) + 8 + length)
        if path.stat().st_size != data_start + header["data_bytes"]:
            return None
        arrays = {}
        for name, a in header["arrays"].items():
            start = data_start + a["offset"]
            nbytes = int(np.prod(a["shape"], dtype=np.int64)) * np.dtype(a["dtype"]).itemsize
            arrays[name] = (
                np.memmap(path, dtype=a["dtype"], mode="r", offset=start, shape=tuple(a["shape"]))
                if nbytes else np.zeros(a["shape"], a["dtype"])
            )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return header, arrays


def smallest_form(n: int, cells: int, nnz: int, max_value: int) -> str:
    """The form that stores ``n`` samples of ``cells`` cells with ``nnz`` non-zeros in the fewest bytes."""
    sizes = {"dense": n * cells}
    if max_value <= 1:
        sizes["bits"] = n * -(-cells // 8)
    sizes["sparse"] = 8 * (n + 1) + 4 * nnz + (nnz if max_value > 1 else 0)
    return min(sizes, key=sizes.get)  # ties keep the earlier, faster-to-read form


def frame_arrays(form: str, offsets: np.ndarray, flat: np.ndarray, values: np.ndarray, cells: int, rows_per_chunk: int = 256) -> dict[str, ArraySpec]:
    """The arrays that store sparse frames (``densify``'s arguments) in ``form``."""
    n = len(offsets) - 1
    if form == "sparse":
        arrays = {"offsets": ArraySpec("int64", (n + 1,), [offsets]), "flat": ArraySpec("uint32", flat.shape, chunked(flat))}
        if len(values) and values.max() > 1:
            arrays["values"] = ArraySpec("uint8", values.shape, chunked(values))
        return arrays

    def rows(encode: Callable[[np.ndarray], np.ndarray]) -> Iterable[np.ndarray]:
        for start in range(0, n, rows_per_chunk):
            yield encode(densify(offsets, flat, values, np.arange(start, min(n, start + rows_per_chunk)), cells))

    if form == "dense":
        return {"frames": ArraySpec("uint8", (n, cells), rows(lambda d: d))}
    return {"frames": ArraySpec("uint8", (n, -(-cells // 8)), rows(lambda d: np.packbits(d, axis=1)))}


def chunked(array: np.ndarray, size: int = 1 << 24) -> Iterable[np.ndarray]:
    for start in range(0, len(array), size):
        yield array[start : start + size]


class FrameStore:
    """The frames of one cached split: ``store[index]`` is uint8 ``[len(index), T, 2, 34, 34]``.

    Reads one fancy index per call (sorted indices read the file sequentially); an int index gives
    one sample ``[T, 2, 34, 34]``.
    """

    def __init__(self, form: str, arrays: dict[str, np.ndarray], frame_shape: tuple[int, ...]) -> None:
        self.form, self.arrays, self.frame_shape = form, arrays, tuple(frame_shape)
        self.cells = int(np.prod(self.frame_shape))
        self.n = len(arrays["offsets"]) - 1 if form == "sparse" else len(arrays["frames"])

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index) -> np.ndarray:
        rows = np.asarray(index, dtype=np.int64)
        flat_rows = rows.reshape(-1)
        if self.form == "dense":
            dense = np.asarray(self.arrays["frames"][flat_rows])
        elif self.form == "bits":
            dense = np.unpackbits(self.arrays["frames"][flat_rows], axis=1, count=self.cells)
        else:
            a = self.arrays
            dense = densify(a["offsets"], a["flat"], a.get("values"), flat_rows, self.cells)
        return dense.reshape(*rows.shape, *self.frame_shape)
