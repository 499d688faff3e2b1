"""Same seed, same config, CPU: identical metrics.json apart from timings, across two runs."""

from __future__ import annotations

import json

from snntrain.app import train
from tests.conftest import SMOKE, compose_config

# What depends on the machine's speed or the process's memory, not on the computation.
TIMING = {"time_per_epoch_s", "epoch_time_s", "train_samples_per_s", "codec_seconds_per_epoch", "codec_seconds", "peak_mem_bytes", "train_mem_growth_bytes"}


def without_timing(value):
    if isinstance(value, dict):
        return {k: without_timing(v) for k, v in value.items() if k not in TIMING}
    if isinstance(value, list):
        return [without_timing(v) for v in value]
    return value


def test_two_runs_with_the_same_seed_write_identical_metrics(tmp_path):
    # Poisson encoding and shuffling both draw random numbers: both must follow from the seed.
    overrides = [*SMOKE, "trainer.max_epochs=2", "trainer.limit_batches=4", "trainer.device=cpu", "dataset.encoder=poisson", "seed=3"]
    runs = []
    for name in ("a", "b"):
        train(compose_config(overrides), tmp_path / name)
        runs.append(json.loads((tmp_path / name / "metrics.json").read_text()))
    assert without_timing(runs[0]) == without_timing(runs[1])
    assert runs[0]["history"][0]["train_loss"] > 0


def test_a_different_seed_changes_the_metrics(tmp_path):
    metrics = [train(compose_config([*SMOKE, "trainer.device=cpu", f"seed={seed}"]), tmp_path / str(seed)) for seed in (0, 1)]
    assert metrics[0]["final_train_loss"] != metrics[1]["final_train_loss"]
