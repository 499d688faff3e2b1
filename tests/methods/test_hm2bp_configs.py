"""``method=hm2bp`` composes from the real configs, rejects what it cannot train, and runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from snntrain.engine.run import plan, train
from snntrain.errors import ConfigError
from tests.conftest import SMOKE, compose_config

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
NMNIST = pytest.mark.skipif(not (CONFIGS / "dataset" / "nmnist.yaml").exists(), reason="dataset=nmnist is not in this checkout")


def test_method_sets_what_hm2bp_needs():
    cfg = compose_config(["method=hm2bp"])
    assert cfg.neuron.name == "cuba" and cfg.scheduler.name == "inv_sqrt"
    assert (cfg.model.readout, cfg.model.bias, cfg.model.init) == ("spikes", False, "uniform")
    assert cfg.neuron.output_inhibition == 1.0
    assert cfg.T == 100 and list(cfg.neuron.threshold) == [10, 8]  # hm2bp_preset/digits.yaml
    assert cfg.paper.value is None
    p = plan(cfg)
    assert p.method.name == "hm2bp"


def test_command_line_wins_over_the_method_and_its_preset():
    cfg = compose_config(["method=hm2bp", "T=7", "scheduler=cosine", "neuron.threshold=3"])
    assert (cfg.T, cfg.scheduler.name, cfg.neuron.threshold) == (7, "cosine", 3)


def test_dataset_preset_follows_the_dataset_choice():
    cfg = compose_config(["method=hm2bp", "dataset=mnist"])
    assert cfg.T == 400 and list(cfg.neuron.threshold) == [20, 8]
    plan(cfg)


@pytest.mark.parametrize("name", ["hm2bp_mnist_mlp", "hm2bp_mnist_cnn"])
def test_experiments_compose_and_build(name):
    cfg = compose_config([f"experiment={name}"])
    assert cfg.method.name == "hm2bp" and cfg.paper.value > 98 and "NeurIPS 2018" in cfg.paper.source
    assert cfg.dataset.encoder == "poisson" and cfg.dataset.poisson_scale == pytest.approx(1 / 5.5, rel=1e-3)
    p = plan(cfg)
    assert len([m for m in p.model.modules() if getattr(m, "is_spiking", False)]) == len(cfg.neuron.threshold)


@NMNIST
def test_nmnist_preset_and_experiment():
    cfg = compose_config(["method=hm2bp", "dataset=nmnist"])
    assert cfg.T == 540 and list(cfg.neuron.threshold) == [15, 15] and cfg.method.reg_beta == 0.01
    cfg = compose_config(["experiment=hm2bp_nmnist_mlp"])
    assert cfg.dataset.framing.time_window_us == 600 and cfg.paper.value == 98.88
    plan(cfg)


@pytest.mark.parametrize(
    "overrides, key",
    [
        (["model.readout=mean", "neuron.threshold=5"], "model.readout"),
        (["neuron=lif", "dataset=fashion_mnist"], "neuron=lif"),  # no preset: it would set a list threshold
        (["model.bias=true"], "model.bias"),
        (["model=cnn", "neuron.threshold=5"], "spiking_pool"),
        (["model=cnn", "model.spiking_pool=true", "model.pool=max", "neuron.threshold=5"], "MaxPool"),
        (["model=cnn", "model.spiking_pool=true", "model.batch_norm=true", "neuron.threshold=5"], "BatchNorm"),
    ],
)
def test_unsupported_models_fail_before_any_data(overrides, key):
    with pytest.raises(ConfigError, match=key):
        plan(compose_config(["method=hm2bp", *overrides]))


def test_smoke_run_counts_compact_spike_trains(tmp_path):
    """Saved bytes per sample: the input step repeated over time (direct encoding, float), each
    layer's output trains once as bool, and one float per neuron (its gain)."""
    steps = 12
    metrics = train(compose_config(["method=hm2bp", f"T={steps}", *SMOKE]), tmp_path)
    assert json.loads((tmp_path / "metrics.json").read_text())["epochs"] == 1
    per_sample = 64 * 4 + steps * (800 + 10) + (800 + 10) * 4
    assert metrics["saved_bytes_per_sample"] == pytest.approx(per_sample, rel=0.05)
