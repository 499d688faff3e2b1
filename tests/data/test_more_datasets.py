"""dataset=cifar100 (torchvision) and dataset=synthetic (stand-in data of any shape)."""

from __future__ import annotations

import pytest
import torch

from snntrain.core.errors import ConfigError, DatasetError
from snntrain.core.registry import build
from tests.conftest import compose_config


def test_cifar100_is_known_before_reading_and_names_its_folder_and_download_command(tmp_path):
    cfg = compose_config(["dataset=cifar100", f"dataset.root={tmp_path}"])
    source = build("dataset", cfg.dataset, 0, 4)
    assert (source.info.input_shape, source.info.num_classes) == ((3, 32, 32), 100)
    with pytest.raises(DatasetError, match=r"cifar-100-python not found under .*dataset=cifar100 .*dataset.download=true"):
        source.load()


def test_synthetic_data_has_the_asked_shape_and_follows_the_seed():
    cfg = compose_config(["dataset=synthetic", "dataset.input_shape=[2,5,5]", "dataset.num_classes=3", "dataset.train_size=50"])
    a, b = (build("dataset", cfg.dataset, 7, 4).load() for _ in range(2))
    assert a.train.x.shape == (45, 2, 5, 5) and len(a.val) == 5 and a.test.x.shape == (64, 2, 5, 5)
    assert torch.equal(a.train.x, b.train.x) and torch.equal(a.test.y, b.test.y)
    assert 0.0 <= float(a.train.x.min()) and float(a.train.x.max()) <= 1.0
    assert set(a.train.y.tolist()) <= {0, 1, 2}
    assert not torch.equal(a.train.x, build("dataset", cfg.dataset, 8, 4).load().train.x)
    source = build("dataset", cfg.dataset, 7, 4)
    for x, y in zip(a.test.x[:16], a.test.y[:16]):  # half uniform noise, half the class's fixed pattern
        noise = x - 0.5 * torch.from_numpy(source.pattern(int(y)))
        assert 0.0 <= float(noise.min()) and float(noise.max()) < 0.5


def test_synthetic_data_refuses_the_events_encoder():
    cfg = compose_config(["dataset=synthetic", "dataset.encoder=events"])
    with pytest.raises(ConfigError, match="dataset.encoder"):
        build("dataset", cfg.dataset, 0, 4)
