"""Rate-based backpropagation: exactness, the eligibility recursion, BatchNorm, options."""

from __future__ import annotations

import pytest
import torch

from snntrain.core.capabilities import RATE, RECORD, SurrogateGradient, switched
from snntrain.core.errors import ConfigError
from snntrain.core.spiking import SpikingModule
from snntrain.data import ENCODERS
from snntrain.layers import TimeBatchNorm2d
from snntrain.neurons.dynamics.lif import lif_multistep
from snntrain.neurons.eligibility import record_lif
from snntrain.neurons.lif import LIF, LIFConfig
from snntrain.neurons.surrogate import sigmoid_grad
from tests.methods.method_helpers import build, digits_batch, gradients

T = 8


@pytest.mark.parametrize("detach_reset", [True, False])
@pytest.mark.parametrize("reset", ["soft", "hard"])
def test_gradient_equals_bptt_for_time_constant_input(reset, detach_reset):
    """Direct input into one hidden layer whose rate alone reaches the loss: rate-BP is exact."""
    x, y = digits_batch()
    x = ENCODERS["direct"](x, T)
    common = ["model.hidden=[32]", f"neuron.reset={reset}", f"neuron.detach_reset={detach_reset}", f"T={T}"]
    bptt_result, bptt = gradients(build(["method=bptt", *common]), x, y)
    rate_result, rate = gradients(build(["method=ratebp", *common]), x, y)
    assert bptt["body.1.weight"].abs().sum() > 0
    torch.testing.assert_close(rate_result.loss, bptt_result.loss, rtol=0, atol=1e-6)
    assert rate.keys() == bptt.keys()
    for name in bptt:
        torch.testing.assert_close(rate[name], bptt[name], rtol=0, atol=1e-5, msg=name)


def kappa_reference(drive: torch.Tensor, lam: float, reset: str, detach_reset: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Rate and eligibility from METHODS.md §3's κ recursion, written out step by step."""
    v = torch.zeros_like(drive[0])
    kappa = torch.ones_like(v)
    rate, elig = torch.zeros_like(v), torch.zeros_like(v)
    for t in range(drive.shape[0]):
        u = lam * v + drive[t]
        s = (u >= 1.0).float()
        sg = sigmoid_grad(u - 1.0, 4.0)
        rate, elig = rate + s, elig + sg * kappa
        if reset == "soft":
            v = u - s
            kappa = 1 + lam * kappa * (1 if detach_reset else 1 - sg)
        else:
            v = u * (1 - s)
            kappa = 1 + lam * kappa * ((1 - s) if detach_reset else (1 - s - u * sg))
    return rate / drive.shape[0], elig / drive.shape[0]


@pytest.mark.parametrize(("reset", "detach_reset"), [("soft", True), ("soft", False), ("hard", True), ("hard", False)])
def test_eligibility_follows_the_kappa_recursion(reset, detach_reset):
    drive = (torch.rand(1, 4, 50) * 1.5).expand(12, 4, 50)
    neuron = LIF(LIFConfig(decay=0.2, reset=reset, detach_reset=detach_reset))
    with switched([neuron], "rate_pass", RECORD):
        neuron(drive)
    rate, elig = kappa_reference(drive, 0.2, reset, detach_reset)
    torch.testing.assert_close(neuron.rates.rate, rate)
    torch.testing.assert_close(neuron.rates.eligibility, elig)


@pytest.mark.parametrize(("reset", "detach_reset"), [("soft", True), ("soft", False), ("hard", True), ("hard", False)])
def test_recording_runs_the_same_lif_update(reset, detach_reset):
    drive, v0 = torch.randn(9, 4, 30) * 1.5, torch.rand(4, 30)
    params = (0.3, 0.8, reset == "soft", detach_reset, "atan", 2.0)
    spikes, v = lif_multistep(drive, v0, *params)
    recorded, recorded_v, record = record_lif(drive, v0, None, *params)
    assert torch.equal(recorded, spikes) and torch.equal(recorded_v, v)
    torch.testing.assert_close(record.rate, spikes.mean(0))


def test_record_carries_across_calls_until_reset():
    drive = torch.rand(10, 3, 20) * 2
    whole, split = LIF(LIFConfig(reset="hard")), LIF(LIFConfig(reset="hard"))
    with switched([whole, split], "rate_pass", RECORD):
        whole(drive)
        split(drive[:4])
        split(drive[4:])
    torch.testing.assert_close(split.rates.rate, whole.rates.rate)
    torch.testing.assert_close(split.rates.eligibility, whole.rates.eligibility)
    split.reset()
    assert split.rates is None and split.v is None


def test_rate_pass_returns_the_rate_with_the_eligibility_as_derivative():
    neuron = LIF(LIFConfig())
    with switched([neuron], "rate_pass", RECORD):
        neuron(torch.rand(6, 2, 5) * 2)
    drive = torch.randn(1, 2, 5, requires_grad=True)
    with switched([neuron], "rate_pass", RATE):
        out = neuron(drive)
    out.sum().backward()
    torch.testing.assert_close(out[0], neuron.rates.rate)
    torch.testing.assert_close(drive.grad[0], neuron.rates.eligibility)


def test_batchnorm_rate_pass_uses_spike_statistics_as_values():
    x = torch.randn(T, 6, 3, 5, 5) * 2 + 1
    bn = TimeBatchNorm2d(3)
    with torch.no_grad(), switched([bn], "rate_pass", RECORD):
        spike_out = bn(x)
    running = bn.running_mean.clone()
    with switched([bn], "rate_pass", RATE):
        rate_out = bn(x.mean(0, keepdim=True))
    torch.testing.assert_close(rate_out[0], spike_out.mean(0), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(bn.running_mean, running)  # updated by the spike pass only


def test_batchnorm_rate_pass_is_plain_batchnorm_when_t_is_one():
    """With one step the spike and rate statistics coincide: values and gradients are BatchNorm's."""
    x = torch.randn(1, 6, 3, 4, 4)
    plain, rated = TimeBatchNorm2d(3), TimeBatchNorm2d(3)
    a, b = x.clone().requires_grad_(), x.clone().requires_grad_()
    weights = torch.randn_like(x)
    (plain(a) * weights).sum().backward()
    with torch.no_grad(), switched([rated], "rate_pass", RECORD):
        rated(x)
    with switched([rated], "rate_pass", RATE):
        (rated(b) * weights).sum().backward()
    torch.testing.assert_close(b.grad, a.grad, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(rated.weight.grad, plain.weight.grad, rtol=1e-4, atol=1e-5)


def test_rate_pass_scores_equal_the_spiking_forward_with_batchnorm():
    x = torch.rand(T, 16, 1, 8, 8)
    _, y = digits_batch(16)
    overrides = ["model=cnn", "model.batch_norm=true", f"T={T}"]
    bptt, _ = gradients(build(["method=bptt", *overrides]), x, y)
    rate, grads = gradients(build(["method=ratebp", *overrides]), x, y)
    torch.testing.assert_close(rate.scores, bptt.scores, rtol=1e-4, atol=1e-5)
    assert all(torch.isfinite(g).all() for g in grads.values())


def test_grad_scale_one_over_t_divides_the_gradient_by_t():
    x, y = digits_batch()
    x = ENCODERS["direct"](x, T)
    _, one = gradients(build(["method=ratebp", f"T={T}"]), x, y)
    _, scaled = gradients(build(["method=ratebp", "method.grad_scale=1/T", f"T={T}"]), x, y)
    for name in one:
        torch.testing.assert_close(scaled[name] * T, one[name])


def test_bad_grad_scale_is_a_config_error():
    with pytest.raises(ConfigError, match=r"method.grad_scale='0.5' is not allowed: choose one of \['1', '1/T'\]"):
        build(["method=ratebp", "method.grad_scale=0.5"])


def test_feedback_model_is_rejected():
    with pytest.raises(ConfigError, match="method=ratebp needs a feed-forward model"):
        build(["method=ratebp", "model=feedback"])


def test_neurons_without_rate_mode_are_rejected_by_name():
    class CountingNeuron(SurrogateGradient, SpikingModule):
        pass

    p = build(["method=ratebp"])
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), CountingNeuron(), torch.nn.BatchNorm1d(4))
    with pytest.raises(ConfigError, match=r"support rate mode; these do not: \['1', '2'\]"):
        p.method.check(model)
