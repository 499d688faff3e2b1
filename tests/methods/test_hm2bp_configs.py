"""``method=hm2bp`` composes from the real configs, rejects what it cannot train, and runs."""

from __future__ import annotations

import json
import os

import pytest
import torch
from omegaconf import OmegaConf

from snntrain.app import plan, train
from snntrain.core.errors import ConfigError
from snntrain.core.spiking import SpikingModule
from snntrain.data import DataBundle, DatasetInfo, Split
from tests.cli.test_cli import run_cli
from tests.conftest import SMOKE, compose_config


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


# The official recipes, transcribed from jinyyy666/mm-bp-snn@bd31fe2: Config/SpikingMnistConfig.txt,
# Config/NMnistConfig.txt, Config/SpikingCNNMnistConfig.txt (pool VTH 2 and 4 over a summed 2x2
# window = 0.5 and 1.0 over snntrain's average pool), main.cpp (Adam, 1e-3/sqrt(epoch+1), 200 epochs).
COMMON = {
    "neuron.tau_m": 64.0, "neuron.tau_s": 8.0, "neuron.t_ref": 2, "neuron.output_inhibition": 1.0,
    "method.desired": 35.0, "method.undesired": 5.0, "method.margin": 5.0, "method.psp_delay": "official",
    "method.weight_limit": 8.0, "method.lateral_factor": True, "optimizer.name": "adam", "optimizer.lr": 1e-3,
    "optimizer.betas": [0.9, 0.999], "scheduler.name": "inv_sqrt", "trainer.max_epochs": 200,
    "model.bias": False, "model.init": "uniform", "model.readout": "spikes",
}
OFFICIAL = {
    "hm2bp_mnist_mlp": {"T": 400, "neuron.threshold": [20, 8], "model.hidden": [800], "method.reg_lambda": 10.0,
                        "method.reg_beta": 0.04, "dataset.encoder": "poisson"},
    "hm2bp_nmnist_mlp": {"T": 540, "neuron.threshold": [15, 15], "model.hidden": [800], "method.reg_lambda": 10.0,
                         "method.reg_beta": 0.01, "dataset.framing.time_window_us": 600.0, "dataset.framing.values": "binary"},
    "hm2bp_mnist_cnn": {"T": 400, "neuron.threshold": [5, 0.5, 12, 1.0, 10, 10], "model.spec": "15C5-P2-40C5-P2-300",
                        "model.padding": "valid", "model.spiking_pool": True, "model.conv_init_bound": 0.5,
                        "method.reg_lambda": 0.0, "dataset.encoder": "poisson", "dataset.augment.scale": 12.0,
                        "dataset.augment.rotation": 12.0, "dataset.augment.elastic": 3.4},
}


@pytest.mark.parametrize("name", OFFICIAL)
def test_each_row_sets_the_official_recipe_and_lists_what_still_differs(name):
    cfg = compose_config([f"experiment={name}"])
    for key, value in {**COMMON, **OFFICIAL[name]}.items():
        got = OmegaConf.select(cfg, key)
        assert (OmegaConf.to_object(got) if OmegaConf.is_config(got) else got) == value, key
    if cfg.dataset.encoder == "poisson":
        assert cfg.dataset.poisson_scale == pytest.approx(1 / 5.5, rel=1e-6)
    assert cfg.method.name == "hm2bp" and cfg.paper.value > 98 and "NeurIPS 2018" in cfg.paper.source
    differences = OmegaConf.to_object(cfg.paper.differences)
    assert differences and all(isinstance(line, str) and "\n" not in line for line in differences)
    p = plan(cfg)
    assert len([m for m in p.model.modules() if isinstance(m, SpikingModule)]) == len(cfg.neuron.threshold)
    assert sum(q.numel() for q in p.model.parameters()) == cfg.paper.params


def test_the_cnn_row_draws_conv_weights_from_u_half_and_the_rest_from_u_one():
    p = plan(compose_config(["experiment=hm2bp_mnist_cnn"]))
    convs = [m.weight for m in p.model.modules() if isinstance(m, torch.nn.Conv2d)]
    linears = [m.weight for m in p.model.modules() if isinstance(m, torch.nn.Linear)]
    assert len(convs) == 2 and len(linears) == 2
    for weights, bound in ((convs, 0.5), (linears, 1.0)):
        for w in weights:
            assert w.abs().max() <= bound and w.abs().max() > 0.9 * bound


def test_conv_init_bound_needs_uniform_init():
    with pytest.raises(ConfigError, match=r"model\.conv_init_bound=0\.5 is not allowed: .*set model\.init=uniform"):
        plan(compose_config(["model=cnn", "model.conv_init_bound=0.5"]))


@pytest.mark.parametrize(
    "args, words",
    [
        (["method=hm2bp", "method.psp_delay=late"], "method.psp_delay='late' is not allowed: choose one of ['official', 'paper']"),
        (["method=hm2bp", "compression=hosvd"], "compression=hosvd does not apply to method=hm2bp"),
    ],
)
def test_bad_hm2bp_input_is_one_message_not_a_traceback(args, words, tmp_path):
    wide = {**os.environ, "COLUMNS": "1000"}  # the console wraps at the terminal's width
    result = run_cli([*args, "trainer.progress=false", "logger=none"], cwd=tmp_path, env=wide)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and words in lines[0], result.stderr


def test_nmnist_preset_follows_the_dataset_choice():
    cfg = compose_config(["method=hm2bp", "dataset=nmnist"])
    assert cfg.T == 540 and list(cfg.neuron.threshold) == [15, 15] and cfg.method.reg_beta == 0.01


@pytest.mark.parametrize(
    "overrides, key",
    [
        (["model.readout=mean", "neuron.threshold=5"], "model.readout"),
        (["neuron=lif", "dataset=fashion_mnist"], "neuron=lif"),  # no preset: it would set a list threshold
        (["model.bias=true"], "model.bias"),
        (["model=cnn", "model.spiking_pool=false", "neuron.threshold=5"], "spiking_pool"),
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


def test_the_cnn_row_trains_with_its_distortions_on_mnist_sized_images(tmp_path):
    """Two steps of the row at T = 30 on random 28 x 28 images (no MNIST files needed)."""
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(64, 1, 28, 28, generator=g), torch.randint(0, 10, (64,), generator=g)
    data = DataBundle(Split(x, y), None, Split(x[:16], y[:16]), DatasetInfo((1, 28, 28), 10))
    metrics = train(compose_config(["experiment=hm2bp_mnist_cnn", "T=30", *SMOKE]), tmp_path, data=data)
    assert metrics["epochs"] == 1 and metrics["saved_bytes_per_sample"] > 0


def test_count_frames_are_saved_as_uint8_and_give_the_float_frames_gradients(monkeypatch):
    """The headline command's input (N-MNIST count frames, dataset=nmnist) is saved at one byte per
    cell; the gradients are those of the same step with the frames saved as float32 (the old way)."""
    from snntrain.compress import SavedTensorMeter
    from snntrain.methods.hm2bp import stage
    from tests.methods.method_helpers import build, gradients

    T, B = 12, 4
    g = torch.Generator().manual_seed(0)
    counts = torch.randint(0, 4, (T, B, 2, 34, 34), generator=g) * (torch.rand(T, B, 2, 34, 34, generator=g) < 0.1)
    x, y = counts.float(), torch.randint(0, 10, (B,), generator=g)

    def step():
        p = build(["method=hm2bp", "dataset=nmnist", f"T={T}", "model.hidden=[40]"])
        meter = SavedTensorMeter()
        _, grads = gradients(p, x, y, meter)
        return grads, meter.stored_bytes

    grads, stored = step()
    monkeypatch.setattr(stage, "_compact", lambda frames: (frames, False))
    float_grads, float_stored = step()
    assert all(grad.abs().sum() > 0 for grad in grads.values())
    assert grads.keys() == float_grads.keys() and all(torch.equal(grads[k], float_grads[k]) for k in grads)
    assert float_stored - stored == 3 * x.numel()  # 4 bytes per cell became 1
