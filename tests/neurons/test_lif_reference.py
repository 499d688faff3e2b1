"""The torch reference ``lif_multistep`` against hand-computed sequences, and the surrogate
derivatives against their closed forms."""

from __future__ import annotations

import math

import pytest
import torch

from snntrain.neurons.dynamics.lif import lif_multistep
from snntrain.neurons.lif import LIF, LIFConfig
from snntrain.neurons.surrogate import spike

DRIVE = [0.6, 0.6, 0.6, 1.5, 0.0, 1.0]


def run(drive, soft_reset, decay=0.5, threshold=1.0):
    x = torch.tensor(drive).unsqueeze(1)
    spikes, v = lif_multistep(x, None, decay, threshold, soft_reset, True, "sigmoid", 4.0)
    return spikes.squeeze(1).tolist(), v.item()


def test_soft_reset_subtracts_the_threshold():
    # u: 0.6, 0.9, 1.05 (fires, v=0.05), 1.525 (fires, v=0.525), 0.2625, 1.13125 (fires)
    spikes, v = run(DRIVE, soft_reset=True)
    assert spikes == [0, 0, 1, 1, 0, 1]
    assert v == pytest.approx(0.13125)


def test_hard_reset_sets_the_membrane_to_zero():
    # u: 0.6, 0.9, 1.05 (fires, v=0), 1.5 (fires, v=0), 0, 1.0 (fires: H(0) = 1)
    spikes, v = run(DRIVE, soft_reset=False)
    assert spikes == [0, 0, 1, 1, 0, 1]
    assert v == 0.0


def test_initial_membrane_carries_over():
    x = torch.tensor([[0.5]])
    spikes, v = lif_multistep(x, torch.tensor([1.2]), 0.5, 1.0, True, True, "sigmoid", 4.0)
    assert spikes.item() == 1.0 and v.item() == pytest.approx(0.1)


CLOSED_FORMS = {
    "sigmoid": lambda x, a: a * torch.sigmoid(a * x) * (1 - torch.sigmoid(a * x)),
    "atan": lambda x, a: a / (2 * (1 + (math.pi * a * x / 2) ** 2)),
    "triangle": lambda x, a: torch.clamp(a - a * a * x.abs(), min=0),
}


@pytest.mark.parametrize("surrogate", sorted(CLOSED_FORMS))
@pytest.mark.parametrize("alpha", [2.0, 4.0])
def test_surrogate_derivative_matches_closed_form(surrogate, alpha):
    x = torch.linspace(-2, 2, 401, dtype=torch.float64, requires_grad=True)
    out = spike(x, surrogate, alpha)
    (grad,) = torch.autograd.grad(out.sum(), x)
    assert torch.equal(out, (x >= 0).double())
    torch.testing.assert_close(grad, CLOSED_FORMS[surrogate](x.detach(), alpha))


@pytest.mark.parametrize("surrogate", sorted(CLOSED_FORMS))
def test_surrogate_integrates_to_one(surrogate):
    x = torch.linspace(-200, 200, 400_001, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(spike(x, surrogate, 4.0).sum(), x)
    assert torch.trapezoid(grad, x.detach()).item() == pytest.approx(1.0, abs=2e-3)


@pytest.mark.parametrize("detach_reset", [True, False])
def test_gradient_through_the_reset_by_hand(detach_reset):
    """ds1/dx0 = sg(u1 - th) * decay * (1 - th * sg(u0 - th) unless the reset is detached)."""
    decay, th, a = 0.5, 1.0, 4.0
    x = torch.tensor([[1.2], [0.5]], dtype=torch.float64, requires_grad=True)
    spikes, _ = lif_multistep(x, None, decay, th, True, detach_reset, "sigmoid", a)
    (grad,) = torch.autograd.grad(spikes[1].sum(), x)
    sg = CLOSED_FORMS["sigmoid"]
    u0 = torch.tensor(1.2, dtype=torch.float64)
    u1 = decay * (u0 - th) + 0.5
    expected = sg(u1 - th, a) * decay * (1 if detach_reset else 1 - th * sg(u0 - th, a))
    assert grad[0].item() == pytest.approx(expected.item())
    assert grad[1].item() == pytest.approx(sg(u1 - th, a).item())


def test_state_stays_float32_under_bf16_drive():
    lif = LIF(LIFConfig(backend="torch"))
    x = torch.randn(4, 3, 5).to(torch.bfloat16)
    spikes = lif(x)
    assert spikes.dtype == torch.bfloat16 and lif.v.dtype == torch.float32
    reference, v = lif_multistep(x.float(), None, lif.decay, 1.0, True, True, "sigmoid", 4.0)
    assert torch.equal(spikes.float(), reference) and torch.equal(lif.v, v)
