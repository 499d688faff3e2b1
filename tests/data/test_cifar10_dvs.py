"""``dataset=cifar10_dvs``: both recording formats, the framing of the rate-BP recipe, the layouts
and archives, on miniature roots written by tests/data/dvs_writer.py."""

import math
import shutil
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

from snntrain.app import train
from snntrain.core.errors import ConfigError, DatasetError
from snntrain.data.events.aedat import read_aedat2, read_aedat4, read_recording
from snntrain.data.events.cifar10_dvs import CIFAR10DVS, CIFAR10DVSConfig
from snntrain.data.events.framing import FrameSpec, FramingConfig, densify, frame_events
from snntrain.data.events.reader import EventFileError
from tests.conftest import SMOKE, compose_config
from tests.data.dvs_writer import (
    CLASSES,
    HEADER,
    encode_aedat2,
    random_events,
    write_aedat4,
    write_dataset,
)

PER_CLASS = 11  # round(0.9 * 11) = 10 train, 1 test: the test file is ..._10, last in numeric order


@pytest.fixture
def root(tmp_path):
    write_dataset(tmp_path / "dvs", PER_CLASS, np.random.default_rng(0))
    return tmp_path / "dvs"


def source(root, T=4, **kwargs):
    return CIFAR10DVS(CIFAR10DVSConfig(root=str(root), progress=False, workers=1, **kwargs), seed=0, T=T)


def framed(events, spec):
    flat, values = frame_events(events, spec)
    return densify(np.array([0, len(flat)]), flat, values, np.array([0]), spec.cells).reshape(spec.frame_shape)


def dvs_spec(T=10, size=48, **framing):
    return FrameSpec.from_config(FramingConfig(mode="n_event_bins", **framing), T, False, (128, 128), (size, size))


# ----- readers ---------------------------------------------------------------------------------
def test_an_aedat2_address_is_decoded_and_turned_upright(tmp_path):
    # address 0x0A0B: y_raw = 0x0A = 10 (bits 8-14), x_raw = 0x0B >> 1 = 5 (bits 1-7), p_raw = 1 (bit 0)
    path = tmp_path / "one.aedat"
    path.write_bytes(HEADER + struct.pack(">IIII", 0x0A0B, 7_000, 0x7F00, 7_250))
    events = read_aedat2(path)
    assert events[["x", "y", "p"]].tolist() == [(117, 122, 0), (0, 127, 1)]  # 0x7F00: y_raw 127, x_raw 0, p_raw 0
    assert events["t"].tolist() == [0, 250]  # relative to the first event


def test_aedat2_round_trip_of_random_events(tmp_path):
    x, y, t, p = random_events(np.random.default_rng(1), 500)
    path = tmp_path / "r.aedat"
    path.write_bytes(encode_aedat2(x, y, t, p))
    events = read_recording(path)
    for key, value in {"x": x, "y": y, "t": t - t[0], "p": p}.items():
        np.testing.assert_array_equal(events[key], value)


@pytest.mark.parametrize(
    "data, problem",
    [
        (struct.pack(">II", 1, 2), "has no AEDAT header"),
        (b"#!AER-DAT3.1\r\n" + struct.pack(">II", 1, 2), "is AEDAT 3.1"),
        (HEADER + struct.pack(">II", 1, 2) + b"\x01\x02\x03", "not a whole number of 8-byte events"),
        (b"#!AER-DAT2.0", "header never ends"),
        (HEADER + struct.pack(">IIII", 0, 900, 0, 800), "timestamps go backwards at event 1"),
    ],
)
def test_a_damaged_aedat2_file_is_named_with_its_problem(tmp_path, data, problem):
    path = tmp_path / "bad.aedat"
    path.write_bytes(data)
    with pytest.raises(EventFileError, match=problem) as err:
        read_recording(path)
    assert str(path) in str(err.value)


def test_aedat4_written_by_dv_processing_reads_back(tmp_path):
    pytest.importorskip("dv_processing", reason="dv-processing (the dev extra) writes the AEDAT 4 test file")
    x, y, t, p = random_events(np.random.default_rng(2), 300)
    write_aedat4(tmp_path / "r.aedat4", x, y, t, p)
    events = read_recording(tmp_path / "r.aedat4")
    for key, value in {"x": x, "y": y, "t": t - t[0], "p": p}.items():
        np.testing.assert_array_equal(events[key], value)


def test_unreadable_recordings_are_named(tmp_path):
    (tmp_path / "junk.aedat4").write_bytes(b"#!AER-DAT4.0\r\n\x00\x01")
    with pytest.raises(EventFileError, match="not a readable AEDAT 4 file"):
        read_aedat4(tmp_path / "junk.aedat4")
    with pytest.raises(EventFileError, match="cannot be read"):
        read_aedat2(tmp_path / "absent.aedat")
    with pytest.raises(EventFileError, match="suffix '.dat'"):
        read_recording(tmp_path / "x.dat")


# ----- framing ---------------------------------------------------------------------------------
@pytest.mark.parametrize("T, n", [(10, 1000), (10, 1003), (4, 7), (3, 0), (1, 20_000)])  # the last is dense: counted, not sorted
def test_n_event_bins_split_the_events_into_equal_consecutive_runs(T, n):
    rng = np.random.default_rng(T + n)
    x, y, t, p = random_events(rng, n, start_us=0)
    events = np.empty(n, [("x", np.int16), ("y", np.int16), ("t", np.int64), ("p", np.int8)])
    events["x"], events["y"], events["t"], events["p"] = x, y, t, p
    got = framed(events, dvs_spec(T))
    sizes = got.reshape(T, -1).sum(axis=1)
    assert sizes.sum() == n and sizes.max() - sizes.min() <= (1 if n else 0)
    expected, start = np.zeros((T, 2, 48, 48), np.int64), 0
    for k, size in enumerate(sizes.tolist()):  # consecutive runs of those sizes, binned by the definition
        for i in range(start, start + size):
            expected[k, p[i], math.floor(y[i] * 48 / 128), math.floor(x[i] * 48 / 128)] += 1
        start += size
    np.testing.assert_array_equal(got, np.minimum(expected, 255))


def test_full_size_frames_keep_every_pixel():
    events = np.zeros(2, [("x", np.int16), ("y", np.int16), ("t", np.int64), ("p", np.int8)])
    events["x"], events["y"], events["t"], events["p"] = [127, 0], [0, 127], [0, 5], [1, 0]
    got = framed(events, dvs_spec(T=1, size=128))
    assert got[0, 1, 0, 127] == 1 and got[0, 0, 127, 0] == 1 and got.sum() == 2


# ----- the dataset -----------------------------------------------------------------------------
def test_each_class_splits_nine_to_one_in_numeric_file_order(root):
    data = source(root, val_fraction=0.0).load()
    assert (len(data.train), len(data.test)) == (10 * 10, 10 * 1)
    assert data.info.input_shape == (2, 48, 48) and data.info.num_classes == 10
    files = [root / c / f"cifar10_{c}_10.aedat" for c in CLASSES]
    spec = dvs_spec(T=4)
    expected = np.stack([framed(read_recording(f), spec) for f in files])
    np.testing.assert_array_equal(data.test.x[np.arange(10)], expected)
    assert data.test.y.tolist() == list(range(10))


def test_the_rate_bp_row_trains_on_the_cache(root, tmp_path):
    overrides = ["experiment=ratebp_cifar10dvs_vggsnn", f"dataset.root={root}", "dataset.progress=false", "T=2",
                 "dataset.batch_size=4", "dataset.eval_batch_size=8", "model.spec=8C3-P2-8C3-P2-8C3-P2-8C3-P2", *SMOKE]
    metrics = train(compose_config(overrides), tmp_path / "run")
    assert metrics["epochs"] == 1 and math.isfinite(metrics["final_train_loss"])
    assert sorted(p.name for p in (root / "cache").glob("*/*.frames")) == ["test.frames", "train.frames"]


def test_tonics_layout_with_aedat4_recordings_is_found(tmp_path):
    pytest.importorskip("dv_processing", reason="dv-processing (the dev extra) writes the AEDAT 4 test files")
    write_dataset(tmp_path / "dvs" / "CIFAR10DVS", 2, np.random.default_rng(3), n_events=50, suffix=".aedat4")
    data = source(tmp_path / "dvs", val_fraction=0.0).load()
    assert (len(data.train), len(data.test)) == (10, 10)


def zip_classes(root, into, nest=""):
    """Zip each class folder of ``root`` as ``<class>.zip`` (top-level ``<class>/``) into ``into``, then
    remove the folders; with ``nest``, also wrap those zips into ``into/CIFAR10DVS.zip`` under ``nest``."""
    into.mkdir(parents=True, exist_ok=True)
    for name in CLASSES:
        with zipfile.ZipFile(into / f"{name}.zip", "w") as zf:
            for path in sorted((root / name).iterdir()):
                zf.write(path, f"{name}/{path.name}")
        shutil.rmtree(root / name)
    if nest:
        with zipfile.ZipFile(into / "CIFAR10DVS.zip", "w") as zf:
            for name in CLASSES:
                zf.write(into / f"{name}.zip", f"{nest}/{name}.zip")
                (into / f"{name}.zip").unlink()


def test_the_class_archives_alone_are_extracted_and_used(root):
    zip_classes(root, root)
    data = source(root, val_fraction=0.0).load()
    assert len(data.test) == 10 and (root / "cat" / "cifar10_cat_10.aedat").is_file()


def test_download_fetches_tonics_archive_with_its_checksum(root, tmp_path, monkeypatch):
    import tonic.download_utils
    from tonic.datasets import CIFAR10DVS as Tonic

    zip_classes(root, tmp_path / "served", nest="CIFAR10DVS")
    asked = []

    def fake_download_url(url, directory, filename, md5):
        asked.append((url, filename, md5))
        shutil.copy(tmp_path / "served" / "CIFAR10DVS.zip", Path(directory, filename))

    monkeypatch.setattr(tonic.download_utils, "download_url", fake_download_url)
    with pytest.raises(DatasetError, match="no recordings under"):
        source(root).load()
    data = source(root, download=True, val_fraction=0.0).load()
    assert len(data.train) == 100 and asked == [(Tonic.url, Tonic.filename, Tonic.file_md5)]


def test_missing_recordings_name_the_layout_and_where_to_get_them(tmp_path):
    with pytest.raises(DatasetError) as err:
        source(tmp_path / "empty").load()
    for text in ["<class>/*.aedat", "airplane.zip", "CIFAR10DVS.zip", "figshare.com", "dataset.download=true"]:
        assert text in str(err.value)


def test_a_missing_class_folder_is_named(root):
    shutil.rmtree(root / "frog")
    with pytest.raises(DatasetError, match="frog is missing"):
        source(root).split("train")


def test_a_damaged_recording_stops_the_build_or_is_skipped(root):
    bad = root / "dog" / "cifar10_dog_3.aedat"
    bad.write_bytes(bad.read_bytes()[:-3])
    with pytest.raises(EventFileError, match="cifar10_dog_3.aedat"):
        source(root).split("train")
    train_split = source(root, on_bad_file="skip").split("train")
    assert len(train_split) == 10 * 10 - 1


@pytest.mark.parametrize(
    "override, key",
    [("dataset.size=0", "dataset.size"), ("dataset.size=129", "dataset.size"), ("dataset.train_fraction=1.0", "dataset.train_fraction"),
     ("dataset.framing.time_window_us=1000", "dataset.framing.time_window_us")],
)
def test_bad_keys_are_config_errors_naming_them(override, key):
    from snntrain.app import plan

    with pytest.raises(ConfigError, match=key):
        plan(compose_config(["dataset=cifar10_dvs", override]))


@pytest.mark.parametrize("n, train", [(1000, 900), (11, 10), (3, 2), (2, 1), (1, 1)])
def test_the_split_keeps_a_test_recording_of_every_class_that_can_spare_one(n, train):
    from snntrain.data.events.cifar10_dvs import split_per_class

    labels = np.repeat(np.arange(3), n)
    kept, held = split_per_class(labels, 0.9, True), split_per_class(labels, 0.9, False)
    assert len(kept) == 3 * train and len(held) == 3 * (n - train)
    assert sorted([*kept, *held]) == list(range(3 * n))
    assert all(labels[kept].tolist().count(c) == train for c in range(3))


def test_the_rate_bp_row_builds_the_papers_vgg_snn_on_48x48_frames_with_its_augmentation():
    import torch

    from snntrain.app import plan

    cfg = compose_config(["experiment=ratebp_cifar10dvs_vggsnn"])
    assert (cfg.dataset.augment.flip, cfg.dataset.augment.roll, cfg.T, cfg.dataset.size) == (True, 5, 10, 48)
    model = plan(cfg).model
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    linear = next(m for m in model.modules() if isinstance(m, torch.nn.Linear))
    assert [c.out_channels for c in convs] == [64, 128, 256, 256, 512, 512, 512, 512] and convs[0].in_channels == 2
    assert (linear.in_features, linear.out_features) == (512 * 3 * 3, 10)
