"""The resume policy (engine/resume.py): what may change when a run is resumed and how it applies,
what is refused (naming the key and both values, before any data is read), and fine-tuning from
another run's weights instead."""

from __future__ import annotations

import logging
import math
import re
import shutil

import pytest

from snntrain.app import train
from snntrain.core.errors import CheckpointError
from snntrain.engine import checkpoint
from tests.conftest import compose_config

RUN = ["model.hidden=[32]", "T=4", "trainer.progress=false", "logger=none", "trainer.limit_batches=3", "trainer.limit_eval_batches=1"]
LR = 1e-3  # optimizer=adam's default


def run(overrides, run_dir):
    return train(compose_config(RUN + overrides), run_dir)


@pytest.fixture(scope="module")
def one_epoch(tmp_path_factory):
    """A finished one-epoch run with the default cosine schedule (its last rate: 0)."""
    run_dir = tmp_path_factory.mktemp("one_epoch")
    run(["trainer.max_epochs=1"], run_dir)
    return run_dir


@pytest.fixture
def run_dir(one_epoch, tmp_path):
    return shutil.copytree(one_epoch, tmp_path / "run")


@pytest.mark.parametrize(
    "overrides, key, saved, now",
    [
        (["T=2"], "T", "4", "2"),
        (["seed=1"], "seed", "0", "1"),
        (["model.hidden=[16]"], "model.hidden", "[32]", "[16]"),
        (["method=ratebp"], "method.name", "'bptt'", "'ratebp'"),
        (["neuron.tau=4.0"], "neuron.tau", "None", "4.0"),
        (["compression=bitpack"], "compression.name", "'none'", "'bitpack'"),
        (["optimizer=sgd"], "optimizer.name", "'adam'", "'sgd'"),
        (["scheduler=step"], "scheduler.name", "'cosine'", "'step'"),
        (["trainer.limit_batches=4"], "trainer.limit_batches", "3", "4"),
        (["dataset.batch_size=16"], "dataset.batch_size", "32", "16"),
        # refused before any data is read: this dataset's files do not exist
        (["dataset=mnist", "dataset.root=/nonexistent"], "dataset.name", "'digits'", "'mnist'"),
    ],
)
def test_a_change_of_what_the_run_is_is_refused_naming_the_key_and_both_values(run_dir, overrides, key, saved, now):
    before = sorted((p.name, p.stat().st_mtime_ns) for p in run_dir.rglob("*"))
    with pytest.raises(CheckpointError, match=re.escape(f"{key}: {saved} in the checkpoint, {now} now")) as info:
        run(["trainer.max_epochs=2", "trainer.resume=auto", *overrides], run_dir)
    assert "trainer.init_from=" in str(info.value) and "\n" not in str(info.value)
    assert sorted((p.name, p.stat().st_mtime_ns) for p in run_dir.rglob("*")) == before  # nothing written


def test_a_run_of_another_number_of_processes_is_refused(run_dir):
    path = run_dir / "checkpoints" / "last.pt"
    checkpoint.save_atomic({**checkpoint.load(path), "world_size": 2}, path)
    with pytest.raises(CheckpointError, match=r"written by a run of 2 process\(es\), this one has 1"):
        run(["trainer.max_epochs=2", "trainer.resume=auto"], run_dir)


def test_a_longer_or_faster_run_replans_the_schedule_at_the_current_epoch_and_says_so(run_dir, caplog):
    with caplog.at_level(logging.INFO, logger="snntrain"):
        metrics = run(["trainer.max_epochs=3", "optimizer.lr=0.002", "trainer.resume=auto"], run_dir)
    # cosine over 3 epochs from the new base rate, at epochs 1 and 2 (not the old schedule's 0)
    rates = [h["lr"] for h in metrics["history"]]
    assert rates[0] == LR and rates[1:] == pytest.approx([0.002 * (1 + math.cos(math.pi * e / 3)) / 2 for e in (1, 2)], rel=1e-12)
    assert "trainer.max_epochs 1 -> 3" in caplog.text and "optimizer.lr 0.001 -> 0.002" in caplog.text


def test_optimizer_hyperparameters_take_effect_and_the_moments_are_kept(run_dir):
    saved = checkpoint.load(run_dir / "checkpoints" / "last.pt")["optimizer"]
    run(["trainer.max_epochs=2", "optimizer.weight_decay=0.1", "optimizer.betas=[0.8,0.99]", "trainer.resume=auto"], run_dir)
    resumed = checkpoint.load(run_dir / "checkpoints" / "last.pt")["optimizer"]
    assert resumed["param_groups"][0]["weight_decay"] == 0.1 and resumed["param_groups"][0]["betas"] == (0.8, 0.99)
    assert all(resumed["state"][i]["step"] == saved["state"][i]["step"] + 3 for i in saved["state"])  # 3 more steps


@pytest.mark.parametrize("precision", ["bf16", "16"])
def test_precision_may_change(run_dir, precision):
    metrics = run(["trainer.max_epochs=2", f"trainer.precision={precision}", "trainer.resume=auto"], run_dir)
    assert [h["epoch"] for h in metrics["history"]] == [1, 2]
    back = run(["trainer.max_epochs=3", "trainer.precision=32", "trainer.resume=auto"], run_dir)
    assert [h["epoch"] for h in back["history"]] == [1, 2, 3]


def test_a_weights_only_checkpoint_cannot_be_resumed_but_starts_a_new_run(run_dir, tmp_path):
    weights = tmp_path / "weights.pt"
    checkpoint.save_atomic({"model": checkpoint.load(run_dir / "checkpoints" / "last.pt")["model"]}, weights)
    with pytest.raises(CheckpointError, match=rf"holds no optimizer, .*Start a new run from its weights with trainer.init_from={weights}"):
        run(["trainer.max_epochs=2", f"trainer.resume={weights}"], tmp_path / "new")
    # fine-tuning: the weights of another run under another optimizer and schedule
    metrics = run(["trainer.max_epochs=1", "optimizer=sgd", "scheduler=step", f"trainer.init_from={run_dir / 'checkpoints' / 'last.pt'}"], tmp_path / "new")
    assert metrics["epochs"] == 1
