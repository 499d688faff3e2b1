"""``snntrain.train``/``load``/``evaluate``: the command's config and run dir from Python, a run's model back."""

from __future__ import annotations

import json
import subprocess
import sys
from contextlib import nullcontext
from datetime import datetime

import pytest
import torch
from omegaconf import OmegaConf

import snntrain
from snntrain import api
from snntrain.core.errors import CheckpointError, ConfigError
from snntrain.core.registry import build, typed
from snntrain.data.pipeline import input_pipeline
from snntrain.engine import checkpoint
from snntrain.engine.evaluation import correct_and_seen
from tests.conftest import compose_config

TINY = ["trainer.max_epochs=2", "T=4", "model.hidden=[32]", "trainer.limit_batches=3", "trainer.keep_checkpoints=2",
        "trainer.progress=false", "logger=none"]


def tiny_run(folder):
    """A tiny two-epoch digits run trained through the API in ``folder/run``: (run dir, the metrics it returned)."""
    return folder / "run", snntrain.train(TINY, run_dir=folder / "run")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return tiny_run(tmp_path_factory.mktemp("api"))


def test_train_returns_metrics_json_and_saves_the_config_the_command_composes(trained):
    run_dir, metrics = trained
    assert json.loads((run_dir / "metrics.json").read_text()) == metrics
    assert metrics["epochs"] == 2
    saved = OmegaConf.load(run_dir / ".hydra" / "config.yaml")
    assert OmegaConf.to_container(saved) == OmegaConf.to_container(compose_config(TINY))
    assert OmegaConf.load(run_dir / ".hydra" / "overrides.yaml") == TINY
    assert OmegaConf.load(run_dir / ".hydra" / "hydra.yaml").hydra.runtime.choices.model == "mlp"
    assert "epoch 2:" in (run_dir / "train.log").read_text()


def test_the_loaded_model_scores_the_final_test_accuracy(trained):
    run_dir, metrics = trained
    model, cfg = snntrain.load(run_dir, which="last")
    assert not model.training and cfg.T == 4 and cfg.model.hidden == [32]
    data = build("dataset", cfg.dataset, cfg.seed, cfg.T).load()
    pipeline = input_pipeline(data, typed("dataset", cfg.dataset), cfg.T, cfg.seed, limit_eval_batches=cfg.trainer.limit_eval_batches)
    method = build("method", cfg.method, cfg.T)
    correct, seen = correct_and_seen(model, method, pipeline.evaluation["test"], lambda x: pipeline.inputs(x, torch.device("cpu")), nullcontext)
    assert correct / seen == metrics["test_acc"]


def test_load_takes_best_pt_by_default_or_the_file_named(trained):
    run_dir, _ = trained
    for path, file in [(run_dir, "best.pt"), (run_dir / "checkpoints" / "epoch_0001.pt", "epoch_0001.pt")]:
        model, _ = snntrain.load(path)
        saved = checkpoint.load(run_dir / "checkpoints" / file)["model"]
        assert all(torch.equal(value, saved[key]) for key, value in model.state_dict().items())


def test_evaluate_writes_and_returns_the_record(trained):
    run_dir, metrics = trained
    record = snntrain.evaluate(run_dir, "test", {"T": 4}, which="last")
    assert record["accuracy"] == metrics["test_acc"] and record["samples"] == 359 and record["epoch"] == 2
    assert json.loads((run_dir / "eval_test_T4.json").read_text()) == record


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda run: snntrain.load(run / "nowhere"), "nowhere does not exist"),
        (lambda run: snntrain.load(run / ".hydra"), "holds no checkpoints/best.pt; it is not a run dir"),
        (lambda run: snntrain.load(run.parent / "interrupted", which="last"), "holds no checkpoints/last.pt; it has best.pt: choose which=best or name one of them."),
        (lambda run: snntrain.load(run, which="newest"), "which='newest' is not allowed"),
        (lambda run: snntrain.evaluate(run, "train"), "split='train' is not allowed"),
        (lambda run: snntrain.evaluate(run, overrides=["model.hidden=[64]"]), "model.hidden: [32] in the checkpoint, [64] now"),
        (lambda run: snntrain.train("T=4"), "is one string"),
        (lambda run: snntrain.train(["trainer.nosuch=1"]), "Key 'nosuch' not in 'TrainerConfig'"),
    ],
)
def test_errors_are_one_line(trained, call, words):
    (trained[0].parent / "interrupted" / "checkpoints").mkdir(parents=True, exist_ok=True)
    (trained[0].parent / "interrupted" / "checkpoints" / "best.pt").touch()
    with pytest.raises((ConfigError, CheckpointError)) as info:
        call(trained[0])
    assert words in str(info.value) and "\n" not in str(info.value)


def test_a_checkpoint_without_a_config_beside_no_run_is_refused(trained, tmp_path):
    state = checkpoint.load(trained[0] / "checkpoints" / "last.pt")
    checkpoint.save_atomic({"model": state["model"]}, tmp_path / "weights.pt")
    with pytest.raises(CheckpointError, match="holds no config"):
        snntrain.load(tmp_path / "weights.pt")


def test_dict_overrides_are_hydra_overrides():
    overrides = api.override_list({"T": 4, "model": {"hidden": [32, 16]}, "trainer.init_from": None, "dataset.root": "it's here", "trainer.progress": False})
    assert overrides == ["T=4", "model.hidden=[32,16]", "trainer.init_from=null", "dataset.root='it\\'s here'", "trainer.progress=false"]
    cfg = compose_config(overrides)
    assert cfg.model.hidden == [32, 16] and cfg.dataset.root == "it's here" and cfg.trainer.progress is False


def test_the_run_dir_is_the_commands_unless_given(tmp_path, monkeypatch):
    assert api.composed(["hydra.run.dir=somewhere"]).run_dir.name == "somewhere"
    assert api.composed([]).run_dir is None

    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2026, 1, 2, 3, 4, 5)

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(api, "datetime", Frozen)
    assert str(api.new_run_dir()) == "outputs/2026-01-02/03-04-05"
    (tmp_path / "outputs" / "2026-01-02" / "03-04-05").mkdir(parents=True)
    assert str(api.new_run_dir()) == "outputs/2026-01-02/03-04-05_1"


def test_import_snntrain_stays_light():
    code = "import sys, snntrain; snntrain.train; assert 'torch' not in sys.modules, 'torch imported'"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
