"""The warning for an epoch on course to take more than an hour on the CPU, from measured steps."""

from __future__ import annotations

import subprocess
import time

import pytest
import torch

from snntrain.engine.epoch_estimate import MEASURED_STEPS, SLOW_EPOCH_S, EpochEstimate
from tests.cli.test_cli import SNNTRAIN

STEP_S = 0.01


def warnings_after_steps(steps: int, device: str) -> list[str]:
    """Messages of an estimate for an epoch of ``steps`` steps, fed 1 + MEASURED_STEPS real steps of STEP_S."""
    said: list[str] = []
    estimate = EpochEstimate(steps, torch.device(device), said.append)
    for _ in range(1 + MEASURED_STEPS):
        time.sleep(STEP_S)
        estimate.step_done()
    return said


def test_an_epoch_of_more_than_an_hour_is_announced_once():
    steps = int(2 * SLOW_EPOCH_S / STEP_S)  # two hours at the sleep's step time, or more
    said = warnings_after_steps(steps, "cpu")
    assert len(said) == 1 and "h on the CPU" in said[0] and f"{steps:,} steps" in said[0]


@pytest.mark.parametrize(("steps", "device"), [(100, "cpu"), (10**9, "cuda")])
def test_a_short_epoch_or_a_gpu_run_says_nothing(steps, device):
    assert warnings_after_steps(steps, device) == []  # 100 steps exceed an hour only at 36 s a step


@pytest.mark.slow
def test_a_run_with_millions_of_steps_warns_in_its_log(tmp_path):
    """The CLI on 8 million one-sample batches: the warning comes from its own first steps."""
    run = ["dataset=synthetic", "dataset.input_shape=[4]", "dataset.train_size=8000000", "dataset.batch_size=1",
           "dataset.val_fraction=0", "model.hidden=[16]", "trainer.progress=false", "logger=none", "hydra.run.dir=run"]
    proc = subprocess.Popen(SNNTRAIN + run, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log, deadline = tmp_path / "run" / "train.log", time.monotonic() + 240
    try:
        while not (log.exists() and "h on the CPU" in log.read_text()):
            assert proc.poll() is None and time.monotonic() < deadline, "no warning before the run ended or timed out"
            time.sleep(0.5)
    finally:
        proc.terminate()
        proc.wait(timeout=120)
