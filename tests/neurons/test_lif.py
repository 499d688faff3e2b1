"""LIF dynamics against hand-computed sequences, state carrying and config checks (surrogates: test_lif_reference.py)."""


import pytest
import torch

from snntrain.core.errors import ConfigError
from snntrain.neurons.dynamics.lif import lif_multistep
from snntrain.neurons.lif import LIF, LIFConfig


def run(x, **kw):
    params = dict(v0=None, decay=0.5, threshold=1.0, soft_reset=True, detach_reset=True, surrogate="sigmoid", alpha=4.0)
    params.update(kw)
    return lif_multistep(torch.tensor(x).view(-1, 1), **params)


def test_soft_reset_sequence_by_hand():
    # u1 = 0.6 -> no spike, v=0.6; u2 = 0.3 + 0.9 = 1.2 -> spike, v = 0.2;
    # u3 = 0.1 + 0.9 = 1.0 -> spike (u >= theta), v = 0.0; u4 = 0 + 0.4 -> no spike.
    spikes, v = run([0.6, 0.9, 0.9, 0.4])
    assert spikes.flatten().tolist() == [0.0, 1.0, 1.0, 0.0]
    assert v.item() == pytest.approx(0.4)


def test_hard_reset_sequence_by_hand():
    # u1 = 0.6; u2 = 0.3 + 0.9 = 1.2 -> spike, v = 0; u3 = 0.9 -> no spike; u4 = 0.45 + 0.7 = 1.15 -> spike.
    spikes, v = run([0.6, 0.9, 0.9, 0.7], soft_reset=False)
    assert spikes.flatten().tolist() == [0.0, 1.0, 0.0, 1.0]
    assert v.item() == pytest.approx(0.0)


def test_the_leak_comes_from_tau_or_decay_never_both():
    assert LIFConfig().lam == pytest.approx(0.5)  # tau = 2 when neither is set
    assert LIFConfig(tau=4.0).lam == pytest.approx(0.75)
    assert LIFConfig(decay=0.2).lam == pytest.approx(0.2)
    with pytest.raises(ConfigError, match=r"neuron.tau=4.0 is not allowed: neuron.decay=0.2 sets the leak already"):
        LIFConfig(tau=4.0, decay=0.2)


def test_state_carries_until_reset():
    neuron = LIF(LIFConfig(tau=2.0))
    x = torch.full((3, 2, 4), 0.4)
    whole = neuron(torch.cat([x, x]))
    neuron.reset()
    first, second = neuron(x), neuron(x)
    assert torch.equal(torch.cat([first, second]), whole)
    neuron.reset()
    assert neuron.v is None


def test_detach_reset_changes_only_the_gradient():
    x = torch.randn(6, 3, 5) + 0.8
    outs = []
    for detach in (True, False):
        xi = x.clone().requires_grad_(True)
        s, _ = lif_multistep(xi, None, 0.5, 1.0, True, detach, "sigmoid", 4.0)
        s.sum().backward()
        outs.append((s.detach(), xi.grad))
    assert torch.equal(outs[0][0], outs[1][0])
    assert not torch.allclose(outs[0][1], outs[1][1])


@pytest.mark.parametrize(
    "kw, key",
    [({"tau": 0.5}, "neuron.tau"), ({"reset": "zero"}, "neuron.reset"), ({"surrogate": "relu"}, "neuron.surrogate"), ({"threshold": 0}, "neuron.threshold")],
)
def test_bad_neuron_config_names_the_key(kw, key):
    with pytest.raises(ConfigError, match=key):
        LIFConfig(**kw)
