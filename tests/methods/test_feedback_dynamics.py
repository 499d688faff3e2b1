"""``model=feedback`` against its equations: the LIF leak, the Replace trick, the official BatchNorm
statistics, variational dropout and the spectral constraint. References are written here from the
equations (and the official code's reading of them), not taken from the implementation."""

from __future__ import annotations

import pytest
import torch

from snntrain.core.capabilities import switched
from snntrain.methods.onestep.equilibrium import ExactAdjoint, JacobianFree
from tests.methods.method_helpers import build

FC = ["model=feedback", "model.spec=12-F12", "model.batch_norm=false", "model.contraction=0.8", "dataset=synthetic", "dataset.input_shape=[6]"]


def fc_block(*overrides: str):
    block = build([*FC, *overrides]).model.body[1]
    return block


def reference_rates(block, x: torch.Tensor, T: int, theta: float, lam: float) -> torch.Tensor:
    """The official SNNLIFFunc from its equations: u += W_s s + F x; s = [u ≥ θ]; u = (u − θ s)·λ;
    a = Σ λ^(T−1−t) s[t] / Σ λ^k."""
    w_x, b, w_s = block.inputs.op.weight, block.inputs.op.bias, block.feedback.op.weight
    drive = x @ w_x.T + b
    u = torch.zeros_like(drive)
    s = torch.zeros_like(drive)
    total = torch.zeros_like(drive)
    for _ in range(T):
        u = (u + s @ w_s.T) + drive
        s = (u >= theta).float()
        u = (u - theta * s) * lam
        total = total * lam + s
    return total / sum(lam**k for k in range(T))


@pytest.mark.parametrize("overrides", [["neuron.decay=0.8"], ["neuron.tau=5"]])
def test_the_leak_is_neuron_decay(overrides):
    T, lam = 25, 0.8
    block = fc_block(*overrides, "neuron.threshold=0.5").eval()
    x = torch.rand(5, 6, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        rates = block(x.expand(T, *x.shape))[0]
        leaky = reference_rates(block, x, T, 0.5, lam)
        integrate_and_fire = reference_rates(block, x, T, 0.5, 1.0)
    torch.testing.assert_close(rates, leaky, rtol=0, atol=1e-6)
    assert (leaky - integrate_and_fire).abs().max() > 0.1  # ignoring the leak would fail this test


def test_forward_value_is_the_simulated_rates_and_its_gradient_that_of_f():
    T = 40
    block = fc_block("neuron.decay=0.9", "neuron.threshold=0.7").train()
    x = torch.rand(5, 6, generator=torch.Generator().manual_seed(1))
    w = torch.randn(5, 12, generator=torch.Generator().manual_seed(2))
    with switched([block], "implicit_gradient", JacobianFree(1)):
        out = block(x.expand(T, *x.shape))[0]
    (out * w).sum().backward()
    mine = [p.grad.clone() for p in (block.inputs.op.weight, block.inputs.op.bias, block.feedback.op.weight)]

    simulated = reference_rates(block, x, T, 0.7, 0.9).detach()
    torch.testing.assert_close(out.detach(), simulated, rtol=0, atol=1e-6)
    params = [p.detach().requires_grad_() for p in (block.inputs.op.weight, block.inputs.op.bias, block.feedback.op.weight)]
    w_x, b, w_s = params
    f = torch.clamp((simulated @ w_s.T + (x @ w_x.T + b)) / 0.7, 0, 1)  # f(a*, x), a* a constant
    reference = torch.autograd.grad((f * w).sum(), params)
    for got, expected in zip(mine, reference):
        torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-7)
    assert not torch.equal(f.detach(), simulated)  # value a*, not f(a*)


def test_input_batchnorm_is_updated_twice_per_step_for_a_constant_input():
    """The official simulation and equilibrium pass each update the running statistics; its
    'restore' keeps a reference to the buffers and restores nothing."""
    T = 6
    block = fc_block("model.batch_norm=true", "neuron.decay=1.0").train()
    x = torch.randn(8, 6, generator=torch.Generator().manual_seed(3))
    with switched([block], "implicit_gradient", JacobianFree(1)):
        block(x.expand(T, *x.shape))
    z = (x @ block.inputs.op.weight.T + block.inputs.op.bias).detach()
    norm = block.inputs.norm
    torch.testing.assert_close(norm.running_mean, 0.19 * z.mean(0))
    torch.testing.assert_close(norm.running_var, 0.81 + 0.19 * z.var(0))


def official_average(x: torch.Tensor, lam: float) -> torch.Tensor:
    """What the official LIF code's equilibrium pass sees for spike input with input BatchNorm:
    m = weighted mean; the last frame becomes m; then (1 + λ^T)(m + Σ_{k≥1} λ^k x[T−1−k]) / Σ_{k≤T} λ^k."""
    T = x.shape[0]
    m = sum(lam ** (T - 1 - t) * x[t] for t in range(T)) / sum(lam**k for k in range(T))
    total = m + sum(lam**k * x[T - 1 - k] for k in range(1, T))
    return total * (1 + lam**T) / sum(lam**k for k in range(T + 1)), m


@pytest.mark.parametrize("average", ["official", "weighted"])
def test_spike_input_batchnorm_sees_the_official_or_the_weighted_average(average):
    T, lam = 7, 0.9
    block = fc_block("model.batch_norm=true", f"neuron.decay={lam}", f"model.input_average={average}").train()
    x = (torch.rand(T, 16, 6, generator=torch.Generator().manual_seed(4)) < 0.4).float()
    with switched([block], "implicit_gradient", JacobianFree(1)):
        block(x)
    official, weighted = official_average(x, lam)
    seen = official if average == "official" else weighted
    z = (seen @ block.inputs.op.weight.T + block.inputs.op.bias).detach()
    torch.testing.assert_close(block.inputs.norm.running_mean, 0.1 * z.mean(0))  # one update: the equilibrium pass
    other = weighted if average == "official" else official
    assert not torch.allclose(block.inputs.norm.running_mean, 0.1 * (other @ block.inputs.op.weight.T + block.inputs.op.bias).mean(0))


def test_the_exact_gradients_adjoint_moves_no_running_statistics():
    """The exact gradient evaluates f once more, for J_f; the running statistics end as the one-step
    gradient leaves them, and every BatchNorm tracks them again afterwards."""
    T = 6
    x = torch.rand(8, 6, generator=torch.Generator().manual_seed(6))
    buffers = {}
    for name, how in [("jfb", JacobianFree(1)), ("exact", ExactAdjoint("fixed_point", 50, 1e-6))]:
        torch.manual_seed(0)
        overrides = ["model=feedback", "model.spec=12-12-F12", "model.batch_norm=true", "dataset=synthetic", "dataset.input_shape=[6]"]
        block = build(overrides).model.body[1].train()
        with switched([block], "implicit_gradient", how):
            block(x.expand(T, *x.shape)).sum().backward()
        buffers[name] = dict(block.named_buffers())
        assert all(m.track_running_stats for m in block.modules() if isinstance(m, torch.nn.BatchNorm1d))
    assert buffers["exact"]["layers.0.norm.running_mean"].abs().sum() > 0  # the loop's BatchNorm is updated
    for key, value in buffers["jfb"].items():
        assert torch.equal(buffers["exact"][key], value), key


def test_official_average_changes_only_the_last_simulated_frame():
    T, lam = 9, 0.9
    x = (torch.rand(T, 32, 6, generator=torch.Generator().manual_seed(5)) < 0.4).float()
    trains = {}
    for average in ["official", "weighted"]:
        torch.manual_seed(0)
        block = fc_block("model.batch_norm=true", f"neuron.decay={lam}", "neuron.threshold=0.3", f"model.input_average={average}").train()
        (trains[average],) = block.spike_trains(x)
    assert torch.equal(trains["official"][:-1], trains["weighted"][:-1])
    assert not torch.equal(trains["official"][-1], trains["weighted"][-1])


def test_variational_dropout_keeps_one_mask_per_sample_for_the_batch():
    block = fc_block("model.dropout=0.5").train()
    synapse = block.inputs
    x = torch.ones(4, 6)
    synapse.prepare()
    first, again = synapse(x), synapse(x)
    assert torch.equal(first, again)  # the same mask at every step
    assert not torch.equal(first[0], first[1])  # each sample its own
    assert set(torch.unique((first / synapse.linear(x)).round(decimals=4)).tolist()) <= {0.0, 2.0}
    synapse.prepare()
    assert not torch.equal(synapse(x), first)  # a new batch, a new mask
    assert torch.equal(synapse.eval()(x), synapse.linear(x))


def test_spectral_norm_stays_at_most_one_when_training_pushes_it_above():
    """Gradient ascent on ‖W_s‖ pushes a plain weight past 1; the re-parametrised one stays ≤ 1."""
    norms = {}
    for spectral in ["true", "false"]:
        torch.manual_seed(0)
        block = fc_block(f"model.spectral_norm={spectral}", "model.contraction=null" if spectral == "true" else "model.contraction=0.9")
        synapse = block.feedback
        optimizer = torch.optim.SGD(synapse.parameters(), lr=0.5)
        for _ in range(30):
            synapse.prepare()  # once per forward, as the block does
            optimizer.zero_grad()
            (-torch.linalg.matrix_norm(synapse.op.weight, ord=2)).backward()
            optimizer.step()
        synapse.prepare()
        norms[spectral] = float(torch.linalg.matrix_norm(synapse.op.weight.detach(), ord=2))
        if spectral == "true":
            assert float(synapse.spectral.gain.detach()) > 1.0  # the raw gain went past the bound
    assert norms["false"] > 2.0
    assert norms["true"] <= 1.0 + 1e-4  # up to the one-step power iteration's lag behind σ(w)
