"""One-step differentiation: k = T is BPTT, k = 1 is a no-graph loop plus one step, k is checked."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from snntrain.core.errors import ConfigError
from snntrain.core.spiking import SpikingModule, reset_states
from snntrain.data import ENCODERS
from tests.methods.method_helpers import build, digits_batch, gradients

T = 6


@pytest.mark.parametrize("model", [["model=mlp", "model.hidden=[40,30]"], ["model=cnn", "model.batch_norm=true"]])
def test_k_equal_t_is_bptt(model):
    x, y = digits_batch(16)
    x = ENCODERS["poisson"](x, T)
    bptt_result, bptt = gradients(build(["method=bptt", f"T={T}", *model]), x, y)
    one_result, onestep = gradients(build(["method=onestep", f"method.k={T}", f"T={T}", *model]), x, y)
    torch.testing.assert_close(one_result.loss, bptt_result.loss, rtol=0, atol=1e-6)
    assert onestep.keys() == bptt.keys()
    for name in bptt:
        torch.testing.assert_close(onestep[name], bptt[name], rtol=0, atol=1e-6, msg=name)


def test_k_one_is_a_no_graph_loop_then_one_step():
    overrides = ["model.hidden=[40,30]", f"T={T}"]
    x, y = digits_batch(16)
    x = ENCODERS["poisson"](x, T)
    result, onestep = gradients(build(["method=onestep", "method.k=1", *overrides]), x, y)

    model = build(["method=bptt", *overrides]).model
    reset_states(model)
    with torch.no_grad():
        outputs = [model(x[t : t + 1]) for t in range(T - 1)]
    for neuron in model.modules():
        if isinstance(neuron, SpikingModule):
            neuron.v = neuron.v.detach()
    outputs.append(model(x[T - 1 :]))
    loss = F.cross_entropy(torch.cat(outputs).mean(0), y)
    loss.backward()

    torch.testing.assert_close(result.loss, loss.detach(), rtol=0, atol=1e-6)
    for name, p in model.named_parameters():
        torch.testing.assert_close(onestep[name], p.grad, rtol=0, atol=1e-6, msg=name)


@pytest.mark.parametrize(("k", "t"), [(5, 4), (0, 4), (-1, 4)])
def test_k_outside_one_to_t_is_a_config_error(k, t):
    with pytest.raises(ConfigError, match=rf"method.k={k} is not allowed with T={t}: it must be in \[1, T\]"):
        build(["method=onestep", f"method.k={k}", f"T={t}"])


def test_bad_implicit_option_is_a_config_error():
    with pytest.raises(ConfigError, match=r"method.implicit='adjoint' is not allowed: choose one of \['jfb', 'exact'\]"):
        build(["method=onestep", "method.implicit=adjoint"])


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["method.implicit=exact"], r"method.implicit='exact' is not allowed: it applies to feedback networks \(model=feedback\) only"),
        (["method.adjoint_solver=broyden"], r"method.adjoint_solver='broyden' is not allowed: it applies to feedback networks"),
        (["model=feedback", "method.implicit=exact", "method.k=2"], r"method.k=2 is not allowed: with method.implicit=exact the gradient is the adjoint's"),
    ],
)
def test_feedback_only_keys_are_refused_where_they_cannot_act(overrides, message):
    with pytest.raises(ConfigError, match=message):
        build(["method=onestep", *overrides])


def test_an_ide_row_turns_one_step_with_one_override_and_is_told_what_no_longer_acts(caplog):
    with caplog.at_level("WARNING"):
        assert build(["experiment=onestep_ide_mnist", "method.implicit=jfb"]).method.cfg.adjoint_solver == "broyden"
    assert "method.adjoint_solver=broyden" in caplog.text and "no effect under method.implicit=jfb" in caplog.text


# ----- BatchNorm running statistics: one update per step --------------------------------------------
def test_pooled_statistics_are_those_of_the_concatenated_samples():
    from snntrain.layers.bn_updates import pooled
    from snntrain.layers.rate_bn import channel_stats

    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(5, 3, 4, 2, generator=g) * 2 + 1, torch.randn(1, 3, 4, 2, generator=g) - 1
    var_ab, mean_ab = channel_stats(torch.cat([a, b]))
    calls = [(t.numel() // t.shape[2], *reversed(channel_stats(t))) for t in (a, b)]
    n, mean, var = pooled(calls)
    assert n == a.numel() // 4 + b.numel() // 4
    torch.testing.assert_close(mean, mean_ab)
    torch.testing.assert_close(var, var_ab)


def test_a_truncated_step_updates_batchnorm_statistics_once_as_bptt_does():
    """The first BatchNorm sees the same input under both methods: after one step its running
    statistics must be BPTT's, and every BatchNorm must have counted one batch, not two."""
    overrides = ["model=cnn", "model.spec=4C3-P2-8C3", "model.batch_norm=true", "T=6"]
    x = (torch.rand(6, 8, 1, 8, 8, generator=torch.Generator().manual_seed(2)) < 0.3).float()
    y = torch.arange(8) % 10
    states = {}
    for method in ("bptt", "onestep"):
        p = build([f"method={method}", *overrides])
        gradients(p, x, y)
        states[method] = p.model.state_dict()
    onestep, bptt = states["onestep"], states["bptt"]
    assert all(int(v) == 1 for k, v in onestep.items() if k.endswith("num_batches_tracked"))
    for key in ("body.1.running_mean", "body.1.running_var"):
        torch.testing.assert_close(onestep[key], bptt[key], rtol=1e-5, atol=1e-6)
