"""``dataset=nmnist`` end to end on miniature roots written by the test helper."""

import logging
import math
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from snntrain.app import plan, train
from snntrain.core.errors import DatasetError
from snntrain.data.events import convert
from snntrain.data.events.framing import FrameSpec, FramingConfig, densify, frame_events
from snntrain.data.events.nmnist import NMNIST, NMNISTConfig
from snntrain.data.events.nmnist_writer import encode_bin, write_root, write_split
from snntrain.data.events.reader import EventFileError, read_events
from tests.conftest import SMOKE, compose_config

QUIET = ["dataset.progress=false", "dataset.batch_size=8", "dataset.eval_batch_size=16"]


@pytest.fixture
def root(tmp_path):
    return write_root(tmp_path / "nmnist", files_per_class=3)


def config(root, extra=()):
    return compose_config(["dataset=nmnist", f"dataset.root={root}", *QUIET, *SMOKE, *extra])


def source(root, T=8, **kwargs):
    return NMNIST(NMNISTConfig(root=str(root), progress=False, **kwargs), seed=0, T=T)


def caches(root):
    return sorted((root / "cache").glob("*/*.frames"))


def identity(path):
    stat = path.stat()
    return stat.st_ino, stat.st_mtime_ns


def expected_frames(files, T=8):
    """The frames of ``files`` framed directly, without any cache."""
    spec = FrameSpec.from_config(FramingConfig(), T, False)
    rows = []
    for path in files:
        flat, values = frame_events(read_events(path), spec)
        rows.append(densify(np.array([0, len(flat)]), flat, values, np.array([0]), spec.cells)[0])
    return np.stack(rows).reshape(len(files), *spec.frame_shape)


def recordings(folder):
    return sorted(folder.glob("*/*.bin"))


@pytest.mark.slow
@pytest.mark.parametrize(
    "model, first_layer",
    [(["model=mlp"], lambda m: m.in_features == 2 * 34 * 34), (["model=cnn", "model.spec=8C3-P2-16C3-P2-64"], lambda m: m.in_channels == 2)],
)
def test_one_epoch_trains_and_the_cache_is_built_once(root, tmp_path, model, first_layer):
    cfg = config(root, model)
    layer = next(m for m in plan(cfg).model.modules() if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d)))
    assert first_layer(layer)
    metrics = train(cfg, tmp_path / "run")
    assert metrics["epochs"] == 1 and math.isfinite(metrics["final_train_loss"])
    built = {path: identity(path) for path in caches(root)}
    assert [p.name for p in built] == ["test.frames", "train.frames"]

    train(cfg, tmp_path / "again")
    assert {path: identity(path) for path in caches(root)} == built

    train(config(root, [*model, "dataset.framing.values=binary"]), tmp_path / "binary")
    assert len(caches(root)) == 4
    assert all(identity(path) == built[path] for path in built)


def test_the_cache_holds_exactly_the_framed_recordings(root):
    data = source(root).load()
    files = recordings(root / "Test")
    np.testing.assert_array_equal(data.test.x[np.arange(len(files))], expected_frames(files))
    assert data.test.y.tolist() == [int(p.parent.name) for p in files]
    assert len(data.train) + len(data.val) == 30 and data.info.input_shape == (2, 34, 34)


def test_the_tensorboard_log_gets_an_image_of_the_frames(root, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    train(config(root, ["logger=tensorboard"]), tmp_path / "run")
    events = EventAccumulator(str(tmp_path / "run" / "tensorboard"))
    events.Reload()
    assert "data/event_frames" in events.Tags()["images"]


def damage(folder):
    bad = folder / "3" / "00099.bin"
    bad.write_bytes(encode_bin([1], [1], [5], [0]) + b"\x07")
    return bad


def test_a_damaged_file_stops_the_build_naming_it(tmp_path):
    root = tmp_path / "nmnist"
    write_split(root / "Train", 7, np.random.default_rng(0))  # 70 files: two tasks, two workers
    bad = damage(root / "Train")
    with pytest.raises(EventFileError, match="not a whole number") as err:
        source(root, workers=2).split("train")
    assert err.value.path == str(bad)
    assert caches(root) == [] and not list((root / "cache").rglob(".*partial"))


def test_skipped_damaged_files_are_counted_and_the_rest_is_kept(tmp_path, caplog):
    root = tmp_path / "nmnist"
    write_split(root / "Train", 7, np.random.default_rng(0))
    bad = damage(root / "Train")
    with caplog.at_level(logging.INFO, logger="snntrain"):
        split = source(root, workers=2, on_bad_file="skip").split("train")
    assert len(split) == 70
    good = [p for p in recordings(root / "Train") if p != bad]
    np.testing.assert_array_equal(split.x[np.arange(70)], expected_frames(good))
    assert "skipped 1 damaged file(s)" in caplog.text and str(bad) in caplog.text
    with pytest.raises(DatasetError, match="built with dataset.on_bad_file=skip"):
        source(root, on_bad_file="error").split("train")


def build_slowly(root):
    """Child process: build the train cache one slow file at a time (so it can be killed mid-way)."""
    real = convert.frame_files
    convert.FILES_PER_TASK = 1
    convert.frame_files = lambda paths, spec, reader: (time.sleep(0.05), real(paths, spec, reader))[1]
    source(root, workers=1).split("train")


def test_a_killed_build_leaves_nothing_trusted_and_the_next_run_rebuilds(root):
    child = multiprocessing.get_context("fork").Process(target=build_slowly, args=(root,))
    child.start()
    deadline = time.monotonic() + 60
    while not any(p.stat().st_size for p in root.glob("cache/*/.train.frames.*.partial/flat")):
        assert child.is_alive() and time.monotonic() < deadline, "the build never started spilling"
        time.sleep(0.01)
    os.kill(child.pid, signal.SIGKILL)
    child.join()
    assert child.exitcode == -signal.SIGKILL
    assert not list(root.glob("cache/*/train.frames"))
    assert list(root.glob("cache/*/.train.frames.*.partial"))

    split = source(root).split("train")
    np.testing.assert_array_equal(split.x[np.arange(len(split))], expected_frames(recordings(root / "Train")))
    assert not list(root.glob("cache/*/.*.partial"))


def test_a_truncated_cache_file_is_rebuilt_not_read(root):
    source(root).split("test")
    (path,) = caches(root)
    before = identity(path)
    with open(path, "r+b") as f:
        f.truncate(path.stat().st_size // 2)
    split = source(root).split("test")
    assert identity(path) != before
    np.testing.assert_array_equal(split.x[np.arange(len(split))], expected_frames(recordings(root / "Test")))


def test_changed_recordings_rebuild_the_cache(root):
    source(root).split("test")
    write_split(root / "Test", 2, np.random.default_rng(5), classes=[4])  # overwrites 00000, adds 00001
    split = source(root).split("test")
    np.testing.assert_array_equal(split.x[np.arange(len(split))], expected_frames(recordings(root / "Test")))


def zip_folder(folder, archive, extra=()):
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(folder.rglob("*.bin")):
            zf.write(path, path.relative_to(folder.parent).as_posix())
        for name in extra:
            zf.writestr(name, b"")


def test_the_official_archives_alone_are_extracted_and_used(root, tmp_path):
    for folder in ["Train", "Test"]:
        zip_folder(root / folder, root / f"{folder}.zip")
        shutil.rmtree(root / folder)
    metrics = train(config(root), tmp_path / "run")
    assert metrics["epochs"] == 1
    assert len(recordings(root / "Train")) == 30 and len(recordings(root / "Test")) == 10


@pytest.mark.parametrize("member", ["../escaped.bin", "Train/../../escaped.bin", "/tmp/escaped.bin"])
def test_extraction_refuses_a_member_that_escapes_the_root(root, tmp_path, member):
    zip_folder(root / "Train", tmp_path / "Train.zip", extra=[member])
    shutil.rmtree(root / "Train")
    (tmp_path / "Train.zip").rename(root / "Train.zip")
    with pytest.raises(DatasetError, match="outside"):
        source(root).split("train")
    assert not (root / "Train").exists() and not list(tmp_path.rglob("escaped.bin"))


def test_download_uses_tonics_urls_and_checksums(root, monkeypatch):
    import tonic.download_utils

    archives = {}
    for folder in ["Train", "Test"]:
        zip_folder(root / folder, root.parent / f"{folder}.zip")
        archives[folder] = (root.parent / f"{folder}.zip").read_bytes()
        shutil.rmtree(root / folder)
    asked = []

    def fake_download_url(url, directory, filename, md5):
        asked.append((url, filename, md5))
        Path(directory, filename).write_bytes(archives["Train" if filename.lower().startswith("train") else "Test"])

    monkeypatch.setattr(tonic.download_utils, "download_url", fake_download_url)
    with pytest.raises(DatasetError, match="not found"):
        source(root).load()
    data = source(root, download=True).load()
    assert len(data.test) == 10
    md5s = {md5 for _, _, md5 in asked}
    assert md5s == {"20959b8e626244a1b502305a9e6e2031", "69ca8762b2fe404d9b9bad1103e97832"}
    assert all(url.startswith("https://") for url, _, _ in asked)


def test_missing_files_name_the_layout_and_where_to_get_them(tmp_path):
    with pytest.raises(DatasetError) as err:
        source(tmp_path / "empty").load()
    message = str(err.value)
    for text in ["Train/<digit>/*.bin", "Test/<digit>/*.bin", "Train.zip", "garrickorchard.com", "dataset.download=true"]:
        assert text in message


def test_a_class_folder_that_is_not_a_digit_is_an_error(root):
    (root / "Train" / "seven").mkdir()
    with pytest.raises(DatasetError, match="seven is not a class folder"):
        source(root).split("train")


def test_snntrain_data_prepares_the_caches_without_training(root, tmp_path):
    script = Path(sys.executable).parent / "snntrain-data"
    assert script.exists(), "the snntrain-data console script is not installed: make install (pip install -e .)"
    args = [str(script), "dataset=nmnist", f"dataset.root={root}", "dataset.progress=false", "T=4", f"hydra.run.dir={tmp_path / 'run'}"]
    result = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "ready" in result.stderr
    spec = FrameSpec.from_config(FramingConfig(), 4, False)
    assert [p.name for p in caches(root)] == ["test.frames", "train.frames"]
    assert caches(root)[0].parent.name == spec.digest()
