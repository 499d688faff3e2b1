"""Rate-BP against numbers computed by the official code (Tab-ct/rate-based-backpropagation@3c70ee9).

``../shared/golden/ratebp_official.npz`` (its README, section 1) holds one official training step,
``CustomEvaluator("rate")`` included, of a small conv-BN-LIF network in float64: spike-pass spikes,
rates, eligibilities and BatchNorm statistics, the loss, the logits, the BatchNorm running
statistics after the step and every parameter gradient (already × 1/T), for a time-constant input
(``const``) and a time-varying one (``vary``). snntrain's own layers and ``RateBP`` with
``method.grad_scale=1/T`` must reproduce them to 1e-12 (the README's float64 tolerance), spikes exactly.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from snntrain.core.capabilities import RECORD
from snntrain.core.spiking import reset_states
from snntrain.layers import Flatten, TimeAvgPool2d, TimeBatchNorm2d, TimeConv2d
from snntrain.methods.ratebp import RateBP, RateBPConfig
from snntrain.models.base import SpikingNet
from snntrain.neurons.lif import LIF, LIFConfig
from tests.golden import golden_arrays, relative_error

TOLERANCE = 1e-12
CASES = ["const", "vary"]
# The README's layer names -> snntrain's module names in the network built below.
PARAMETERS = {"conv1": "body.0", "bn1": "body.1", "conv2": "body.3", "bn2": "body.4", "fc1": "body.8", "fc2": "body.10"}
NEURONS = {"lif1": "body.2", "lif2": "body.5", "lif3": "body.9"}
NORMS = {"bn1": "body.1", "bn2": "body.4"}


@pytest.fixture(scope="module")
def golden() -> dict[str, np.ndarray]:
    return golden_arrays("ratebp_official.npz")


def official_network(z: dict[str, np.ndarray]) -> SpikingNet:
    """The README's network from snntrain's layers, in float64, with the file's initial parameters."""

    def lif() -> LIF:
        return LIF(LIFConfig(
            decay=float(z["lif_lambda"]), threshold=float(z["lif_threshold"]), reset=str(z["lif_reset"]),
            detach_reset=bool(z["lif_detach_reset"]), surrogate=str(z["surrogate"]), alpha=float(z["surrogate_alpha"]),
        ))

    def bn(channels: int) -> TimeBatchNorm2d:
        return TimeBatchNorm2d(channels, eps=float(z["bn_eps"]), momentum=float(z["bn_momentum"]))

    body = nn.Sequential(
        TimeConv2d(2, 4, 3, padding=1, bias=False), bn(4), lif(),
        TimeConv2d(4, 4, 3, padding=1, bias=False), bn(4), lif(),
        TimeAvgPool2d(2), Flatten(), nn.Linear(36, 8), lif(), nn.Linear(8, 5),
    )
    net = SpikingNet(body, "mean").double()
    params = dict(net.named_parameters())
    with torch.no_grad():
        for layer, module in PARAMETERS.items():
            for kind in ("weight", "bias"):
                key = f"param_{layer}_{kind}"
                if key in z:
                    params[f"{module}.{kind}"].copy_(torch.from_numpy(z[key]))
    assert len(params) == sum(key.startswith("param_") for key in z)  # every parameter, no more
    return net


def official_step(z: dict[str, np.ndarray], case: str):
    """One ``RateBP(grad_scale=1/T)`` step on the case's batch; the result, the network, the spike-pass spikes."""
    net = official_network(z)
    T = int(z["T"])
    spikes: dict[str, torch.Tensor] = {}
    modules = dict(net.named_modules())

    def keep_spikes(name: str):
        def hook(module, args, output):
            if module.rate_pass == RECORD:
                spikes[name] = output.detach().clone()

        return hook

    for name, module in NEURONS.items():
        modules[module].register_forward_hook(keep_spikes(name))
    reset_states(net)
    net.train()
    method = RateBP(RateBPConfig(grad_scale="1/T"), T)
    result = method.step(net, torch.from_numpy(z[f"{case}_x"]), torch.from_numpy(z[f"{case}_y"]))
    return result, net, spikes


def test_the_file_is_the_official_rate_step(golden):
    assert "Tab-ct/rate-based-backpropagation@3c70ee9" in str(golden["source"])
    assert float(golden["loss_grad_scale"]) == 1 / int(golden["T"])  # CustomEvaluator("rate"): the gradient × 1/T


@pytest.mark.parametrize("case", CASES)
def test_loss_logits_and_gradients_match_the_official_step(golden, case):
    result, net, _ = official_step(golden, case)
    errors = {"loss": relative_error(result.loss, golden[f"{case}_loss"]), "logits": relative_error(result.scores, golden[f"{case}_logits"])}
    params = dict(net.named_parameters())
    for layer, module in PARAMETERS.items():
        for kind in ("weight", "bias"):
            if f"param_{layer}_{kind}" in golden:
                errors[f"grad {layer}.{kind}"] = relative_error(params[f"{module}.{kind}"].grad, golden[f"{case}_grad_{layer}_{kind}"])
    assert max(errors.values()) <= TOLERANCE, {k: v for k, v in errors.items() if v > TOLERANCE}


@pytest.mark.parametrize("case", CASES)
def test_spike_pass_records_match_the_official_step(golden, case):
    _, net, spikes = official_step(golden, case)
    modules = dict(net.named_modules())
    for name, module in NEURONS.items():
        assert torch.equal(spikes[name].to(torch.uint8), torch.from_numpy(golden[f"{case}_spikes_{name}"])), name
        record = modules[module].rates
        assert relative_error(record.rate, golden[f"{case}_rate_{name}"]) <= TOLERANCE, name
        assert relative_error(record.eligibility, golden[f"{case}_elig_{name}"]) <= TOLERANCE, name


@pytest.mark.parametrize("case", CASES)
def test_batchnorm_statistics_match_the_official_step(golden, case):
    _, net, _ = official_step(golden, case)
    modules = dict(net.named_modules())
    for name, module in NORMS.items():
        bn = modules[module]
        spike_var, spike_mean = bn.spike_stats
        assert relative_error(spike_mean, golden[f"{case}_{name}_spikepass_mean"]) <= TOLERANCE, name
        assert relative_error(spike_var, golden[f"{case}_{name}_spikepass_var"]) <= TOLERANCE, name
        assert relative_error(bn.running_mean, golden[f"{case}_{name}_running_mean"]) <= TOLERANCE, name
        assert relative_error(bn.running_var, golden[f"{case}_{name}_running_var"]) <= TOLERANCE, name
        assert int(bn.num_batches_tracked) == int(golden[f"{case}_{name}_num_batches_tracked"]), name
