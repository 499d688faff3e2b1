"""What the NIR export writes for each layer and neuron constant, and what it refuses, in one line
naming the layer."""

from __future__ import annotations

import numpy as np
import pytest
import torch

nir = pytest.importorskip("nir", reason="the nir extra is not installed: pip install -e .[nir]")

from snntrain.export.errors import NIRExportError  # noqa: E402
from snntrain.export.neurons import DT, threshold_at, threshold_below  # noqa: E402
from snntrain.export.to_nir import to_nir  # noqa: E402
from tests.export.simulate import network  # noqa: E402

HARD = {"name": "lif", "reset": "hard"}


def test_the_mlp_is_a_chain_of_nodes_with_the_lif_constants_of_forward_euler():
    net = network({"name": "mlp", "hidden": [12]}, {**HARD, "decay": 0.75, "threshold": 0.5}, (1, 4, 4))
    graph = to_nir(net, (1, 4, 4), dt=1e-3)
    assert list(graph.nodes) == ["input", "flatten_0", "linear_1", "lif_2", "linear_3", "output"]
    assert graph.edges == list(zip(list(graph.nodes)[:-1], list(graph.nodes)[1:]))
    lif = graph.nodes["lif_2"]
    # τ = dt / (1 - λ), r = τ / dt: Euler's v <- (1 - dt/τ) v + (dt r / τ) I is snntrain's u = λ v + c
    np.testing.assert_allclose(lif.tau, np.full(12, 1e-3 / 0.25))
    np.testing.assert_allclose(lif.r, np.full(12, 4.0))
    assert not lif.v_leak.any() and not lif.v_reset.any()
    assert np.all(lif.v_threshold == np.nextafter(np.float32(0.5), np.float32(0)))
    assert np.array_equal(graph.nodes["linear_1"].weight, net.body[1].weight.detach().numpy())
    assert graph.nodes["output"].output_type["output"].tolist() == [10]
    assert graph.metadata["dt"] == 1e-3


def test_the_threshold_below_theta_turns_back_into_theta():
    for theta in [1.0, 0.5, 15.0, 0.3, 1e-3]:
        assert threshold_at(threshold_below(theta)) == float(np.float32(theta))
        assert threshold_below(theta) < np.float32(theta)


def test_a_neuron_without_leak_is_nir_if_with_unit_gain_per_step():
    net = network({"name": "mlp", "hidden": [5]}, {**HARD, "decay": 1.0}, (3,))
    node = to_nir(net, (3,)).nodes["lif_2"]
    assert isinstance(node, nir.IF)
    np.testing.assert_allclose(node.r * DT, 1.0)


def test_batch_norm_folds_into_the_conv_before_it_with_running_statistics():
    net = network({"name": "cnn", "spec": "3C3-P2-8", "batch_norm": True}, HARD, (2, 6, 6))
    conv, norm = net.body[0], net.body[1]
    with torch.no_grad():
        norm.running_mean.uniform_(-1, 1)
        norm.running_var.uniform_(0.5, 2)
        norm.weight.uniform_(0.5, 2)
        norm.bias.uniform_(-1, 1)
    graph = to_nir(net, (2, 6, 6))
    assert [type(n).__name__ for n in graph.nodes.values()] == ["Input", "Conv2d", "LIF", "AvgPool2d", "Flatten", "Affine", "LIF", "Affine", "Output"]
    folded = graph.nodes["conv_0"]
    x = torch.randn(5, 2, 6, 6)
    with torch.no_grad():
        expected = norm(conv(x[None]))[0]
        got = torch.nn.functional.conv2d(x, torch.from_numpy(folded.weight), torch.from_numpy(folded.bias), padding=1)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    assert graph.nodes["lif_2"].v_threshold.shape == (3, 6, 6)
    assert graph.nodes["pool_3"].kernel_size.tolist() == [2, 2]


def test_vgg_global_average_pooling_is_an_average_pool_over_the_whole_map():
    net = network({"name": "vgg11"}, HARD, (2, 16, 16))
    graph = to_nir(net, (2, 16, 16))
    pools = [n for n in graph.nodes.values() if isinstance(n, nir.AvgPool2d)]
    assert pools[-1].kernel_size.tolist() == [1, 1]  # 16 / 2^4 = 1: the last map is 1x1 already


@pytest.mark.parametrize(
    ("model", "neuron", "shape", "message"),
    [
        ({"name": "mlp"}, {"name": "lif"}, (4,), r"layer body.2 \(LIF, neuron.reset=soft\) resets by subtraction.*neuron.reset=hard"),
        ({"name": "mlp"}, {"name": "cuba"}, (4,), r"layer body.2 \(CUBA\) cannot be exported to NIR: .*refractory.*neuron=lif"),
        ({"name": "cnn", "spec": "2C3-P2-4", "pool": "max"}, HARD, (1, 6, 6), r"layer body.2 \(TimeMaxPool2d\) .*no max pooling.*model.pool=avg"),
        ({"name": "resnet19", "channels": [2, 2, 2], "blocks": [1, 1, 1], "fc": []}, HARD, (1, 8, 8), r"layer body.3 \(BasicBlock\) .*skip connection"),
        ({"name": "feedback", "spec": "8-F8"}, {"name": "lif", "decay": 1.0}, (4,), r"layer body.1 \(FeedbackBlock\) .*feedback"),
    ],
    ids=["soft-reset", "cuba", "max-pool", "resnet", "feedback"],
)
def test_what_nir_cannot_express_is_refused_naming_the_layer(model, neuron, shape, message):
    net = network(model, neuron, shape)
    with pytest.raises(NIRExportError, match=message) as err:
        to_nir(net, shape)
    assert "\n" not in str(err.value)
