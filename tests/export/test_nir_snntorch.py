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
from tests.export.simulate import (  # noqa: E402
    CASES,
    B,
    T,
    case,
    network,
    run_snntorch,
    run_snntrain,
    spiking_outputs,
)


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


@pytest.mark.filterwarnings("ignore:nirtorch.extract_nir_graph is being deprecated:DeprecationWarning")  # snnTorch 1.0's exporter calls it
def test_a_graph_snntorch_exports_runs_in_snntrain_as_in_snntorch():
    """The other direction: snnTorch's own network (reset to zero), written by its exporter, read by
    snntrain's importer; the spikes of both neuron layers agree step by step."""
    import snntorch
    import snntorch.utils
    from snntorch.export_nir import export_to_nir

    from snntrain.export.from_nir import from_nir

    torch.manual_seed(0)
    leaky = lambda n, beta, threshold: snntorch.Leaky(  # noqa: E731
        beta=torch.full((n,), beta), threshold=torch.full((n,), threshold), init_hidden=True, reset_mechanism="zero", reset_delay=False,
    )
    theirs = torch.nn.Sequential(torch.nn.Linear(16, 12), leaky(12, 0.8, 0.5), torch.nn.Linear(12, 5), leaky(5, 0.6, 0.3))
    graph = export_to_nir(theirs, torch.zeros(16))  # one sample: the exporter's type check takes no batch axis
    ours, input_shape = from_nir(graph)
    assert input_shape == (16,) and ours.readout == "spikes"
    x = (torch.rand(T, B, 16) < 0.3).float()
    record, hooks = spiking_outputs(theirs, lambda m: isinstance(m, snntorch.Leaky))
    snntorch.utils.reset(theirs)
    with torch.no_grad():
        for t in range(T):
            theirs(x[t])
    for hook in hooks:
        hook.remove()
    expected = [torch.stack(calls) for calls in record.values()]
    _, got = run_snntrain(ours, x)
    assert all(e.any() for e in expected)
    assert all(torch.equal(g, e) for g, e in zip(got, expected, strict=True))
