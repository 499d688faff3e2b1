"""``dataset.normalize`` with ``dataset.mean``/``dataset.std``: MNIST-style sets, the synthetic stand-in and CIFAR, and what is refused."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
import torch

from snntrain.core.errors import ConfigError
from tests.conftest import compose_config


def write_idx_root(root) -> None:
    """A miniature MNIST-layout root (gzipped IDX), 20 training and 10 test images."""
    raw = root / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for split, n in (("train", 20), ("t10k", 10)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
            header = bytes([0, 0, 0x08, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
            (raw / f"{split}-{kind}-ubyte.gz").write_bytes(gzip.compress(header + array.tobytes()))


def bundle(tmp_path, *overrides: str):
    from snntrain.app import plan

    return plan(compose_config([f"dataset.root={tmp_path}", "dataset.val_fraction=0", *overrides])).source.load()


@pytest.mark.parametrize(
    ("overrides", "mean", "std"),
    [
        (["dataset=mnist"], None, None),
        (["dataset=mnist", "dataset.normalize=true"], 0.1307, 0.3081),
        (["dataset=fashion_mnist", "dataset.normalize=true"], 0.2860, 0.3530),
        (["dataset=fashion_mnist", "dataset.normalize=true", "dataset.mean=[0.1307]", "dataset.std=[0.3081]"], 0.1307, 0.3081),
        (["dataset=synthetic", "dataset.input_shape=[1,28,28]", "dataset.normalize=true"], 0.5, (1 / 24) ** 0.5),  # 0.5·U + 0.5·U
    ],
)
def test_mnist_style_batches_are_normalised_with_the_given_or_own_statistics(tmp_path, overrides, mean, std):
    write_idx_root(tmp_path)
    data = bundle(tmp_path, *overrides)
    x = data.train.x[:4]
    seen = x if data.transform is None else data.transform(x)
    expected = x if mean is None else (x - mean) / std
    torch.testing.assert_close(seen, expected)
    assert torch.equal(data.train.x[:4], x)  # the stored images are left as they are


def test_cifar_takes_the_given_statistics():
    from snntrain.app import plan

    scaling = plan(compose_config(["dataset=cifar10", "dataset.mean=[0.4914,0.4822,0.4465]", "dataset.std=[0.2023,0.1994,0.2010]"])).source.scaling
    assert (scaling.mean, scaling.std) == ((0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010))
    x = torch.full((1, 3, 2, 2), 255, dtype=torch.uint8)
    torch.testing.assert_close(scaling(x)[0, :, 0, 0], (1 - torch.tensor([0.4914, 0.4822, 0.4465])) / torch.tensor([0.2023, 0.1994, 0.2010]))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["dataset=mnist", "dataset.mean=[0.1]", "dataset.std=[0.3]"], r"dataset.mean=\[0.1\] is not allowed: it is used only with dataset.normalize=true"),
        (["dataset=mnist", "dataset.normalize=true", "dataset.mean=[0.1]"], r"dataset.mean=\[0.1\] is not allowed: give dataset.mean and dataset.std together"),
        (["dataset=mnist", "dataset.normalize=true", "dataset.mean=[0.1,0.2]", "dataset.std=[0.3,0.3]"], r"give one value per channel \(1\)"),
        (["dataset=cifar10", "dataset.mean=[0.5]", "dataset.std=[0.5]"], r"give one value per channel \(3\)"),
        (["dataset=cifar10", "dataset.mean=[0.5,0.5,0.5]", "dataset.std=[0.5,0,0.5]"], r"dataset.std=\[0.5, 0.0, 0.5\] is not allowed: every value must be > 0"),
        (["dataset=mnist", "dataset.normalize=true", "dataset.encoder=poisson"], r"the poisson encoder needs intensities in \[0, 1\]"),
    ],
)
def test_bad_statistics_are_config_errors(overrides, message):
    from snntrain.app import plan

    with pytest.raises(ConfigError, match=message):
        plan(compose_config(overrides))  # before any file is read
