"""Merged-time layers equal per-step application; model builders and spec strings."""

import pytest
import torch
from torch import nn

from snntrain.core.errors import ConfigError
from snntrain.layers import TimeAvgPool2d, TimeBatchNorm2d, TimeConv2d, TimeMaxPool2d
from snntrain.models.cnn import CNNConfig, build_cnn, parse_spec
from snntrain.models.mlp import MLPConfig, build_mlp
from snntrain.neurons.lif import LIF, LIFConfig


def lif_factory(index, n):
    return LIF(LIFConfig())


@pytest.mark.parametrize(
    "layer",
    [TimeConv2d(2, 3, 3, padding=1), TimeAvgPool2d(2), TimeMaxPool2d(2), TimeBatchNorm2d(2).eval()],
    ids=["conv", "avgpool", "maxpool", "batchnorm-eval"],
)
def test_merged_layer_equals_per_step(layer):
    x = torch.randn(5, 4, 2, 8, 8)
    merged = layer(x)
    base = next(c for c in type(layer).__mro__ if c.__module__.startswith("torch.nn"))  # the torch layer behind the mixins
    per_step = torch.stack([base.forward(layer, x[t]) for t in range(x.shape[0])])
    torch.testing.assert_close(merged, per_step)


def test_mlp_shapes_and_layers():
    net = build_mlp(MLPConfig(hidden=[32, 16]), (1, 8, 8), 10, lif_factory)
    out = net(torch.rand(4, 3, 1, 8, 8))
    assert out.shape == (4, 3, 10)
    linears = [m for m in net.body if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(64, 32), (32, 16), (16, 10)]


def test_spiking_readout_appends_a_neuron():
    net = build_mlp(MLPConfig(hidden=[8], readout="spikes"), (4,), 3, lif_factory)
    assert isinstance(net.body[-1], LIF)
    out = net(torch.rand(6, 2, 4))
    assert set(out.unique().tolist()) <= {0.0, 1.0}


def test_uniform_init_draws_from_unit_interval():
    net = build_mlp(MLPConfig(hidden=[50], init="uniform", bias=False), (100,), 10, lif_factory)
    w = net.body[1].weight
    assert w.min() >= -1 and w.max() <= 1 and w.abs().mean() > 0.4


def test_normal_init_is_the_official_rate_bp_vggs():
    net = build_cnn(CNNConfig(spec="64C3-P2-128", batch_norm=True, init="normal"), (2, 16, 16), 10, lif_factory)
    layers = [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert len(layers) == 3
    for layer in layers:  # model/vgg.py _initialize_weights: weight ~ N(0, 0.5), bias 0; BatchNorm 1 and 0
        assert layer.weight.mean().abs() < 0.05 and layer.weight.std().item() == pytest.approx(0.5, rel=0.1)
        assert not layer.bias.any()
    bn = next(m for m in net.modules() if isinstance(m, nn.BatchNorm2d))
    assert bn.weight.eq(1).all() and not bn.bias.any()


def test_paper_spec_parses_and_builds():
    assert parse_spec("15C5-P2-40C5-P2-300") == [("conv", 15, 5), ("pool", 2, 2), ("conv", 40, 5), ("pool", 2, 2), ("fc", 300, 0)]
    net = build_cnn(CNNConfig(spec="15C5-P2-40C5-P2-300", padding="valid"), (1, 28, 28), 10, lif_factory)
    assert net(torch.rand(2, 3, 1, 28, 28)).shape == (2, 3, 10)
    fc = [m for m in net.body if isinstance(m, nn.Linear)]
    assert fc[0].in_features == 40 * 4 * 4


@pytest.mark.parametrize("spec", ["15X5", "15C5--300", "C5", "300-15C5", "0C3"])
def test_bad_spec_is_a_config_error(spec):
    with pytest.raises(ConfigError, match="model.spec"):
        CNNConfig(spec=spec)


def test_pooling_that_shrinks_the_map_to_zero_is_named():
    with pytest.raises(ConfigError, match=r"shrinks the 8x8 input to 0x0 at 'P4'"):
        build_cnn(CNNConfig(spec="8C3-P2-P2-P4"), (1, 8, 8), 10, lif_factory)


def test_cnn_rejects_flat_input():
    with pytest.raises(ConfigError, match="model=mlp"):
        build_cnn(CNNConfig(), (64,), 10, lif_factory)
