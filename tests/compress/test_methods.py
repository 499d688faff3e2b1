"""Every registered gradient method with every compression scheme (methods need no code of their own)."""

import copy
import json

import pytest
import torch

from snntrain.app import plan, train
from snntrain.compress import Codec, SavedTensorMeter, saving
from snntrain.compress.bitpack import BitpackCodec
from snntrain.core.errors import ConfigError
from snntrain.core.registry import options
from snntrain.core.spiking import reset_states
from tests.conftest import SMOKE, compose_config

METHODS = options("method")
SCHEMES = {
    "none": ["compression=none"],
    "bitpack": ["compression=bitpack"],
    "bitpack+recompute": ["compression=bitpack", "trainer.recompute=true"],
    "hosvd": ["compression=hosvd", "compression.eps=0.8"],
    "hosvd+bitpack": ["compression=hosvd", "compression.spikes=bitpack"],
}


# What a method needs beyond model=cnn's defaults to train that CNN: HM2-BP puts a neuron after
# every pool and takes one threshold for all layers (its digits preset lists one per MLP layer);
# at 8 the output's lateral-inhibition factor 1/(1 - sum R d R d) stays finite (at 2 it reaches 1/0,
# as the official formula would).
CNN_FOR = {"hm2bp": ["model.spiking_pool=true", "neuron.threshold=8"]}
# Schemes a method refuses before any data is read, and the words of the refusal: HM2-BP computes
# its gradients outside autograd, so nothing is recomputed, and saves its tensors outside the
# model's layers, which HOSVD does not decompose (it would silently do nothing).
REFUSED = {
    ("hm2bp", "bitpack+recompute"): r"trainer.recompute=true \(or compression.recompute=true\) does not apply to method=hm2bp",
    ("hm2bp", "hosvd"): "compression=hosvd does not apply to method=hm2bp",
    ("hm2bp", "hosvd+bitpack"): "compression=hosvd does not apply to method=hm2bp",
}


def cnn_overrides(method: str) -> list[str]:
    return [f"method={method}", "model=cnn", *CNN_FOR.get(method, [])]


def one_step(p, codec: Codec, x: torch.Tensor, y: torch.Tensor):
    """Gradients of one training step from a copy of the planned model, and the meter."""
    model, meter = copy.deepcopy(p.model), SavedTensorMeter(samples=len(y))
    reset_states(model)
    torch.manual_seed(0)
    with saving(codec, meter, model):
        p.method.step(model, x, y)
    return {name: param.grad for name, param in model.named_parameters()}, meter


# Methods whose saved tensors include spike trains; rate-BP's rate pass saves only real-valued rates.
SAVES_SPIKES = {"bptt", "onestep", "hm2bp"}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_bitpack_leaves_gradients_bit_for_bit_those_of_none(method, model):
    p = plan(compose_config([*cnn_overrides(method), "T=6"] if model == "cnn" else [f"method={method}", "model=mlp", "T=6"]))
    x, y = torch.rand(6, 16, 1, 8, 8), torch.arange(16) % 10
    plain, plain_meter = one_step(p, Codec(), x, y)
    assert plain_meter.raw_bytes > 0  # every method saves tensors a codec sees (HM2-BP its spike trains)
    packed, packed_meter = one_step(p, BitpackCodec(), x, y)
    assert packed_meter.stored_bytes <= plain_meter.stored_bytes
    if method in SAVES_SPIKES:
        assert packed_meter.stored_bytes < plain_meter.stored_bytes
    for name, grad in plain.items():
        assert (grad is None) == (packed[name] is None), name
        assert grad is None or torch.equal(grad, packed[name]), name


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("scheme", list(SCHEMES))
def test_every_method_trains_an_epoch_with_every_scheme(method, scheme, tmp_path):
    overrides = [*cnn_overrides(method), *SCHEMES[scheme], *SMOKE]
    if (method, scheme) in REFUSED:
        with pytest.raises(ConfigError, match=REFUSED[method, scheme]):
            plan(compose_config(overrides))
        return
    metrics = train(compose_config(overrides), tmp_path)
    record = metrics["history"][-1]
    assert json.loads((tmp_path / "metrics.json").read_text())["history"][-1] == record
    assert metrics["saved_bytes_per_sample"] == pytest.approx(sum(record["saved_bytes_per_sample_per_layer"].values()))
    if scheme == "none":
        assert metrics["compression_ratio"] == 1.0
    elif metrics["saved_bytes_per_sample"] > 0 and (not scheme.startswith("bitpack") or method in SAVES_SPIKES):
        assert metrics["compression_ratio"] > 1.0
    assert bool(record["hosvd_rank_per_layer"]) == (scheme.startswith("hosvd") and metrics["saved_bytes_per_sample"] > 0)


def test_per_layer_figures_reach_tensorboard(tmp_path):
    overrides = ["model=cnn", "compression=hosvd", *SMOKE, "logger=tensorboard"]
    train(compose_config(overrides), tmp_path)
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    tags = EventAccumulator(str(tmp_path / "tensorboard")).Reload().Tags()["scalars"]
    assert {"epoch/compression_ratio", "epoch/saved_bytes_per_sample", "epoch/codec_seconds"} <= set(tags)
    assert {"compression_ratio_per_layer/body.0", "saved_bytes_per_sample_per_layer/body.0", "hosvd_rank_per_layer/body.0/mode0"} <= set(tags)
