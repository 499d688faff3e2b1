"""How close one-step differentiation is to the gradient it approximates, on real data.

Layered networks: the digits MLP (64-800-10, LIF, soft detached reset, sigmoid surrogate, T=8) at
its seed-0 initialisation; for each membrane time constant τ (λ = 1 − 1/τ), number of
differentiable steps k and input encoder, one batch of 256 digits images gives BPTT's gradient
and one-step's, from the same weights and the same input spikes. Feedback networks
(``model=feedback``, IF neurons, T=30): the Jacobian-free gradient (``implicit=jfb``) against the
exact implicit gradient (``implicit=exact``) at initial contraction ‖W_s‖/θ. Figures: the cosine
of the two gradients over all parameters, the relative error ‖g − g_ref‖ / ‖g_ref‖ and the norm
ratio ‖g‖ / ‖g_ref‖ (one-step's last-k gradient is about k/T of BPTT's: Adam does not mind).
Command: python scripts/bench.py onestep_gradient [--tau 1.1 2 4 16] [--k 1 2 4] [--batch 256]
"""

from __future__ import annotations

import torch
from hydra import compose, initialize_config_module
from hydra.core.global_hydra import GlobalHydra

from snntrain.app import plan
from snntrain.core.registry import register_schemas
from snntrain.core.spiking import reset_states
from snntrain.data import ENCODERS

register_schemas()  # the schemas the configs extend, before anything composes

def add_arguments(parser) -> None:
    parser.add_argument("--tau", nargs="+", type=float, default=[1.1, 2.0, 4.0, 16.0])
    parser.add_argument("--k", nargs="+", type=int, default=[1, 2, 4])
    parser.add_argument("--encoders", nargs="+", default=["direct", "poisson"], choices=["direct", "poisson"])
    parser.add_argument("--contraction", nargs="+", type=float, default=[0.1, 0.3, 0.6, 0.9])
    parser.add_argument("--T", type=int, default=8, help="time steps of the layered network")
    parser.add_argument("--batch", type=int, default=256)


def composed(overrides: list[str]):
    GlobalHydra.instance().clear()
    with initialize_config_module(config_module="snntrain.configs", version_base="1.3"):
        return compose(config_name="train", overrides=overrides)


def gradient(overrides: list[str], x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """All parameters' gradients of one step of the composed method, flattened (seed-0 weights)."""
    p = plan(composed(overrides))
    reset_states(p.model)
    p.model.zero_grad(set_to_none=True)
    p.method.step(p.model, x, y)
    return torch.cat([q.grad.flatten() for q in p.model.parameters() if q.grad is not None])


def compare(approx: torch.Tensor, exact: torch.Tensor) -> dict:
    return {
        "cosine": float(torch.nn.functional.cosine_similarity(approx, exact, dim=0)),
        "relative_error": float((approx - exact).norm() / exact.norm()),
        "norm_ratio": float(approx.norm() / exact.norm()),
    }


def digits_batch(batch: int, T: int, encoder: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``batch`` training images of ``dataset=digits``, encoded once for both methods."""
    data = plan(composed([])).source.load()
    torch.manual_seed(0)
    x = ENCODERS[encoder](data.train.x[:batch], T, 1.0)
    return x.contiguous(), data.train.y[:batch]


def run(args) -> list[dict]:
    rows = []
    for encoder in args.encoders:
        x, y = digits_batch(args.batch, args.T, encoder)
        for tau in args.tau:
            neuron = [f"neuron.tau={tau}", f"T={args.T}", f"dataset.encoder={encoder}"]
            reference = gradient(["method=bptt", *neuron], x, y)
            for k in args.k:
                approx = gradient(["method=onestep", f"method.k={k}", *neuron], x, y)
                rows.append({"suite": "onestep_gradient", "network": "digits MLP 64-800-10", "encoder": encoder,
                             "tau": tau, "k": k, "T": args.T, "against": "bptt", **compare(approx, reference)})
    x, y = digits_batch(args.batch, 30, "direct")
    for contraction in args.contraction:
        feedback = ["model=feedback", "model.spec=64-F64", f"model.contraction={contraction}", "neuron.decay=1.0", "T=30", "method=onestep"]
        exact = gradient([*feedback, "method.implicit=exact"], x, y)
        approx = gradient([*feedback, "method.implicit=jfb"], x, y)
        rows.append({"suite": "onestep_gradient", "network": "digits feedback 64-F64 (IF)", "encoder": "direct",
                     "contraction": contraction, "k": 1, "T": 30, "against": "exact implicit", **compare(approx, exact)})
    return rows
