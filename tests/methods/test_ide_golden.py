"""``model=feedback`` against the official IDE code's numbers (``shared/golden/ide_feedback_official.npz``).

The golden file holds, for three cases, the spike trains, the equilibrium rates a*, f(a*) and the
one-step (JFB) and implicit (Broyden) gradients of L = Σ a*·w computed by the official
``SNNIFFunc`` + ``SNNIDEModule`` (golden README, section 3): an IF layer, W_x with bias, W_s used
as given, no BatchNorm, constant input, float32. The file is read in place, never copied.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from snntrain.core.capabilities import switched
from snntrain.methods.onestep.equilibrium import AtEquilibrium, ExactAdjoint, JacobianFree
from tests.methods.method_helpers import build

GOLDEN = Path(__file__).resolve().parents[2].parent / "shared" / "golden" / "ide_feedback_official.npz"
CASES = ["case0", "case1", "case2"]
TOLERANCE = 1e-6  # the golden README's float32 tolerance for the gradients


@pytest.fixture(scope="module")
def golden():
    if not GOLDEN.is_file():
        pytest.skip(f"golden file {GOLDEN} is absent (it lives in shared/golden beside the checkout, never in it)")
    return np.load(GOLDEN, allow_pickle=False)


def case_arrays(golden, case: str) -> dict[str, np.ndarray]:
    prefix = f"{case}_"
    return {key.removeprefix(prefix): golden[key] for key in golden.files if key.startswith(prefix)}


def official_layer(c: dict[str, np.ndarray]):
    """The snntrain feedback block the golden case describes, with its weights; and its input [T, B, 7]."""
    T, vth = int(c["T"]), float(c["vth"])
    p = build([
        "model=feedback", "model.spec=10-F10", "model.batch_norm=false", "model.spectral_norm=false", "model.contraction=null",
        "dataset=synthetic", "dataset.input_shape=[7]", f"T={T}", "neuron.decay=1.0", f"neuron.threshold={vth}", "method=onestep",
    ])
    block = p.model.body[1]
    with torch.no_grad():
        block.inputs.op.weight.copy_(torch.from_numpy(c["W_x"]))
        block.inputs.op.bias.copy_(torch.from_numpy(c["b_x"]))
        block.feedback.op.weight.copy_(torch.from_numpy(c["W_s"]))
    block.train()
    x = torch.from_numpy(c["x"])
    return block, x.expand(T, *x.shape)


def worst_relative(mine: torch.Tensor, golden: np.ndarray) -> float:
    """max|mine − golden| / max|golden| (the golden README's metric)."""
    reference = torch.from_numpy(golden).to(mine.dtype)
    return float((mine - reference).abs().max() / reference.abs().max())


def gradients(block, x, weight: np.ndarray, how: AtEquilibrium) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    block.zero_grad(set_to_none=True)
    with switched([block], "implicit_gradient", how):
        a_star = block(x)[0]
    (a_star * torch.from_numpy(weight)).sum().backward()
    ops = {"W_x": block.inputs.op.weight, "b_x": block.inputs.op.bias, "W_s": block.feedback.op.weight}
    return a_star.detach(), {name: p.grad for name, p in ops.items()}


@pytest.mark.parametrize("case", CASES)
def test_spike_trains_are_the_official_ones(golden, case):
    c = case_arrays(golden, case)
    block, x = official_layer(c)
    (trains,) = block.spike_trains(x)
    assert torch.equal(trains.to(torch.uint8), torch.from_numpy(c["spikes"]))


@pytest.mark.parametrize("case", CASES)
def test_forward_value_is_the_simulated_equilibrium_and_f_of_it_the_official_f(golden, case):
    c = case_arrays(golden, case)
    block, x = official_layer(c)
    a_star, _ = gradients(block, x, c["loss_weight"], JacobianFree(1))
    assert torch.equal(a_star, torch.from_numpy(c["a_star"]))
    with torch.no_grad():
        image = block.equilibrium_map(a_star, block.inputs(x[0]))
    assert worst_relative(image, c["f_a_star"]) <= TOLERANCE
    loss = (a_star * torch.from_numpy(c["loss_weight"])).sum()
    assert abs(float(loss) - float(c["loss_value"])) <= TOLERANCE * abs(float(c["loss_value"]))


@pytest.mark.parametrize("case", CASES)
def test_one_step_gradient_is_the_officials(golden, case):
    c = case_arrays(golden, case)
    block, x = official_layer(c)
    _, grads = gradients(block, x, c["loss_weight"], JacobianFree(1))
    for name, grad in grads.items():
        assert worst_relative(grad, c[f"grad_jfb_{name}"]) <= TOLERANCE, name


@pytest.mark.parametrize("solver", ["fixed_point", "broyden"])
@pytest.mark.parametrize("case", CASES)
def test_exact_gradient_is_the_officials_implicit_gradient(golden, case, solver):
    c = case_arrays(golden, case)
    block, x = official_layer(c)
    iterations = 500 if solver == "fixed_point" else int(golden["broyden_max_iters"])
    how = ExactAdjoint(solver, iterations, 1e-9)
    _, grads = gradients(block, x, c["loss_weight"], how)
    assert how.counts["adjoint_residual"] < 1e-6
    for name, grad in grads.items():
        assert worst_relative(grad, c[f"grad_implicit_{name}"]) <= TOLERANCE, name
        assert worst_relative(grad, c[f"grad_jfb_{name}"]) > 0.1, name  # the two gradients differ: not a vacuous check
