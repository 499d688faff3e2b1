"""HOSVD: the error bound, exact low-rank recovery, the factor-route conv gradient, codec choices."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from snntrain.compress.base import tensor_bytes
from snntrain.compress.bitpack import BitPacked
from snntrain.compress.factor_grad import conv2d_weight_grad_from_factors
from snntrain.compress.hosvd import HOSVDCodec, Tucker, hosvd, mode_products, rank_for
from snntrain.core.errors import ConfigError


@settings(max_examples=60, deadline=None)
@given(
    shape=st.lists(st.integers(1, 12), min_size=2, max_size=4),
    eps=st.floats(0.05, 1.0),
    seed=st.integers(0, 2**16),
)
def test_reconstruction_error_obeys_the_bound(shape, eps, seed):
    a = torch.randn(shape, generator=torch.Generator().manual_seed(seed))
    approx = hosvd(a, eps).restore()
    error, energy = (a - approx).pow(2).sum(), a.pow(2).sum()
    assert error <= 4 * (1 - eps) * energy + 1e-5 * energy


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_exactly_low_rank_tensor_is_recovered_with_its_ranks(dtype):
    g = torch.Generator().manual_seed(0)
    ranks, shape = (3, 2, 4, 2), (40, 6, 9, 7)
    core = torch.randn(ranks, generator=g, dtype=torch.float64)
    factors = [torch.linalg.qr(torch.randn(m, k, generator=g, dtype=torch.float64)).Q for m, k in zip(shape, ranks)]
    a = mode_products(core, factors).to(dtype)
    tucker = hosvd(a, 1 - 1e-9 if dtype == torch.float64 else 1 - 1e-5)
    assert tucker.ranks == ranks
    torch.testing.assert_close(tucker.restore(), a, rtol=0, atol=1e-10 if dtype == torch.float64 else 1e-5)


def test_sparse_spike_tensor_on_which_float32_eigh_fails_is_decomposed():
    ones = [(67, 85), (67, 86), (67, 90), (68, 89), (99, 89), (100, 85), (119, 85), (163, 85), (163, 86), (163, 90), (164, 86), (164, 89), (166, 85)]
    ones += [(167, 85), (167, 89), (172, 86), (182, 85), (183, 85), (183, 89), (185, 85), (186, 85), (187, 89), (227, 85), (227, 89), (228, 85), (228, 89)]
    a = torch.zeros(256, 512)
    a[tuple(torch.tensor(ones).T)] = 1.0
    tucker = hosvd(a, 1 - 1e-6)
    assert tucker.ranks == (4, 4)
    torch.testing.assert_close(tucker.restore(), a, rtol=0, atol=1e-5)


def test_rank_is_the_fewest_leading_values_reaching_eps():
    energies = torch.tensor([5.0, 3.0, 1.0, 1.0])
    assert [rank_for(energies, eps) for eps in (0.5, 0.8, 0.81, 0.9, 1.0)] == [1, 2, 3, 3, 4]


@pytest.mark.parametrize(("stride", "padding", "dilation"), [(1, 1, 1), (2, 0, 1), (1, 2, 2)])
def test_factor_route_conv_weight_grad_matches_reconstruction(stride, padding, dilation):
    g = torch.Generator().manual_seed(1)
    a = torch.randn(24, 5, 11, 10, generator=g)
    tucker = hosvd(a, 0.8)
    weight = torch.randn(7, 5, 3, 3, generator=g)
    out = torch.nn.functional.conv2d(a, weight, stride=stride, padding=padding, dilation=dilation)
    grad_output = torch.randn(out.shape, generator=g)
    via_factors = conv2d_weight_grad_from_factors(tucker, grad_output, (3, 3), stride, padding, dilation)
    via_restore = torch.nn.grad.conv2d_weight(tucker.restore(), weight.shape, grad_output, stride, padding, dilation)
    torch.testing.assert_close(via_factors, via_restore, rtol=1e-5, atol=1e-5 * via_restore.abs().max().item())


def codec(**kw) -> HOSVDCodec:
    """A codec that decomposes whatever tensor it is given (``scope="all"``): the mechanics, without a model."""
    return HOSVDCodec(**{"eps": 0.8, "min_numel": 64, "layers": [], "spikes": "none", "scope": "all", **kw})


def low_rank(shape=(32, 8, 6, 6)) -> torch.Tensor:
    return torch.ones(shape) + 0.01 * torch.randn(shape)


def test_codec_decomposes_real_activations_saved_in_the_model():
    a = low_rank()
    stored = codec().pack(a, "body.0")
    assert isinstance(stored, Tucker) and stored.nbytes < tensor_bytes(a)
    assert codec().unpack(stored).shape == a.shape


@pytest.mark.parametrize(
    ("t", "layer", "kw"),
    [
        (low_rank(), None, {}),
        (low_rank((4, 4)), "body.0", {}),
        (torch.eye(3).repeat(22, 1), "body.0", {"min_numel": 0}),
        (low_rank(), "body.3", {"layers": ["body.0"]}),
        (torch.ones(300, dtype=torch.float32), "body.0", {"min_numel": 0}),
        (low_rank().index_fill(0, torch.tensor([3]), float("nan")), "body.0", {}),
    ],
    ids=["outside-the-model", "below-min-numel", "not-smaller", "layer-not-listed", "one-mode", "non-finite"],
)
def test_codec_keeps_tensors_it_should_not_decompose(t, layer, kw):
    assert codec(**kw).pack(t, layer) is t


def test_layers_select_a_module_and_its_submodules():
    assert codec(layers=["body"]).selects("body.3")
    assert not codec(layers=["body.1"]).selects("body.10")


def test_spikes_bitpack_packs_binary_tensors_losslessly():
    spikes = (torch.rand(1, 8, 6, 6) < 0.2).float().expand(32, 8, 6, 6).contiguous()
    assert isinstance(codec(spikes="bitpack").pack(spikes, "body.1"), BitPacked)
    assert isinstance(codec().pack(spikes, "body.1"), Tucker)


def test_bfloat16_activations_come_back_in_bfloat16():
    a = low_rank().bfloat16()
    back = codec().unpack(codec().pack(a, "body.0"))
    assert back.dtype == torch.bfloat16
    assert (back.float() - a.float()).pow(2).sum() <= 4 * 0.2 * a.float().pow(2).sum()


# ----- scope: what the paper compresses ------------------------------------------------------------
def conv_snn():
    from snntrain.core.registry import build

    torch.manual_seed(0)
    neuron = build("neuron", {"name": "lif", "backend": "torch"})
    return build("model", {"name": "cnn", "spec": "6C3-P2-8C3-P2"}, (2, 12, 12), 4, neuron)


def input_gradient_and_ranks(scope: str):
    """One BPTT step of a small conv SNN under HOSVD at ε = 0.5: d loss / d input, and the layers decomposed."""
    from snntrain.compress import SavedTensorMeter, saving
    from snntrain.core.spiking import reset_states

    model = conv_snn()
    x = torch.rand(4, 8, 2, 12, 12, generator=torch.Generator().manual_seed(1)).requires_grad_()
    meter = SavedTensorMeter(samples=8)
    reset_states(model)
    hosvd_codec = HOSVDCodec(eps=0.5, min_numel=64, layers=[], spikes="none", scope=scope)
    with saving(hosvd_codec, meter, model):
        model(x).sum().backward()
    layers = {key.split("/")[0] for key in meter.layer_figures()["hosvd_rank_per_layer"]}
    return x.grad, layers, model


def test_weight_inputs_scope_decomposes_only_what_conv_and_linear_layers_save():
    _, layers, model = input_gradient_and_ranks("weight_inputs")
    kinds = {name: type(module).__name__ for name, module in model.named_modules()}
    assert layers and all(kinds[name] in ("TimeConv2d", "Linear") for name in layers), layers
    _, everything, _ = input_gradient_and_ranks("all")
    assert any(kinds[name] == "LIF" for name in everything), everything


def test_weight_inputs_scope_leaves_the_input_gradient_exact():
    """The paper's point: a layer's input gradient uses W and the neurons' exact states; only the
    weight gradients see the decomposition. Decomposing every saved tensor changes the input gradient too."""
    from snntrain.core.spiking import reset_states

    model = conv_snn()
    x = torch.rand(4, 8, 2, 12, 12, generator=torch.Generator().manual_seed(1)).requires_grad_()
    reset_states(model)
    model(x).sum().backward()
    paper, _, _ = input_gradient_and_ranks("weight_inputs")
    everything, _, _ = input_gradient_and_ranks("all")
    assert torch.equal(paper, x.grad)
    assert not torch.allclose(everything, x.grad, rtol=1e-3, atol=1e-6)


def test_an_unknown_scope_is_refused_naming_the_key():
    from snntrain.compress.hosvd import HOSVDConfig

    with pytest.raises(ConfigError, match="compression.scope"):
        HOSVDConfig(scope="inputs")
