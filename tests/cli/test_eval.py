"""``snntrain-eval``: a checkpoint scored without training, at its T or another, and refused when it does not fit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from snntrain.cli.eval import main
from snntrain.engine import checkpoint
from tests.test_api import tiny_run

EVAL = [sys.executable, "-m", "snntrain.cli.eval"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return tiny_run(tmp_path_factory.mktemp("eval"))


def one_line_error(capsys, argv) -> str:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith("snntrain-eval error: "), err
    return err


def test_it_is_a_console_script():
    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert '\nsnntrain-eval = "snntrain.cli.eval:main"\n' in pyproject


@pytest.mark.slow
def test_the_last_checkpoint_scores_the_final_test_accuracy(trained):
    run_dir, metrics = trained
    done = subprocess.run([*EVAL, str(run_dir), "which=last"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    record = json.loads((run_dir / "eval_test_T4.json").read_text())
    assert record["accuracy"] == metrics["test_acc"] and record["samples"] == 359 and record["T"] == 4
    assert f"test accuracy {metrics['test_acc']:.4f}" in done.stdout and "eval_test_T4.json" in done.stdout


def test_best_pt_scores_the_best_validation_accuracy(trained, capsys):
    run_dir, metrics = trained
    assert main([str(run_dir), "split=val"]) == 0
    assert json.loads((run_dir / "eval_val_T4.json").read_text())["accuracy"] == metrics["best_val_acc"]
    assert "val accuracy" in capsys.readouterr().out


def test_another_T(trained, capsys):
    run_dir, _ = trained
    assert main([str(run_dir / "checkpoints" / "last.pt"), "T=8", "trainer.limit_eval_batches=null"]) == 0
    record = json.loads((run_dir / "eval_test_T8.json").read_text())
    assert record["T"] == 8 and record["samples"] == 359 and 0.0 <= record["accuracy"] <= 1.0
    assert "at T=8" in capsys.readouterr().out


@pytest.mark.slow
def test_a_model_override_the_checkpoint_does_not_hold_is_refused_naming_the_key(trained):
    run_dir, _ = trained
    done = subprocess.run([*EVAL, str(run_dir), "model.hidden=[64]"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"snntrain-eval error: checkpoint {run_dir}/checkpoints/best.pt holds another model: model.hidden: [32] in the "
        "checkpoint, [64] now. Leave the model's keys as the run had them."
    ]


def test_parameters_that_do_not_fit_are_named(trained, tmp_path, capsys):
    state = checkpoint.load(trained[0] / "checkpoints" / "last.pt")
    state["config"]["model"]["hidden"] = [64]  # a config that says another model than the weights
    checkpoint.save_atomic(state, tmp_path / "other.pt")
    err = one_line_error(capsys, [str(tmp_path / "other.pt")])
    assert "does not fit this model (shape mismatches body.1.bias: checkpoint [32] vs model [64]; body.1.weight: checkpoint [32, 64] vs model [64, 64]" in err


@pytest.mark.parametrize(
    "argv, words",
    [
        (["nowhere"], "nowhere does not exist: name a run dir"),
        (["RUN", "model=cnn"], "model=cnn: the run's model is chosen already"),
        (["RUN", "trainer.nosuch=1"], "trainer.nosuch is not a key of the run's config"),
        (["RUN", "split=train"], "split='train' is not allowed"),
    ],
)
def test_bad_input_is_one_line(trained, capsys, argv, words):
    argv = [str(trained[0]) if word == "RUN" else word for word in argv]
    assert words in one_line_error(capsys, argv)
