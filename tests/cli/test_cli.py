"""The ``snntrain`` command as a user runs it: a subprocess from a temporary directory."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from snntrain.engine import checkpoint
from tests.processes import wait_for

SNNTRAIN = [sys.executable, "-m", "snntrain"]
QUIET = ["trainer.progress=false", "logger=none"]


def run_cli(args, cwd, timeout=300, **kw):
    return subprocess.run(SNNTRAIN + args, cwd=cwd, capture_output=True, text=True, timeout=timeout, **kw)


@pytest.mark.slow
def test_default_run_reaches_95_percent_from_any_directory(tmp_path):
    result = run_cli(["hydra.run.dir=run"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["test_acc"] >= 0.95, metrics
    assert "snntrain summary" in result.stdout
    for name in ["train.log", ".hydra/config.yaml", "checkpoints/last.pt", "checkpoints/best.pt", "tensorboard"]:
        assert (tmp_path / "run" / name).exists(), name


def test_help_lists_the_groups(tmp_path):
    from snntrain.engine.run import GROUPS
    from tests.cli.test_config import CONFIGS

    out = run_cli(["--help"], cwd=tmp_path).stdout
    for group in [*GROUPS, "experiment"]:
        options = ", ".join(sorted(p.stem for p in (CONFIGS / group).glob("*.yaml")))
        assert f"{group}: {options}" in out, group


def test_cfg_job_prints_the_composed_config(tmp_path):
    out = run_cli(["--cfg", "job", "T=12", "model=cnn"], cwd=tmp_path).stdout
    assert "T: 12" in out and "spec: 16C3-P2-32C3-P2-128" in out


@pytest.mark.parametrize(
    "args, words",
    [
        (["T=0"], "T=0 is not allowed"),
        (["trainer.nosuch=1"], "nosuch"),
        (["dataset=mnist", "dataset.root=nowhere"], "dataset.download=true"),
        (["optimizer.no_decay=[nonsense]"], "optimizer.no_decay=['nonsense'] is not allowed"),
    ],
)
def test_bad_input_is_one_message_not_a_traceback(args, words, tmp_path):
    result = run_cli(args + QUIET, cwd=tmp_path)
    assert result.returncode != 0
    assert words in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_sigint_saves_last_and_exits_130_then_resumes(tmp_path):
    # Epochs take a fraction of a second here, so wait for the persistent last.pt (per-epoch files
    # rotate) and give the run far more epochs than it can finish.
    args = ["hydra.run.dir=run", "trainer.max_epochs=100000", "T=4", "model.hidden=[32]"] + QUIET
    proc = subprocess.Popen(SNNTRAIN + args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(tmp_path / "run" / "checkpoints" / "last.pt", proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "trainer.resume" in err and "Traceback" not in err
    done = checkpoint.load(tmp_path / "run" / "checkpoints" / "last.pt")["epoch"]
    resumed = run_cli(["hydra.run.dir=run", f"trainer.max_epochs={done + 2}", "T=4", "model.hidden=[32]", "trainer.resume=auto"] + QUIET, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    history = json.loads((tmp_path / "run" / "metrics.json").read_text())["history"]
    assert [h["epoch"] for h in history] == list(range(1, done + 3))


# Before training: while torch imports (deferred to the end of the imports), while Hydra composes, while
# the model is built; whatever the phase, one line and exit 130.
@pytest.mark.parametrize("delay", [0.5, 2.0])
def test_ctrl_c_before_training_is_one_line_and_exit_130(delay, tmp_path):
    proc = subprocess.Popen(SNNTRAIN + ["hydra.run.dir=run", *QUIET], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and err.strip().splitlines()[-1].startswith("snntrain error: stopped by SIGINT"), err


@pytest.mark.slow
def test_kill_9_mid_epoch_then_resume_from_the_last_epoch_checkpoint(tmp_path):
    args = ["hydra.run.dir=run", "trainer.max_epochs=100000", "T=4", "model.hidden=[32]"] + QUIET
    proc = subprocess.Popen(SNNTRAIN + args, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(tmp_path / "run" / "checkpoints" / "last.pt", proc)
    time.sleep(0.5)  # let it get into a later epoch
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    newest = checkpoint.latest_readable(tmp_path / "run" / "checkpoints", print)
    assert newest is not None
    done = newest[1]["epoch"]
    resumed = run_cli(["hydra.run.dir=run", f"trainer.max_epochs={done + 2}", "T=4", "model.hidden=[32]", "trainer.resume=auto"] + QUIET, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    history = json.loads((tmp_path / "run" / "metrics.json").read_text())["history"]
    assert [h["epoch"] for h in history] == list(range(1, done + 3))
