"""The frame cache and archive extraction under real faults: a cache damaged on disk or of another
format is rebuilt; a full disk while building a cache or extracting an archive is one StorageError
that names the path, and leaves nothing half-written."""

from __future__ import annotations

import json
import logging
import shutil

import numpy as np
import pytest

from snntrain.data.events import convert, store
from snntrain.data.events.framing import FramingConfig
from snntrain.data.events.nmnist_writer import write_root
from tests.data.test_nmnist_dataset import (
    caches,
    expected_frames,
    identity,
    recordings,
    source,
    zip_folder,
)
from tests.faults import in_child


@pytest.fixture
def root(tmp_path):
    return write_root(tmp_path / "nmnist", files_per_class=3)


def test_a_cache_damaged_on_disk_fails_its_checksum_and_is_rebuilt(root, caplog):
    source(root).split("test")
    (path,) = caches(root)
    header, arrays = store.read(path)
    assert store.verified(header, arrays)
    before = identity(path)
    length = int.from_bytes(path.read_bytes()[8:16], "little")
    at = store.aligned(16 + length) + header["arrays"]["flat"]["offset"]  # the first frame cell stored
    with open(path, "r+b") as f:  # one bit flipped, the size unchanged
        f.seek(at)
        byte = f.read(1)[0]
        f.seek(at)
        f.write(bytes([byte ^ 1]))
    assert not store.verified(*store.read(path))
    with caplog.at_level(logging.WARNING, logger="snntrain"):
        split = source(root).split("test")
    assert "does not match its checksum" in caplog.text and identity(path) != before
    np.testing.assert_array_equal(split.x[np.arange(len(split))], expected_frames(recordings(root / "Test")))


def test_a_cache_of_the_format_before_checksums_is_rebuilt(root, caplog):
    source(root).split("test")
    (path,) = caches(root)
    data = path.read_bytes()
    length = int.from_bytes(data[8:16], "little")
    header = json.loads(data[16 : 16 + length])
    old = json.dumps({**{k: v for k, v in header.items() if k != store.CHECKSUM_KEY}, "version": 1}).encode().ljust(length)
    path.write_bytes(data[:16] + old + data[16 + length :])  # the header as format 1 wrote it
    with caplog.at_level(logging.INFO, logger="snntrain"):
        source(root).split("test")
    assert "built by another snntrain version (cache format 1)" in caplog.text
    assert store.read(path)[0]["version"] == convert.FORMAT_VERSION


@pytest.mark.parametrize("framing, rebuilt", [({"n_time_bins": 8}, True), ({"n_event_bins": 8}, False), ({"time_window_us": 600.0}, False)])
def test_a_version_2_cache_is_rebuilt_only_where_version_3_changed_the_frames(root, monkeypatch, caplog, framing, rebuilt):
    """Version 3 made n_time_bins Tonic's binning: a version-2 n_time_bins cache under the same spec holds other frames."""
    monkeypatch.setattr(convert, "FORMAT_VERSION", 2)
    source(root, workers=1, framing=FramingConfig(**framing)).split("test")
    (path,) = caches(root)
    before = identity(path)
    monkeypatch.undo()
    with caplog.at_level(logging.INFO, logger="snntrain"):
        source(root, workers=1, framing=FramingConfig(**framing)).split("test")
    assert (identity(path) != before) == rebuilt
    assert ("built by another snntrain version (cache format 2)" in caplog.text) == rebuilt
    assert store.read(path)[0]["version"] == (convert.FORMAT_VERSION if rebuilt else 2)


def test_a_full_disk_while_building_the_cache_names_it_and_keeps_nothing(root):
    outcome = in_child(lambda: source(root, workers=1).split("train"), file_size_limit=1000)
    folder = next((root / "cache").iterdir())
    assert outcome == (
        "StorageError",
        f"cannot write the frame cache {folder / 'train.frames'}: the file-size limit was reached (EFBIG); raise the limit "
        "(ulimit -f unlimited). Nothing was kept: free space or set dataset.root elsewhere, then run again.",
    )
    assert list(folder.iterdir()) == []  # no cache, no work folder


def test_a_full_disk_while_extracting_an_archive_names_it_and_keeps_nothing(root):
    zip_folder(root / "Train", root / "Train.zip")
    shutil.rmtree(root / "Train")
    kind, message = in_child(lambda: source(root, workers=1).split("train"), file_size_limit=1000)
    assert kind == "StorageError" and message.startswith(f"cannot write the recordings of Train.zip {root / 'Train'}: the file-size limit was reached")
    assert "Nothing half-extracted is kept" in message
    assert sorted(p.name for p in root.iterdir()) == ["Test", "Train.zip"]
