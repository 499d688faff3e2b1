"""A split that ends up empty, or a training loop that would take no step, is refused with one line
naming the keys to change; nothing trains on nothing and reports success."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from snntrain.app import make_trainer, plan, train
from snntrain.core.errors import DatasetError, SnntrainError
from snntrain.data.base import DataBundle, Split
from snntrain.data.events.cifar10_dvs import CIFAR10DVS, CIFAR10DVSConfig
from snntrain.data.events.nmnist import NMNIST, NMNISTConfig
from snntrain.data.events.nmnist_writer import write_split
from snntrain.engine.trainer import NonFiniteError
from tests.conftest import SMOKE, compose_config
from tests.data.dvs_writer import write_dataset

QUIET = ["trainer.progress=false", "logger=none", "model.hidden=[16]", "T=2"]


@pytest.mark.parametrize(
    "overrides, message",
    [
        # 1,797 digits, ~180 per class: 179 of each go to test, and the one left of each to validation.
        (["dataset.test_fraction=0.995", "dataset.val_fraction=0.5"],
         r"dataset=digits: the training split is empty \(training 0, validation 10, test 1787 samples\)\. Change dataset.test_fraction, dataset.val_fraction\."),
        (["dataset=synthetic", "dataset.train_size=1", "dataset.val_fraction=0.9"],
         r"dataset=synthetic: the training split is empty .* Change dataset.train_size, dataset.test_size, dataset.val_fraction\."),
    ],
)
def test_an_empty_training_split_is_refused_before_anything_is_written(overrides, message, tmp_path):
    with pytest.raises(DatasetError, match=message):
        train(compose_config([*QUIET, *overrides]), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_skip_that_leaves_no_recording_writes_no_cache(tmp_path):
    root = tmp_path / "nmnist"
    for path in write_split(root / "Train", 1, np.random.default_rng(0)):
        path.write_bytes(b"\x01\x02\x03")  # not a whole 5-byte event: every recording damaged
    source = NMNIST(NMNISTConfig(root=str(root), progress=False, on_bad_file="skip"), seed=0, T=4)
    with pytest.raises(DatasetError, match=r"every one of the 10 recordings is damaged .* dataset.on_bad_file=skip would leave nothing"):
        source.split("train")
    assert not list((root / "cache").rglob("*.frames")) and not list((root / "cache").rglob(".*.partial"))


def test_a_train_fraction_that_leaves_the_test_split_no_recording_names_it(tmp_path):
    write_dataset(tmp_path / "dvs", 1, np.random.default_rng(0))  # one recording per class: all go to training
    source = CIFAR10DVS(CIFAR10DVSConfig(root=str(tmp_path / "dvs"), progress=False, workers=1), seed=0, T=4)
    with pytest.raises(DatasetError, match=r"the test split of .* has no recordings\. Change dataset.root, dataset.train_fraction"):
        source.split("test")
    assert not list((tmp_path / "dvs" / "cache").rglob("test.frames"))


def test_more_processes_than_training_samples_is_no_training_step(tmp_path):
    cfg = compose_config([*QUIET, *SMOKE])
    one = Split(torch.zeros(1, 1, 8, 8), torch.zeros(1, dtype=torch.long))
    data = DataBundle(one, None, one, plan(cfg).source.info)
    with pytest.raises(SnntrainError, match="no training step: the training split's 1 samples cannot give each of the 2 processes one"):
        make_trainer(cfg, tmp_path, rank=0, world_size=2, data=data)  # the loader of rank 0 of 2: no collective runs


def test_an_epoch_whose_every_batch_is_skipped_is_an_error_not_a_success(tmp_path):
    cfg = compose_config([*QUIET, "trainer.max_epochs=1", "trainer.on_nonfinite=skip_batch", "trainer.limit_batches=3"])
    data = plan(cfg).source.load()
    data.train.x[:] = float("nan")  # damaged inputs: every loss is NaN
    with pytest.raises(NonFiniteError, match="every training batch of epoch 1 was non-finite and skipped"):
        train(cfg, tmp_path, data=data)
    assert not (tmp_path / "metrics.json").exists()
