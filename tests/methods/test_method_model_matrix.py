""""Change one word": every gradient method trains every model its rules cover with the defaults as
shipped (one training step, through ``train``), and refuses the others in one line that says what
works. A combination that neither trains nor is refused as listed here fails; none is skipped."""

from __future__ import annotations

import math

import pytest

from snntrain.app import plan, train
from snntrain.core.errors import ConfigError
from tests.conftest import SMOKE, compose_config

METHODS = ["bptt", "ratebp", "onestep", "hm2bp"]
MODELS = ["mlp", "cnn", "feedback", "vgg11", "resnet19", "sew_resnet34"]
PAPER_MODELS = {"vgg11", "resnet19", "sew_resnet34"}  # downsample by 16 or more: CIFAR-sized input

# (method, model) -> what the one-line refusal must say
NOT_COVERED = {
    ("ratebp", "feedback"): "method=ratebp needs a feed-forward model",
    **{("hm2bp", model): "the rules of method=hm2bp cover model=mlp and model=cnn only" for model in ["feedback", "vgg11", "resnet19", "sew_resnet34"]},
}


def overrides(method: str, model: str) -> list[str]:
    data = ["dataset=synthetic", "dataset.input_shape=[3,32,32]", "dataset.train_size=8", "dataset.test_size=4"] if model in PAPER_MODELS else ["dataset=digits"]
    return [f"method={method}", f"model={model}", *data, "dataset.batch_size=4", "dataset.eval_batch_size=4", "T=2", *SMOKE, "trainer.limit_batches=1"]


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("method", METHODS)
def test_every_method_with_every_model(method, model, tmp_path):
    cfg = compose_config(overrides(method, model))
    if (method, model) in NOT_COVERED:
        with pytest.raises(ConfigError, match=NOT_COVERED[method, model]):
            plan(cfg)
        return
    metrics = train(cfg, tmp_path)
    assert metrics["epochs"] == 1 and math.isfinite(metrics["final_train_loss"])


def test_hm2bp_with_the_cnn_gets_one_threshold_per_spiking_layer():
    """``snntrain method=hm2bp model=cnn``: spiking pools and the thresholds of method_model/hm2bp_cnn.yaml."""
    cfg = compose_config(["method=hm2bp", "model=cnn"])
    assert cfg.model.spiking_pool and cfg.model.readout == "spikes" and len(cfg.neuron.threshold) == 6
    plan(cfg)


def test_an_experiment_still_sets_its_own_thresholds():
    assert list(compose_config(["experiment=hm2bp_mnist_cnn"]).neuron.threshold) == [5, 0.5, 12, 1.0, 10, 10]
