"""metrics.json's partial_splits (batch limits cut the splits short) and train_mem_growth_bytes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from snntrain.app import train
from snntrain.core.metrics import RunMetrics
from tests.conftest import SMOKE, compose_config

SMALL = ["model.hidden=[16]", "T=2", "trainer.device=cpu"]


def test_a_run_with_batch_limits_is_partial_and_one_on_whole_splits_is_not(tmp_path):
    train(compose_config([*SMOKE, *SMALL]), tmp_path / "smoke")
    smoke = RunMetrics.read(tmp_path / "smoke")
    assert smoke.is_partial()
    used, whole = smoke.partial_splits["train"]
    assert used == 2 and whole > 2
    train(compose_config(["trainer.max_epochs=1", "trainer.progress=false", "logger=none", *SMALL]), tmp_path / "full")
    full = RunMetrics.read(tmp_path / "full")
    assert full.partial_splits == {} and not full.is_partial()
    for metrics in (smoke, full):
        assert isinstance(metrics.train_mem_growth_bytes, int) and 0 <= metrics.train_mem_growth_bytes <= metrics.peak_mem_bytes


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="the resident-set growth is measured through Linux's /proc")
def test_the_growth_is_what_was_allocated_after_training_began_not_what_was_resident_before():
    # A fresh process: memory another test freed would be reused without growing the resident set.
    code = (
        "import torch; from snntrain.engine.training_memory import TrainingMemory\n"
        "before = torch.ones(64 * 2**20); del before\n"  # 256 MiB resident before training, freed
        "memory = TrainingMemory(torch.device('cpu')); during = torch.ones(32 * 2**20)\n"  # 128 MiB during
        "print(memory.growth(), memory.peak())"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    growth, peak = map(int, done.stdout.split())
    assert 120 * 2**20 < growth < 200 * 2**20
    assert growth < peak
