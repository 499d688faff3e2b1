"""``dataset=nmnist`` finds the copy ``tonic.datasets.NMNIST(save_to=root)`` leaves: ``root/NMNIST/``
holding ``train.zip``, ``test.zip`` and the ``Train/`` and ``Test/`` folders they unpack to.

Tonic is the reference twice: its own ``NMNIST`` class lists the miniature layouts built here (so they
are the layout Tonic reads), and its ``ToFrame(n_time_bins=T)`` frames of its items must equal the
frames snntrain caches from the same root.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import tonic
from tonic.transforms import ToFrame

from snntrain.core.errors import DatasetError
from snntrain.data.events.framing import FramingConfig
from snntrain.data.events.nmnist_writer import write_root
from tests.data.test_nmnist_dataset import expected_frames, recordings, source, zip_folder

T = 8


@pytest.fixture
def tonic_root(tmp_path):
    """A miniature of what Tonic downloads into ``root``: ``root/NMNIST/{train,test}.zip`` and their folders."""
    root = tmp_path / "tonic"
    copy = write_root(root / "NMNIST", files_per_class=3)
    for folder in ("Train", "Test"):
        zip_folder(copy / folder, copy / f"{folder.lower()}.zip")
    return root


def tonic_dataset(root, train, monkeypatch, **kwargs):
    """Tonic's NMNIST on ``root``; a miniature has fewer than the 10,000 files Tonic checks for before it downloads."""
    monkeypatch.setattr(tonic.datasets.NMNIST, "_check_exists", lambda self: True)
    return tonic.datasets.NMNIST(save_to=str(root), train=train, **kwargs)


def all_frames(split):
    return split.x[np.arange(len(split))]


@pytest.mark.parametrize("name", ["train", "test"])
def test_tonics_copy_is_found_and_framed_as_tonic_frames_it(tonic_root, monkeypatch, name):
    ours = source(tonic_root, T=T, framing=FramingConfig(n_time_bins=T)).split(name)
    theirs = tonic_dataset(tonic_root, name == "train", monkeypatch, transform=ToFrame(sensor_size=(34, 34, 2), n_time_bins=T))
    assert len(ours) == len(theirs) == (30 if name == "train" else 10)
    order = sorted(range(len(theirs)), key=lambda i: theirs.data[i])  # Tonic lists by path, snntrain by class, then name
    np.testing.assert_array_equal(ours.y.numpy(), np.array(theirs.targets)[order])
    np.testing.assert_array_equal(all_frames(ours), np.stack([np.minimum(theirs[i][0], 255) for i in order]))
    assert not (tonic_root / "Train").exists() and not (tonic_root / "Test").exists()  # read in place


def test_tonics_archives_alone_are_extracted_where_tonic_would_put_them(tonic_root):
    copy = tonic_root / "NMNIST"
    shutil.rmtree(copy / "Train")
    shutil.rmtree(copy / "Test")
    data = source(tonic_root).load()
    assert len(data.test) == 10
    assert len(recordings(copy / "Train")) == 30 and len(recordings(copy / "Test")) == 10
    assert not (tonic_root / "Train").exists()


def test_the_genuine_recording_in_tonics_layout_is_framed_as_tonic_frames_it(shared_data, tmp_path, monkeypatch):
    """The real recording, linked (read in place) into Tonic's layout under two digits."""
    root = tmp_path / "tonic"
    for folder in ("Train", "Test"):
        for digit in ("3", "7"):
            (root / "NMNIST" / folder / digit).mkdir(parents=True)
            (root / "NMNIST" / folder / digit / "00001.bin").symlink_to(shared_data / "nmnist" / "sample.bin")
    for first_saccade_only in (False, True):
        for T_ in (1, 10, 30, 300):
            ours = source(root, T=T_, framing=FramingConfig(n_time_bins=T_), first_saccade_only=first_saccade_only).split("train")
            to_frame = ToFrame(sensor_size=(34, 34, 2), n_time_bins=T_)
            theirs = tonic_dataset(root, True, monkeypatch, transform=to_frame, first_saccade_only=first_saccade_only)
            assert ours.y.tolist() == theirs.targets == [3, 7]
            np.testing.assert_array_equal(all_frames(ours), np.minimum(np.stack([theirs[0][0], theirs[1][0]]), 255))


def test_snntrains_own_layout_comes_first(tonic_root):
    own = write_root(tonic_root, files_per_class=1, seed=9)  # root/Train and root/Test beside root/NMNIST
    split = source(tonic_root).split("train")
    assert len(split) == 10
    np.testing.assert_array_equal(all_frames(split), expected_frames(recordings(own / "Train")))


def test_missing_recordings_list_every_place_looked_in(tmp_path):
    root = tmp_path / "empty"
    with pytest.raises(DatasetError) as err:
        source(root).load()
    message = str(err.value)
    for place in [
        f"{root}/Train/<digit>/*.bin", f"{root}/NMNIST/Train/<digit>/*.bin", f"{root}/Train.zip", f"{root}/train.zip",
        f"{root}/NMNIST/Train.zip", f"{root}/NMNIST/train.zip", "tonic.datasets.NMNIST(save_to=",
    ]:
        assert place in message
