"""Embedded digits, the IDX reader on the real MNIST files, encoders and the batch loader."""

import gzip

import numpy as np
import pytest
import torch

from snntrain.core.errors import DatasetError
from snntrain.data import BatchLoader, Split
from snntrain.data.digits import Digits, DigitsConfig
from snntrain.data.encoders import direct, events, poisson
from snntrain.data.vision import IDXDataset, MNISTConfig, read_idx


def test_digits_split_is_stratified_deterministic_and_disjoint():
    a = Digits(DigitsConfig(), seed=0).load()
    b = Digits(DigitsConfig(), seed=0).load()
    assert torch.equal(a.train.x, b.train.x) and torch.equal(a.test.y, b.test.y)
    assert len(a.train) + len(a.val) + len(a.test) == 1797 and len(a.test) == 359  # 20 % per class, rounded
    assert a.test.y.bincount().min() >= 35  # every class in the test split
    assert a.train.x.min() >= 0 and a.train.x.max() <= 1 and a.info.input_shape == (1, 8, 8)


def test_real_mnist_test_set_reads_exactly(shared_data):
    raw = shared_data / "mnist" / "raw"
    images = read_idx(raw / "t10k-images-idx3-ubyte.gz")
    labels = read_idx(raw / "t10k-labels-idx1-ubyte.gz")
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and labels.max() == 9
    assert np.bincount(labels).tolist()[:3] == [980, 1135, 1032]  # the well-known class counts


def test_damaged_idx_file_is_named(tmp_path):
    bad = tmp_path / "t10k-images-idx3-ubyte.gz"
    bad.write_bytes(gzip.compress(b"\x00\x00\x09\x03garbage"))
    with pytest.raises(DatasetError, match="t10k-images-idx3-ubyte.gz is not a readable IDX file"):
        read_idx(bad)


def test_missing_mnist_names_the_folder_files_and_command(tmp_path):
    source = IDXDataset(MNISTConfig(root=str(tmp_path)), 0, "MNIST", "MNIST")
    with pytest.raises(DatasetError) as info:
        source.load()
    message = str(info.value)
    assert str(tmp_path) in message and "train-images-idx3-ubyte" in message and "dataset.download=true" in message


def test_encoders_shapes_and_values():
    x = torch.rand(3, 1, 4, 4)
    assert torch.equal(direct(x, 5)[4], x)
    spikes = poisson(torch.full((2000,), 0.3), 10, scale=0.5)
    assert set(spikes.unique().tolist()) <= {0.0, 1.0}
    assert spikes.mean().item() == pytest.approx(0.15, abs=0.01)
    frames = torch.randint(0, 3, (2, 7, 2, 4, 4), dtype=torch.uint8)
    assert events(frames, 7).shape == (7, 2, 2, 4, 4)
    with pytest.raises(ValueError, match="T=5"):
        events(frames, 5)


def test_batch_loader_covers_each_sample_once_and_shards_ranks():
    split = Split(torch.arange(10).float(), torch.arange(10))
    seen = torch.cat([y for _, y in BatchLoader(split, 3, shuffle=True, seed=1)])
    assert sorted(seen.tolist()) == list(range(10))
    ranks = [list(BatchLoader(split, 2, shuffle=True, seed=1, rank=r, world_size=2)) for r in (0, 1)]
    single = list(BatchLoader(split, 4, shuffle=True, seed=1))
    for (_, y0), (_, y1), (_, y) in zip(*ranks, single):
        assert sorted(torch.cat([y0, y1]).tolist()) == sorted(y.tolist())
    loader = BatchLoader(split, 3, shuffle=True, seed=1)
    loader.set_epoch(1)
    assert [y.tolist() for _, y in loader.batches(start=2)] == [y.tolist() for _, y in loader][2:]
