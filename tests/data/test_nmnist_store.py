"""The frame cache file: every storage form reads back the same frames; damaged files are not read."""

import numpy as np
import pytest

from snntrain.data.events import store
from snntrain.data.events.framing import densify

SHAPE = (3, 2, 4, 5)
CELLS = int(np.prod(SHAPE))


def sparse_samples(rng, n, max_value):
    flats, values = [], []
    for _ in range(n):
        flat = np.sort(rng.choice(CELLS, size=rng.integers(0, 12), replace=False)).astype(np.uint32)
        flats.append(flat)
        values.append(rng.integers(1, max_value + 1, len(flat)).astype(np.uint8))
    offsets = np.concatenate([[0], np.cumsum([len(f) for f in flats])]).astype(np.int64)
    return offsets, np.concatenate(flats), np.concatenate(values)


@pytest.mark.parametrize("form, max_value", [("dense", 3), ("sparse", 3), ("bits", 1), ("sparse", 1)])
def test_each_form_reads_back_the_same_frames(tmp_path, form, max_value):
    offsets, flat, values = sparse_samples(np.random.default_rng(1), 9, max_value)
    truth = densify(offsets, flat, values, np.arange(9), CELLS).reshape(9, *SHAPE)
    arrays = {"labels": store.ArraySpec("int64", (9,), [np.arange(9)])}
    arrays.update(store.frame_arrays(form, offsets, flat, values, CELLS, rows_per_chunk=4))
    store.write(tmp_path / "f", {"form": form}, arrays)
    header, mapped = store.read(tmp_path / "f")
    frames = store.FrameStore(header["form"], mapped, SHAPE)
    assert len(frames) == 9 and mapped["labels"].tolist() == list(range(9))
    index = np.array([0, 3, 4, 8])
    np.testing.assert_array_equal(frames[index], truth[index])
    np.testing.assert_array_equal(frames[5], truth[5])
    assert frames[index].dtype == np.uint8


def test_the_smallest_form_is_chosen():
    assert store.smallest_form(n=100, cells=10, nnz=900, max_value=3) == "dense"
    assert store.smallest_form(n=100, cells=1000, nnz=900, max_value=3) == "sparse"
    assert store.smallest_form(n=100, cells=1000, nnz=30_000, max_value=1) == "bits"
    assert store.smallest_form(n=100, cells=1000, nnz=30_000, max_value=2) == "dense"


def test_truncated_or_foreign_files_are_not_read(tmp_path):
    store.write(tmp_path / "f", {"form": "dense"}, {"frames": store.ArraySpec("uint8", (4, 100), [np.ones((4, 100), np.uint8)])})
    data = (tmp_path / "f").read_bytes()
    for name, content in [("short", data[:-10]), ("foreign", b"PK\x03\x04" + data[4:]), ("tiny", data[:12])]:
        (tmp_path / name).write_bytes(content)
        assert store.read(tmp_path / name) is None
    assert store.read(tmp_path / "absent") is None
    assert store.read(tmp_path / "f") is not None
