"""The ``snntrain`` command as a user runs it: a subprocess from a temporary directory."""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from snntrain.engine import checkpoint
from tests.faults import limit_file_size
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
    from snntrain.core.registry import GROUPS
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


def no_temp_files(folder: Path) -> bool:
    return not list(folder.rglob("*.partial"))


def test_a_full_disk_is_one_line_exit_74_and_leaves_no_temp_file(tmp_path):
    """The checkpoint (~40 KB) is past a 20 KB file-size limit: the kernel fails its write (EFBIG)."""
    result = run_cli(["hydra.run.dir=run", "trainer.max_epochs=1", "T=4", "model.hidden=[32]"] + QUIET, cwd=tmp_path, preexec_fn=limit_file_size(20_000))
    assert result.returncode == 74, result.stderr
    assert result.stderr.startswith("snntrain error: cannot write the checkpoint ") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert list((tmp_path / "run" / "checkpoints").iterdir()) == [] and no_temp_files(tmp_path)


def test_unwritable_logs_are_one_warning_each_and_training_goes_on(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "train.log").mkdir()  # a folder where the log file should be
    (tmp_path / "run" / "tensorboard").write_text("a file where the TensorBoard folder should be")
    result = run_cli(["hydra.run.dir=run", "trainer.max_epochs=1", "T=4", "model.hidden=[32]", "trainer.progress=false"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stdout.splitlines() if "WARNING" in line]
    assert len(warnings) == 2, warnings
    assert sorted("TensorBoard" in w for w in warnings) == [False, True], warnings  # one for each
    assert any("cannot write the TensorBoard log" in w for w in warnings) and any("cannot write the run log" in w for w in warnings)
    assert "Traceback" not in result.stderr + result.stdout and "Logging error" not in result.stderr
    assert (tmp_path / "run" / "metrics.json").is_file()


def newer_than(path: Path, mtime: float, proc: subprocess.Popen, timeout: float = 120) -> None:
    """Wait until ``path`` is written after ``mtime`` (a checkpoint saved by ``proc``)."""
    deadline = time.monotonic() + timeout
    while not (path.exists() and path.stat().st_mtime > mtime):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"{path} was never written"
        time.sleep(0.05)


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
def test_kill_9_at_random_moments_then_resume_auto_continues_from_a_whole_checkpoint(tmp_path):
    seed = random.randrange(1 << 30)
    print(f"kill moments drawn with random.Random({seed})")
    draw = random.Random(seed)
    args = ["hydra.run.dir=run", "T=4", "model.hidden=[32]", "trainer.keep_checkpoints=2"] + QUIET
    ckpts = tmp_path / "run" / "checkpoints"
    for attempt in range(3):
        resume = ["trainer.resume=auto"] if attempt else []
        saved = (ckpts / "last.pt").stat().st_mtime if attempt else 0.0
        proc = subprocess.Popen(SNNTRAIN + args + ["trainer.max_epochs=100000", *resume], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        newer_than(ckpts / "last.pt", saved, proc)  # it trained at least one epoch (or part of one)
        time.sleep(draw.uniform(0, 1.0))  # then dies anywhere: mid-batch, evaluating, writing a checkpoint
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        for path in ckpts.glob("*.pt"):
            checkpoint.load(path)  # every checkpoint on disk is whole
    done = checkpoint.latest_readable(ckpts, print)[1]["epoch"]
    resumed = run_cli(args + [f"trainer.max_epochs={done + 1}", "trainer.resume=auto"], cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    history = json.loads((tmp_path / "run" / "metrics.json").read_text())["history"]
    assert [h["epoch"] for h in history] == list(range(1, done + 2))
    assert no_temp_files(tmp_path)  # the killed runs' temp files are swept
