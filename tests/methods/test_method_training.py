"""End-to-end runs through ``train()``: accuracy on digits, the paper models on CIFAR-shaped data."""

from __future__ import annotations

import math

import pytest
import torch

from snntrain.app import plan, train
from snntrain.core.errors import ConfigError
from snntrain.core.registry import build
from snntrain.core.spiking import reset_states
from snntrain.data import DataBundle, DatasetInfo, Split
from snntrain.data.vision import CIFAR
from tests.conftest import SMOKE, compose_config


@pytest.mark.slow
@pytest.mark.parametrize("method", ["ratebp", "onestep"])
def test_default_run_on_digits_reaches_95_percent(method, tmp_path):
    """``snntrain method=<method> dataset=digits``: the defaults as shipped (30 epochs)."""
    cfg = compose_config([f"method={method}", "dataset=digits", "logger=none", "trainer.progress=false"])
    metrics = train(cfg, tmp_path)
    assert metrics["test_acc"] >= 0.95


def random_cifar(n: int = 16) -> DataBundle:
    """CIFAR-shaped random images and labels: the real set is never read."""
    g = torch.Generator().manual_seed(0)
    split = lambda: Split(torch.randn(n, 3, 32, 32, generator=g), torch.randint(0, 10, (n,), generator=g))  # noqa: E731
    return DataBundle(split(), split(), split(), DatasetInfo((3, 32, 32), 10))


@pytest.mark.slow
@pytest.mark.parametrize("method", ["ratebp", "onestep"])
@pytest.mark.parametrize("model", ["vgg11", "resnet19"])
def test_paper_models_run_an_epoch_on_cifar_shaped_data(model, method, tmp_path, monkeypatch):
    monkeypatch.setattr(CIFAR, "load", lambda self: random_cifar())
    overrides = [f"model={model}", f"method={method}", "dataset=cifar10", "dataset.batch_size=4", "dataset.eval_batch_size=4", "T=2"]
    metrics = train(compose_config([*overrides, *SMOKE]), tmp_path)
    assert metrics["epochs"] == 1 and metrics["saved_bytes_per_sample"] > 0
    assert math.isfinite(metrics["final_train_loss"])


@pytest.mark.parametrize("model", ["vgg11", "resnet19"])
def test_paper_models_take_event_frames(model):
    """2xHxW event input: the models build for it and rate-BP takes a step."""
    net = build("model", {"name": model}, (2, 34, 34), 10, build("neuron", {"name": "lif"}))
    method = build("method", {"name": "ratebp"}, 2)
    reset_states(net)
    result = method.step(net, (torch.rand(2, 3, 2, 34, 34) < 0.2).float(), torch.tensor([0, 1, 2]))
    assert math.isfinite(result.loss) and result.scores.shape == (3, 10)


def test_paper_models_reject_inputs_they_would_shrink_away():
    with pytest.raises(ConfigError, match=r"model=vgg11 downsamples by 16; the 8x8 input is too small"):
        plan(compose_config(["model=vgg11", "dataset=digits"]))


def test_feedback_run_logs_the_fixed_point_residual(tmp_path):
    cfg = compose_config(["model=feedback", "method=onestep", "T=12", *SMOKE])
    metrics = train(cfg, tmp_path)
    assert 0 <= metrics["history"][0]["train_fixed_point_residual"] < 1
