"""The proof of the NIR export: snntrain's network, written as a NIR graph and imported by snnTorch's
own importer (``snntorch.import_nir.import_from_nir``, an independent simulator), spikes exactly as in
snntrain, step by step and layer by layer, for the MLP and the spec CNN; a wrongly mapped constant
makes them differ."""

from __future__ import annotations

import numpy as np
import pytest
import torch

nir = pytest.importorskip("nir", reason="the nir extra is not installed: pip install -e .[nir]")
pytest.importorskip("snntorch.import_nir", reason="snnTorch (the dev extra) is not installed: pip install -e .[dev]")

from snntrain.export import neurons  # noqa: E402
from snntrain.export.to_nir import to_nir  # noqa: E402
from tests.export.simulate import CASES, B, T, case, network, run_snntorch, run_snntrain  # noqa: E402


@pytest.mark.parametrize("name", list(CASES))
def test_snntorch_runs_the_exported_graph_spike_for_spike(name):
    net, shape, x = case(name)
    expected_out, expected_layers = run_snntrain(net, x)
    out, layers = run_snntorch(to_nir(net, shape), x)
    assert len(layers) == len(expected_layers) >= 1
    for index, (got, want) in enumerate(zip(layers, expected_layers)):
        assert 0 < want.mean() < 0.5, f"layer {index} fires at rate {want.mean():.3f}: the comparison would prove little"
        mismatches = (got != want).sum().item()
        assert mismatches == 0, f"spiking layer {index}: {mismatches} of {want.numel()} spikes differ"
    # The readout (a linear map when model.readout=mean) is a float sum whose order differs between
    # snntrain's batched matmul and snnTorch's one-sample call: equal to round-off.
    torch.testing.assert_close(out, expected_out, rtol=1e-5, atol=1e-6)


PERTURBATIONS = {
    "tau": lambda node: setattr(node, "tau", node.tau * 1.05),
    "r": lambda node: setattr(node, "r", node.r * 1.05),
    "v_threshold": lambda node: setattr(node, "v_threshold", node.v_threshold * 1.05),
}


@pytest.mark.parametrize("constant", list(PERTURBATIONS))
@pytest.mark.parametrize("name", ["mlp", "cnn_batch_norm"])
def test_a_wrongly_mapped_constant_makes_snntorch_spike_differently(name, constant):
    net, shape, x = case(name)
    _, expected_layers = run_snntrain(net, x)
    graph = to_nir(net, shape)
    first_neuron = next(node for node in graph.nodes.values() if isinstance(node, nir.LIF))
    PERTURBATIONS[constant](first_neuron)
    _, layers = run_snntorch(graph, x)
    assert (layers[0] != expected_layers[0]).any(), f"{constant} off by 5% went unnoticed"


def tie_network():
    """An MLP whose membranes land exactly on the threshold: weights 0.25, spike input, no leak."""
    net = network({"name": "mlp", "hidden": [8], "bias": False}, {"name": "lif", "reset": "hard", "decay": 0.0, "threshold": 1.0}, (16,))
    with torch.no_grad():
        net.body[1].weight.fill_(0.25)
    return net


def test_a_membrane_exactly_at_the_threshold_fires_in_both(monkeypatch):
    """snntrain fires at u >= θ, NIR at v > v_threshold: the export writes the float32 below θ. With θ
    itself (the perturbation), snnTorch misses every spike whose membrane sits exactly on θ."""
    net = tie_network()
    x = (torch.rand(T, B, 16) < 0.25).float()
    _, (expected,) = run_snntrain(net, x)
    _, (got,) = run_snntorch(to_nir(net, (16,)), x)
    assert expected.any() and torch.equal(got, expected)
    monkeypatch.setattr(neurons, "threshold_below", lambda theta: np.float32(theta))
    _, (got_at_theta,) = run_snntorch(to_nir(net, (16,)), x)
    assert (got_at_theta != expected).any()
