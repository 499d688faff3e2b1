"""Real data: BPTT trains the spiking MLP on the real MNIST test set (first 8,000 / last 2,000)."""

import pytest
import torch

from snntrain.app import train
from snntrain.data import DataBundle, Split
from snntrain.data.vision import IDXDataset, read_idx
from tests.conftest import compose_config


def mnist_8000_2000(shared_data) -> DataBundle:
    raw = shared_data / "mnist" / "raw"
    images = torch.from_numpy(read_idx(raw / "t10k-images-idx3-ubyte.gz").copy()).float().div(255).unsqueeze(1)
    labels = torch.from_numpy(read_idx(raw / "t10k-labels-idx1-ubyte.gz").astype("int64"))
    assert images.shape == (10000, 1, 28, 28) and labels.bincount().min() > 800
    return DataBundle(Split(images[:8000], labels[:8000]), None, Split(images[8000:], labels[8000:]), IDXDataset.info)


@pytest.mark.slow
def test_bptt_mlp_reaches_95_percent_on_real_mnist(shared_data, tmp_path):
    cfg = compose_config(["dataset=mnist", "model.hidden=[800]", "T=6", "trainer.max_epochs=4", "trainer.progress=false", "logger=none", "dataset.batch_size=64"])
    metrics = train(cfg, tmp_path, data=mnist_8000_2000(shared_data))
    assert metrics["test_acc"] >= 0.95, metrics
