"""``model=feedback``: one-step (Jacobian-free) against the exact implicit gradient."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from snntrain.data import ENCODERS
from tests.methods.method_helpers import build, digits_batch, gradients

T = 30
IF = ["model=feedback", "neuron.decay=1.0"]  # integrate-and-fire: the rates reach f's fixed point closely


def feedback_gradient(contraction: float, implicit: str):
    """The feedback layer's weight gradients (flattened) and the step's counts."""
    p = build([*IF, f"model.contraction={contraction}", "method=onestep", f"method.implicit={implicit}", f"T={T}"])
    x, y = digits_batch(32, seed=1)
    result, grads = gradients(p, ENCODERS["direct"](x, T), y)
    return torch.cat([grads["body.1.inputs.op.weight"].flatten(), grads["body.1.feedback.op.weight"].flatten()]), result.counts


def test_one_step_agrees_with_exact_implicit_gradient_at_contraction_0_3():
    jfb, _ = feedback_gradient(0.3, "jfb")
    exact, counts = feedback_gradient(0.3, "exact")
    assert F.cosine_similarity(jfb, exact, dim=0) > 0.9
    assert counts["adjoint_residual"] < 1e-6


def test_one_step_error_grows_with_the_contraction_factor():
    errors = []
    for contraction in [0.1, 0.3, 0.6, 0.9]:
        jfb, _ = feedback_gradient(contraction, "jfb")
        exact, _ = feedback_gradient(contraction, "exact")
        errors.append(float((jfb - exact).norm() / exact.norm()))
    assert errors == sorted(errors) and errors[-1] > 2 * errors[0]


def test_forward_residual_is_reported_and_small():
    _, counts = feedback_gradient(0.5, "jfb")
    assert 0 <= counts["fixed_point_residual"] < 0.2


def test_simulated_rates_reach_the_equilibrium_as_t_grows():
    p = build([*IF, "model.contraction=0.5", "method=onestep"])
    block = p.model.body[1].eval()
    x, _ = digits_batch(16)
    residuals = []
    for steps in [5, 20, 80]:
        with torch.no_grad():
            rates = block(ENCODERS["direct"](x.flatten(1), steps))[0]
            image = block.equilibrium_map(rates, block.inputs(x.flatten(1)))
        residuals.append(float((image - rates).norm() / rates.norm()))
    assert residuals == sorted(residuals, reverse=True) and residuals[-1] < 0.05


def test_k_applications_approach_the_exact_gradient():
    """Applying the map k times with the graph sums k terms of the Neumann series of the adjoint
    (taken at the iterates f^j(a*), so the simulated a* must sit close to the fixed point: long T)."""
    steps = 300
    x, y = digits_batch(32, seed=1)
    x = ENCODERS["direct"](x, steps)

    def grad(*overrides):
        p = build([*IF, "model.contraction=0.6", "method=onestep", f"T={steps}", *overrides])
        return gradients(p, x, y)[1]["body.1.inputs.op.weight"]

    exact = grad("method.implicit=exact")
    errors = [float((grad(f"method.k={k}") - exact).norm() / exact.norm()) for k in (1, 3, 10)]
    assert errors == sorted(errors, reverse=True) and errors[-1] < errors[0] / 2


def test_bptt_unrolls_the_feedback_layer_in_time():
    p = build([*IF, "method=bptt", "T=8"])
    x, y = digits_batch(8)
    result, grads = gradients(p, ENCODERS["direct"](x, 8), y)
    assert torch.isfinite(result.loss) and grads["body.1.feedback.op.weight"].abs().sum() > 0
