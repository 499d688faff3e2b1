"""snntrain -> NIR file -> snntrain: the imported network gives the same spikes and outputs, and what
snntrain has no layer for is refused in one line."""

from __future__ import annotations

import numpy as np
import pytest
import torch

nir = pytest.importorskip("nir", reason="the nir extra is not installed: pip install -e .[nir]")

from snntrain.export.errors import NIRExportError  # noqa: E402
from snntrain.export.from_nir import from_nir, read  # noqa: E402
from snntrain.export.to_nir import to_nir  # noqa: E402
from tests.export.simulate import CASES, case, run_snntrain  # noqa: E402


@pytest.mark.parametrize("name", list(CASES))
def test_a_network_read_back_from_its_nir_file_computes_the_same(name, tmp_path):
    net, shape, x = case(name)
    nir.write(tmp_path / "model.nir", to_nir(net, shape))
    imported, input_shape = from_nir(read(tmp_path / "model.nir"))
    assert input_shape == shape and imported.readout == net.readout
    expected_out, expected_layers = run_snntrain(net, x)
    out, layers = run_snntrain(imported, x)
    assert all(torch.equal(got, want) for got, want in zip(layers, expected_layers, strict=True))
    if any(isinstance(m, torch.nn.BatchNorm2d) for m in net.modules()):
        # BatchNorm is folded into the conv weights: the same map, rounded differently
        torch.testing.assert_close(out, expected_out, rtol=1e-5, atol=1e-6)
    else:
        assert torch.equal(out, expected_out)


def test_a_neuron_without_leak_reads_back_as_one(tmp_path):
    net, shape, x = case("mlp")
    net.body[2].decay = 1.0
    imported, _ = from_nir(to_nir(net, shape))
    assert imported.body[2].decay == 1.0 and imported.body[2].cfg.threshold == 0.5


def test_what_snntrain_has_no_layer_for_is_refused_naming_the_node(tmp_path):
    graph = nir.NIRGraph.from_list(nir.Input(input_type={"input": np.array([4])}), nir.SumPool2d(np.array([2, 2]), np.array([2, 2]), np.array([0, 0])), type_check=False)
    with pytest.raises(NIRExportError, match=r"NIR node sumpool2d \(SumPool2d\) has no snntrain layer"):
        from_nir(graph)
    leaky = nir.LIF(tau=np.array([1e-3, 2e-3]), r=np.array([10.0, 10.0]), v_leak=np.zeros(2), v_threshold=np.ones(2))
    with pytest.raises(NIRExportError, match="different tau per neuron"):
        from_nir(nir.NIRGraph.from_list(leaky))
    scaled = nir.LIF(tau=np.full(2, 1e-3), r=np.ones(2), v_leak=np.zeros(2), v_threshold=np.ones(2))
    with pytest.raises(NIRExportError, match=r"scales its input by r·dt/τ = 0.1 per step"):
        from_nir(nir.NIRGraph.from_list(scaled))
    (tmp_path / "junk.nir").write_bytes(b"not hdf5")
    with pytest.raises(NIRExportError, match="cannot be read as a NIR graph"):
        read(tmp_path / "junk.nir")
