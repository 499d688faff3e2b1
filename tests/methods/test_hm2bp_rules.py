"""HM2-BP's layer rules against METHODS.md §5 written with loops (hm2bp_reference.py).

Batch 1: weight gradient, side term and propagated error of a linear layer, a conv layer and a
spiking pool; the output-layer terms; the whole method step; then batched == per-sample.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from snntrain.core.errors import ConfigError
from snntrain.core.spiking import reset_states
from snntrain.layers import Flatten, Linear, TimeAvgPool2d, TimeConv2d
from snntrain.methods.hm2bp.method import HM2BP, HM2BPConfig, weight_regulariser
from snntrain.methods.hm2bp.output import count_loss, force_target_spikes, lateral_factor
from snntrain.methods.hm2bp.psp import PSPKernel, psp_matrix
from snntrain.methods.hm2bp.rules import Fallbacks, layer_gradients, side_effect, time_major_drive
from snntrain.models import SpikingNet
from snntrain.neurons.cuba import CUBA, CUBAParams
from tests.methods import hm2bp_reference as ref

KERNEL = PSPKernel(ref.TAU_M, ref.TAU_S, ref.T_REF, ref.WINDOW)
NU = 4.0


def apply_rule(layer, pre: torch.Tensor, post: torch.Tensor, grad_count: torch.Tensor, lateral=None):
    """side, dW and dE/do_in of one sample through the implementation; pre/post [T, ...] bool."""
    x, spikes = pre.double()[:, None], post[:, None]
    side = None
    if layer.synaptic_weight is not None:
        drive = time_major_drive(layer, x)
        psp = psp_matrix(spikes, KERNEL, torch.float64)
        side = side_effect(layer, drive, psp, spikes.sum(0).double(), NU, Fallbacks(), tuple(x.shape[2:]))
    gain = None if side is None else (1 + side) * (1 if lateral is None else lateral[None])
    weight_grad, grad_in = layer_gradients(layer, x, spikes, grad_count[None].double(), NU, KERNEL, Fallbacks(), gain, need_input=True)
    return side, weight_grad, grad_in[0]


def trains(shape: tuple[int, ...], rate: float, seed: int, silent: int = 1) -> torch.Tensor:
    """Refractory-respecting random trains [T, N...]; the first ``silent`` neurons never fire."""
    out = ref.refractory_train(shape, rate, torch.Generator().manual_seed(seed))
    out.view(shape[0], -1)[:, :silent] = False
    return out


def test_linear_layer():
    steps, n_in, n_out = 150, 7, 5
    pre, post = trains((steps, n_in), 0.1, 1), trains((steps, n_out), 0.05, 2)
    weight = torch.randn(n_out, n_in, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    grad = torch.randn(n_out, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    lateral = torch.rand(n_out, dtype=torch.float64) + 0.5
    layer = Linear(n_in, n_out, bias=False).double()
    layer.weight.data.copy_(weight)
    side, weight_grad, grad_in = apply_rule(layer, pre, post, grad, lateral)

    ref_w, ref_in, ref_side = ref.connected_layer(post, pre, ref.dense_synapses(weight), grad, NU, lateral)
    torch.testing.assert_close(side[0], torch.tensor(ref_side, dtype=torch.float64))
    expected = torch.tensor([[ref_w[i, j] for j in range(n_in)] for i in range(n_out)], dtype=torch.float64)
    torch.testing.assert_close(weight_grad, expected)
    torch.testing.assert_close(grad_in, torch.tensor(ref_in, dtype=torch.float64))


@pytest.mark.parametrize("padding", [0, 1])
def test_conv_layer(padding):
    steps, c_in, c_out, hw, k = 80, 2, 3, (5, 5), 3
    out_hw = (hw[0] + 2 * padding - k + 1, hw[1] + 2 * padding - k + 1)
    pre, post = trains((steps, c_in, *hw), 0.1, 5), trains((steps, c_out, *out_hw), 0.06, 6)
    layer = TimeConv2d(c_in, c_out, k, padding=padding, bias=False).double()
    nn.init.normal_(layer.weight, generator=torch.Generator().manual_seed(7))
    grad = torch.randn(c_out, *out_hw, dtype=torch.float64, generator=torch.Generator().manual_seed(8))
    side, weight_grad, grad_in = apply_rule(layer, pre, post, grad)

    flat_post, flat_pre = post.reshape(steps, -1), pre.reshape(steps, -1)
    synapses = ref.conv_synapses(layer.weight.detach(), hw, padding)
    ref_w, ref_in, ref_side = ref.connected_layer(flat_post, flat_pre, synapses, grad.flatten(), NU)
    torch.testing.assert_close(side[0].flatten(), torch.tensor(ref_side, dtype=torch.float64))
    expected = torch.zeros_like(weight_grad)
    for index, value in ref_w.items():
        expected[index] = value
    torch.testing.assert_close(weight_grad, expected)
    torch.testing.assert_close(grad_in.flatten(), torch.tensor(ref_in, dtype=torch.float64))


def test_spiking_pool():
    steps, channels, hw, p = 120, 2, (4, 4), 2
    pre, post = trains((steps, channels, *hw), 0.15, 9), trains((steps, channels, 2, 2), 0.08, 10)
    grad = torch.randn(channels, 2, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(11))
    side, weight_grad, grad_in = apply_rule(TimeAvgPool2d(p), pre, post, grad)
    assert side is None and weight_grad is None
    # The official pool passes its error down without dividing it by its threshold (METHODS.md §5).
    _, ref_in, _ = ref.connected_layer(post.reshape(steps, -1), pre.reshape(steps, -1), ref.pool_synapses(channels, hw, p), grad.flatten(), 1.0)
    torch.testing.assert_close(grad_in.flatten(), torch.tensor(ref_in, dtype=torch.float64))


def test_lateral_factor_and_forced_spikes():
    post = trains((200, 2, 4), 0.05, 12, silent=0)
    post[:, 0, 1] = False  # sample 0: the label neuron 1 is silent
    post[:, 1, 3] = False  # sample 1: a silent non-label neuron
    label = torch.tensor([1, 0])
    got = lateral_factor(post, psp_matrix(post, KERNEL), label, NU, 1.0, ref.SILENT_COUNT_RATIO)
    for b in range(2):
        torch.testing.assert_close(got[b].double(), torch.tensor(ref.lateral_factor(post[:, b], int(label[b]), 1.0, NU), dtype=torch.float64))

    forced = force_target_spikes(post, label, desired=35, t_ref=ref.T_REF)
    assert torch.nonzero(forced[:, 0, 1]).flatten().tolist() == list(range(5, 200, 5))  # every 200 // 35 steps
    assert torch.equal(forced[:, 1], post[:, 1])  # the label neuron 0 of sample 1 fired: untouched
    assert torch.equal(forced[:, 0, [0, 2, 3]], post[:, 0, [0, 2, 3]])


def test_count_loss_gradient_is_the_macro_error():
    counts = torch.tensor([[30.0, 11.0, 2.0], [38.0, 9.0, 0.0]], requires_grad=True)
    target = torch.tensor([0, 0])
    count_loss(counts, target, 35.0, 5.0, 5.0, torch.ones(2)).backward()
    # inside the margin (|30-35| = 5, |38-35| = 3, |9-5| = 4, |2-5|, |0-5|): no error; else o - y
    assert counts.grad.tolist() == [[0.0, 6.0, 0.0], [0.0, 0.0, 0.0]]


def test_regulariser_gradient_is_the_paper_term():
    weight = torch.randn(4, 6, requires_grad=True)
    lam, beta, limit = 10.0, 0.04, 8.0
    weight_regulariser(weight, lam, beta, limit).backward()
    mean_sq = (weight.detach() / limit).pow(2).mean(1, keepdim=True)
    expected = lam * beta * (weight.detach() / limit) * torch.exp(beta * (mean_sq - 1))
    torch.testing.assert_close(weight.grad, expected)


def small_net(thresholds=(3.0, 2.0), inhibition: float = 0.0, seed: int = 0) -> SpikingNet:
    torch.manual_seed(seed)
    body = nn.Sequential(
        Flatten(),
        Linear(12, 6, bias=False), CUBA(CUBAParams(ref.TAU_M, ref.TAU_S, ref.T_REF, thresholds[0])),
        Linear(6, 3, bias=False), CUBA(CUBAParams(ref.TAU_M, ref.TAU_S, ref.T_REF, thresholds[1], inhibition)),
    )
    net = SpikingNet(body, "spikes").double()
    with torch.no_grad():
        net.body[1].weight.uniform_(-0.2, 1.0)
        net.body[3].weight.uniform_(-0.2, 1.0)
    return net


def step_grads(net: SpikingNet, method: HM2BP, x: torch.Tensor, y: torch.Tensor) -> list[torch.Tensor]:
    net.zero_grad()
    reset_states(net)
    method.step(net, x, y)
    return [net.body[1].weight.grad.clone(), net.body[3].weight.grad.clone()]


def plain_config(**extra) -> HM2BPConfig:
    return HM2BPConfig(desired=12, undesired=3, margin=1, reg_lambda=0.0, lateral_factor=False, forced_target_spikes=False, **extra)


@pytest.mark.parametrize("psp_delay, delay", [("official", ref.T_REF), ("paper", 0)])
def test_method_step_equals_the_layer_by_layer_reference(psp_delay, delay):
    steps = 120
    x = (torch.rand(steps, 1, 12, generator=torch.Generator().manual_seed(13)) < 0.2).double()
    y = torch.tensor([2])
    net = small_net()
    dw1, dw2 = step_grads(net, HM2BP(plain_config(psp_delay=psp_delay), steps), x, y)

    reset_states(net)
    with torch.no_grad():
        hidden = net.body[2](net.body[1](x)).bool()[:, 0]
        out = net.body[4](net.body[3](hidden[:, None].double())).bool()[:, 0]
    counts = out.sum(0).double()
    wanted = torch.tensor([3.0, 3.0, 12.0])
    grad_out = torch.where((counts - wanted).abs() > 1, counts - wanted, torch.zeros(3, dtype=torch.float64))
    assert hidden.any() and out.any() and grad_out.abs().sum() > 0
    ref_w2, grad_hidden, _ = ref.connected_layer(out, hidden, ref.dense_synapses(net.body[3].weight.detach()), grad_out, 2.0, delay=delay)
    ref_w1, _, _ = ref.connected_layer(hidden, x[:, 0].bool(), ref.dense_synapses(net.body[1].weight.detach()), torch.tensor(grad_hidden), 3.0, delay=delay)
    torch.testing.assert_close(dw2, torch.tensor([[ref_w2[i, j] for j in range(6)] for i in range(3)], dtype=torch.float64))
    torch.testing.assert_close(dw1, torch.tensor([[ref_w1[i, j] for j in range(12)] for i in range(6)], dtype=torch.float64))


def test_batched_gradient_is_the_mean_of_per_sample_gradients():
    """The official batch gradient, sum / batch + regulariser (g_Spiking_gradAdd), is the mean of
    the batch-1 gradients, regulariser included; with every per-sample trick on (lateral factor,
    forced spikes, boosting). So shards weighted by their sizes give the whole batch's gradient,
    which is how data-parallel ranks combine theirs (engine/distributed.py)."""
    steps, batch = 100, 4
    x = (torch.rand(steps, batch, 12, generator=torch.Generator().manual_seed(14)) < 0.2).double()
    y = torch.tensor([0, 1, 2, 1])
    cfg = HM2BPConfig(desired=12, undesired=3, margin=1, boost_misclassified=2.0)
    net = small_net(inhibition=1.0)
    method = HM2BP(cfg, steps)
    batched = step_grads(net, method, x, y)
    singles = [step_grads(net, method, x[:, b : b + 1], y[b : b + 1]) for b in range(batch)]
    shards = [step_grads(net, method, x[:, :3], y[:3]), singles[3]]
    reg = [weight_regulariser_grad(net.body[i].weight.detach(), cfg) for i in (1, 3)]
    for layer in range(2):
        mean = sum(s[layer] for s in singles) / batch
        assert (mean - reg[layer]).abs().sum() > 0 and reg[layer].abs().sum() > 0
        torch.testing.assert_close(batched[layer], mean)
        torch.testing.assert_close(batched[layer], (3 * shards[0][layer] + shards[1][layer]) / batch)


def weight_regulariser_grad(weight: torch.Tensor, cfg: HM2BPConfig) -> torch.Tensor:
    """lam beta (W / W_lim) exp(beta (m_i - 1)), m_i the row mean of (W / W_lim)^2 (METHODS.md §5)."""
    scaled = weight / cfg.weight_limit
    return cfg.reg_lambda * cfg.reg_beta * scaled * torch.exp(cfg.reg_beta * (scaled.pow(2).mean(1, keepdim=True) - 1))


def test_a_layer_that_declares_no_synaptic_map_is_refused_by_name():
    """HM2-BP trains the layers that declare ``SynapticLayer``; a plain ``nn.Linear`` declares nothing."""
    net = small_net()
    net.body[3] = nn.Linear(6, 3, bias=False)
    with pytest.raises(ConfigError, match=r"method=hm2bp cannot train model.body\[3\] \(Linear\)"):
        HM2BP(plain_config(), 40).check(net)
