"""HM2-BP against numbers computed from the official code (../shared/golden, README section 2).

``hm2bp_fc_official.npz`` (40 -> 20 -> 5, three cases) and ``hm2bp_conv_official.npz`` (3C3 ->
spiking 2x2 pool -> 4) hold one batch-1 training step of the official kernels (jinyyy666/mm-bp-snn
@ bd31fe2, transcribed to float64), with every backward quantity twice: ``shift2_*`` with the
official presynaptic delay (``method.psp_delay=official``) and ``shift0_*`` with the paper's S-PSP
(``method.psp_delay=paper``). The files are read in place and never copied into the repository.

Conventions. The golden files and snntrain agree step for step, so no index is mapped: the input
of step t reaches the neuron at t + 1 (snntrain's CUBA keeps it as ``pending``), no neuron fires at
step 0, counts sum over t = 0..T-1, and the golden inputs have x[0] = 0 (the official data layer
starts at step 1; a presynaptic spike at step 0 would count in snntrain's S-PSP and not in the
official one). The official pool sums its 2x2 window into a neuron of threshold 2; snntrain's
average pool (weights 1/4) with threshold 2/4 is the same neuron. The official firing test is
V > nu - 1e-6 (conv: V > nu), snntrain's V > nu: the stored margins (>= 1.5e-4) make the
difference immaterial here.

Each quantity is checked given the official values of what it depends on (spike trains, the
error from the layer above), so a failure names the quantity that is wrong; the weight gradients
come from ``HM2BP.step`` end to end. The backward runs in float64 (weights and inputs are float64;
the CUBA neuron simulates in float32, which the margins allow), so the README's 1e-12 applies to
``max|mine - golden| / max|golden|`` per array; spike trains must match exactly.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from snntrain.core.spiking import reset_states
from snntrain.layers import Flatten, Linear, TimeAvgPool2d, TimeConv2d
from snntrain.methods.hm2bp.method import HM2BP, HM2BPConfig
from snntrain.methods.hm2bp.output import force_target_spikes, lateral_factor
from snntrain.methods.hm2bp.psp import psp_matrix
from snntrain.methods.hm2bp.rules import Fallbacks, layer_gradients, side_effect, time_major_drive
from snntrain.models import SpikingNet
from snntrain.neurons.cuba import CUBA, CUBAParams
from tests.golden import golden_arrays as golden

TOLERANCE = 1e-12
SHIFTS = {"shift2": "official", "shift0": "paper"}  # golden prefix -> method.psp_delay


@pytest.fixture(scope="module")
def fc() -> dict[str, np.ndarray]:
    return golden("hm2bp_fc_official.npz")


@pytest.fixture(scope="module")
def conv() -> dict[str, np.ndarray]:
    return golden("hm2bp_conv_official.npz")


def tensor(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.asarray(array, dtype=np.float64))


def assert_agrees(mine: torch.Tensor, official: np.ndarray, what: str) -> None:
    """The README's metric: max|mine - golden| / max|golden| <= TOLERANCE."""
    official = np.asarray(official, dtype=np.float64)
    mine = mine.detach().double().numpy().reshape(official.shape)
    assert np.abs(official).max() > 0, f"{what}: the golden array is all zero"
    error = np.abs(mine - official).max() / np.abs(official).max()
    assert error <= TOLERANCE, f"{what}: relative error {error:.3g} > {TOLERANCE}"


def fallbacks(z: dict) -> Fallbacks:
    return Fallbacks(float(z["silent_effect"]), float(z["silent_side_ratio"]), float(z["silent_count_ratio"]))


def config(z: dict, psp_delay: str, regulariser: bool) -> HM2BPConfig:
    """``method=hm2bp`` with the golden file's constants (lateral factor and forced spikes on, boosting off)."""
    return HM2BPConfig(
        desired=float(z["desired"]), undesired=float(z["undesired"]), margin=float(z["margin"]),
        psp_window=float(z["psp_window"] / z["tau_m"]), psp_delay=psp_delay, lateral_factor=True,
        reg_lambda=float(z["reg_lambda"]) if regulariser else 0.0, reg_beta=float(z["reg_beta"]),
        weight_limit=float(z["weight_limit"]), forced_target_spikes=True, boost_misclassified=float(z["sample_weight"]),
        silent_effect=float(z["silent_effect"]), silent_side_ratio=float(z["silent_side_ratio"]),
        silent_count_ratio=float(z["silent_count_ratio"]),
    )


def neuron(z: dict, threshold: float, inhibition: float = 0.0) -> CUBA:
    return CUBA(CUBAParams(float(z["tau_m"]), float(z["tau_s"]), int(z["t_ref"]), float(threshold), inhibition))


def fc_net(z: dict, case: str) -> SpikingNet:
    """40 -> 20 -> 5 with the case's weights and thresholds; lateral inhibition at the output."""
    w1, w2 = tensor(z[f"{case}_W1"]), tensor(z[f"{case}_W2"])
    body = nn.Sequential(
        Linear(w1.shape[1], w1.shape[0], bias=False), neuron(z, z[f"{case}_vth_hidden"]),
        Linear(w2.shape[1], w2.shape[0], bias=False), neuron(z, z[f"{case}_vth_output"], float(z["lateral_inhibition"])),
    )
    net = SpikingNet(body, "spikes").double()
    with torch.no_grad():
        body[0].weight.copy_(w1)
        body[2].weight.copy_(w2)
    return net


def conv_net(z: dict) -> SpikingNet:
    """3C3 (valid) -> spiking 2x2 average pool (threshold vth_pool / 4) -> 4 outputs with lateral inhibition."""
    w_conv, w_out = tensor(z["W_conv"]), tensor(z["W_out"])
    p = int(z["pool_size"])
    body = nn.Sequential(
        TimeConv2d(w_conv.shape[1], w_conv.shape[0], w_conv.shape[2], padding=int(z["conv_padding"]), bias=False),
        neuron(z, z["vth_conv"]),
        TimeAvgPool2d(p), neuron(z, z["vth_pool"] / p**2),
        Flatten(), Linear(w_out.shape[1], w_out.shape[0], bias=False), neuron(z, z["vth_output"], float(z["lateral_inhibition"])),
    )
    net = SpikingNet(body, "spikes").double()
    with torch.no_grad():
        body[0].weight.copy_(w_conv)
        body[5].weight.copy_(w_out)
    return net


def batch_of_one(x: np.ndarray) -> torch.Tensor:
    """[T, ...] uint8 trains -> float64 [T, 1, ...]."""
    return tensor(x)[:, None]


def simulate(method: HM2BP, net: SpikingNet, x: torch.Tensor) -> list[torch.Tensor]:
    """Each stage's output trains [T, ...] (bool, batch dim dropped), by the stages' own layers and neurons."""
    reset_states(net)
    trains, out = [], x
    with torch.no_grad():
        for stage in method.stages(net):
            out = out.flatten(2) if stage.flatten else out
            out = stage.neuron(time_major_drive(stage.synapse, out))
            trains.append(out.bool()[:, 0])
    return trains


def weight_grads(z: dict, net: SpikingNet, psp_delay: str, regulariser: bool, x: torch.Tensor, y: int) -> list[torch.Tensor]:
    """The gradients ``HM2BP.step`` leaves in the weights, in layer order."""
    method = HM2BP(config(z, psp_delay, regulariser), x.shape[0])
    net.zero_grad()
    reset_states(net)
    method.step(net, x, torch.tensor([y]))
    return [p.grad.clone() for p in net.parameters()]


def effect(psp: torch.Tensor, pre: torch.Tensor) -> torch.Tensor:
    """e(i|j) = sum_t P[t, i] s_j[t] for P [T, N_out] and trains [T, N_in] -> [N_out, N_in]."""
    return psp.T @ pre.double()


def check_spike_trains(trains: list[torch.Tensor], official: list[np.ndarray]) -> None:
    for index, (mine, theirs) in enumerate(zip(trains, official)):
        assert np.array_equal(mine.numpy().astype(np.uint8), theirs), f"spike trains of layer {index} differ"


def output_layer_terms(z: dict, stage, hidden: torch.Tensor, original: torch.Tensor, y: int):
    """Forced trains, S-PSP kernel, e, side and lateral factor of the output layer, given official trains."""
    forced = force_target_spikes(original[:, None], torch.tensor([y]), float(z["desired"]), int(z["t_ref"]))[:, 0]
    kernel, nu = stage.kernel, stage.neuron.threshold
    psp = psp_matrix(forced, kernel, torch.float64)
    drive = time_major_drive(stage.synapse, hidden.double()[:, None])
    side = side_effect(stage.synapse, drive, psp[:, None], forced.sum(0).double()[None], nu, fallbacks(z), tuple(hidden.shape[1:]))[0]
    lateral = lateral_factor(original[:, None], psp_matrix(original, kernel, torch.float64)[:, None], torch.tensor([y]), nu, stage.neuron.params.inhibition, float(z["silent_count_ratio"]))[0]
    return forced, psp, side, lateral


def error_below(z: dict, stage, pre: torch.Tensor, post: torch.Tensor, grad_count: torch.Tensor, gain) -> torch.Tensor:
    """D of the layer below (dE/do of ``pre``, not yet divided by its threshold), batch of one."""
    _, below = layer_gradients(
        stage.synapse, pre.double()[:, None], post[:, None], grad_count[None], stage.neuron.threshold, stage.kernel, fallbacks(z),
        None if gain is None else gain[None], need_input=True,
    )
    return below[0]


@pytest.mark.parametrize("shift", list(SHIFTS))
@pytest.mark.parametrize("case", ["case0", "case1", "case2"])
def test_fully_connected_case_matches_the_official_code(fc, case, shift):
    z, psp_delay = fc, SHIFTS[shift]
    g = lambda key: z[f"{case}_{key}"]  # noqa: E731
    y, x = int(g("y")), batch_of_one(g("x"))
    net = fc_net(z, case)
    method = HM2BP(config(z, psp_delay, True), x.shape[0])
    hidden_stage, output_stage = method.stages(net)

    check_spike_trains(simulate(method, net, x), [g("spikes_hidden"), g("spikes_output")])
    hidden, original = torch.from_numpy(g("spikes_hidden")).bool(), torch.from_numpy(g("spikes_output")).bool()

    forced, psp_out, side_out, lateral = output_layer_terms(z, output_stage, hidden, original, y)
    assert np.array_equal(forced.numpy().astype(np.uint8), g("spikes_output_forced"))
    firing = forced.any(0)
    assert_agrees(effect(psp_out, hidden)[firing], g(f"{shift}_e_output")[firing.numpy()], "e_output")
    assert_agrees(side_out, g(f"{shift}_side_output"), "side_output")
    assert_agrees(lateral, g(f"{shift}_lateral_factor"), "lateral_factor")
    d_hidden = error_below(z, output_stage, hidden, forced, tensor(g("delta_output")), (1 + side_out) * lateral)
    assert_agrees(d_hidden, g(f"{shift}_delta_hidden"), "delta_hidden")

    psp_hidden = psp_matrix(hidden, hidden_stage.kernel, torch.float64)
    firing = hidden.any(0)
    assert_agrees(effect(psp_hidden, x[:, 0])[firing], g(f"{shift}_e_hidden")[firing.numpy()], "e_hidden")
    side_hidden = side_effect(hidden_stage.synapse, time_major_drive(hidden_stage.synapse, x), psp_hidden[:, None], hidden.sum(0).double()[None], hidden_stage.neuron.threshold, fallbacks(z), (x.shape[-1],))[0]
    assert_agrees(side_hidden, g(f"{shift}_side_hidden"), "side_hidden")

    for regulariser, key in ((False, "grad_data"), (True, "grad")):
        dw1, dw2 = weight_grads(z, net, psp_delay, regulariser, x, y)
        assert_agrees(dw2, g(f"{shift}_{key}_W2"), f"{key}_W2")
        assert_agrees(dw1, g(f"{shift}_{key}_W1"), f"{key}_W1")


@pytest.mark.parametrize("shift", list(SHIFTS))
def test_conv_and_spiking_pool_case_matches_the_official_code(conv, shift):
    z, psp_delay = conv, SHIFTS[shift]
    y, x = int(z["y"]), batch_of_one(z["x"])
    net = conv_net(z)
    method = HM2BP(config(z, psp_delay, True), x.shape[0])
    conv_stage, pool_stage, output_stage = method.stages(net)

    check_spike_trains(simulate(method, net, x), [z["spikes_conv"], z["spikes_pool"], z["spikes_output"].reshape(x.shape[0], -1)])
    conv_trains, pool_trains = (torch.from_numpy(z[k]).bool() for k in ("spikes_conv", "spikes_pool"))
    pooled, original = pool_trains.flatten(1), torch.from_numpy(z["spikes_output"]).bool()

    forced, psp_out, side_out, lateral = output_layer_terms(z, output_stage, pooled, original, y)
    assert np.array_equal(forced.numpy().astype(np.uint8), z["spikes_output_forced"])
    firing = forced.any(0)
    assert_agrees(effect(psp_out, pooled)[firing], z[f"{shift}_e_output"][firing.numpy()], "e_output")
    assert_agrees(side_out, z[f"{shift}_side_output"], "side_output")
    assert_agrees(lateral, z[f"{shift}_lateral_factor"], "lateral_factor")
    d_pool = error_below(z, output_stage, pooled, forced, tensor(z["delta_output"]), (1 + side_out) * lateral)
    assert_agrees(d_pool, z[f"{shift}_delta_pool"], "delta_pool")

    # e(pool (c,u,v) | conv (c, 2u+a, 2v+b)) at [c,u,v,a,b]
    psp_pool = psp_matrix(pool_trains, pool_stage.kernel, torch.float64)
    steps, channels, rows, cols = pool_trains.shape
    windows = conv_trains.double().reshape(steps, channels, rows, 2, cols, 2)
    e_pool = torch.einsum("tcuv,tcuavb->cuvab", psp_pool, windows)
    firing = pool_trains.any(0)
    assert_agrees(e_pool[firing], z[f"{shift}_e_pool"][firing.numpy()], "e_pool")
    # the official pool does not divide its error by its threshold (a regression to / 0.5 doubles it)
    d_conv = error_below(z, pool_stage, conv_trains, pool_trains, tensor(z[f"{shift}_delta_pool"]), None)
    assert_agrees(d_conv, z[f"{shift}_delta_conv"], "delta_conv")

    # e(conv (co,u,v) | input (ci,u+i,v+j)) at [co,u,v,ci,i,j]
    psp_conv = psp_matrix(conv_trains, conv_stage.kernel, torch.float64)
    kernel_size = z["W_conv"].shape[-1]
    patches = x[:, 0].unfold(2, kernel_size, 1).unfold(3, kernel_size, 1)  # [t, ci, u, v, i, j]
    e_conv = torch.einsum("tcuv,tkuvij->cuvkij", psp_conv, patches)
    firing = conv_trains.any(0)
    assert_agrees(e_conv[firing], z[f"{shift}_e_conv"][firing.numpy()], "e_conv")
    drive = time_major_drive(conv_stage.synapse, x)
    side_conv = side_effect(conv_stage.synapse, drive, psp_conv[:, None], conv_trains.sum(0).double()[None], conv_stage.neuron.threshold, fallbacks(z), tuple(x.shape[2:]))[0]
    assert_agrees(side_conv, z[f"{shift}_side_conv"], "side_conv")

    for regulariser, key in ((False, "grad_data"), (True, "grad")):
        dw_conv, dw_out = weight_grads(z, net, psp_delay, regulariser, x, y)
        assert_agrees(dw_out, z[f"{shift}_{key}_W_out"], f"{key}_W_out")
        assert_agrees(dw_conv, z[f"{shift}_{key}_W_conv"], f"{key}_W_conv")
