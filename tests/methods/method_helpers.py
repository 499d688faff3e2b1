"""Helpers shared by the gradient-method tests: build from the real config, run one step."""

from __future__ import annotations

from contextlib import nullcontext

import torch

from snntrain.app import Plan, plan
from snntrain.compress import SavedTensorMeter, saving
from snntrain.core.method import StepResult
from snntrain.core.spiking import reset_states
from snntrain.engine.recompute import recomputing
from tests.conftest import compose_config


def build(overrides: list[str]) -> Plan:
    """Every component of the composed config, built exactly as ``snntrain`` builds it (seed 0)."""
    return plan(compose_config(overrides))


def gradients(p: Plan, x: torch.Tensor, y: torch.Tensor, meter: SavedTensorMeter | None = None) -> tuple[StepResult, dict[str, torch.Tensor]]:
    """One method step from reset state, as the trainer runs it (the plan's codec, counted by ``meter``,
    and its spiking blocks recomputed under ``trainer.recompute``); the result and every parameter's
    gradient by name."""
    reset_states(p.model)
    p.model.zero_grad(set_to_none=True)
    with saving(p.codec, meter or SavedTensorMeter(samples=len(y)), p.model) as tracker:
        with recomputing(p.model, tracker) if p.cfgs["trainer"].recompute else nullcontext():
            result = p.method.step(p.model, x, y)
    return result, {name: q.grad.clone() for name, q in p.model.named_parameters() if q.grad is not None}


def digits_batch(n: int = 32, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A digits-shaped batch [n, 1, 8, 8] in [0, 1] and its labels, without reading any file."""
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 8, 8, generator=g), torch.randint(0, 10, (n,), generator=g)
