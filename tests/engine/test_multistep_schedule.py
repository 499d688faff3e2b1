"""``scheduler=multistep``: milestones and the per-step warm-up of the official IDE scripts."""

from __future__ import annotations

import pytest
import torch

from snntrain.app import train
from snntrain.core.errors import ConfigError
from snntrain.engine.optim import MultiStepWarmup
from tests.conftest import SMOKE, compose_config
from tests.methods.method_helpers import build


def official_rates(lr: float, schedule: list[int], gamma: float, warmup: int, epochs: int, steps: int) -> list[float]:
    """The rate of every training step as cifar_cifarnetf.py sets it: adjust_learning_rate at each
    epoch's start, then adjust_warmup_lr before each of the first ``warmup`` steps."""
    state, citer, rates = lr, 0, []
    for epoch in range(epochs):
        if epoch in schedule:
            state *= gamma
        current = state
        for _ in range(steps):
            if citer < warmup:
                current = state * (citer + 1.0) / warmup
                citer += 1
            rates.append(current)
    return rates


@pytest.mark.parametrize(("warmup", "steps"), [(0, 3), (5, 3), (7, 2)])
def test_rates_are_the_official_scripts(warmup, steps):
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.05)
    scheduler = MultiStepWarmup(optimizer, [2, 4], 0.1, warmup)
    rates = []
    for _ in range(6):
        for _ in range(steps):
            rates.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            scheduler.step_batch()
        scheduler.step()
    assert rates == pytest.approx(official_rates(0.05, [2, 4], 0.1, warmup, 6, steps), rel=1e-12)


def test_a_resumed_schedule_continues_its_warm_up():
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    scheduler = MultiStepWarmup(optimizer, [10], 0.1, 8)
    for _ in range(3):
        scheduler.step_batch()
    resumed_optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    resumed = MultiStepWarmup(resumed_optimizer, [10], 0.1, 8)
    resumed.load_state_dict(scheduler.state_dict())
    resumed.step_batch()
    assert resumed_optimizer.param_groups[0]["lr"] == pytest.approx(5 / 8)


def test_the_trainer_moves_the_warm_up_every_step(tmp_path):
    cfg = compose_config(["scheduler=multistep", "scheduler.warmup_iters=8", "optimizer.lr=0.4", "model.hidden=[16]", "T=2", *SMOKE])
    metrics = train(cfg, tmp_path)  # two training steps
    assert metrics["history"][0]["lr"] == pytest.approx(0.4 * 3 / 8)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["scheduler.milestones=[60,30]"], r"scheduler.milestones=\[60, 30\] is not allowed: epochs > 0 in increasing order"),
        (["scheduler.warmup_iters=-1"], r"scheduler.warmup_iters=-1 is not allowed: it must be >= 0"),
    ],
)
def test_bad_schedule_is_a_config_error(overrides, message):
    with pytest.raises(ConfigError, match=message):
        build(["scheduler=multistep", *overrides])
