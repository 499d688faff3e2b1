"""One run directory, one run: the lock on the run dir, its contention and its takeover."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys

import pytest

from snntrain.engine.run_lock import LOCK_NAME, RunDirBusy, lock_dir, unlock_dir
from tests.faults import small_tmpfs, unwritable
from tests.processes import wait_for

SNNTRAIN = [sys.executable, "-m", "snntrain", "trainer.progress=false", "logger=none", "T=4", "model.hidden=[32]"]


def test_a_held_dir_refuses_a_second_lock_naming_the_holder_until_it_is_released(tmp_path):
    lock_dir(tmp_path, "hydra.run.dir")
    try:
        # A second open file description of the same lock file contends as another process would.
        with pytest.raises(RunDirBusy, match=rf"hydra.run.dir={tmp_path} is in use by another run \(PID {os.getpid()} on "):
            lock_dir(tmp_path, "hydra.run.dir")
    finally:
        unlock_dir(tmp_path)
    lock_dir(tmp_path, "hydra.run.dir")
    unlock_dir(tmp_path)


def test_a_leftover_lock_file_of_a_dead_run_is_taken_over(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    (tmp_path / LOCK_NAME).write_text(f"PID {dead.stdout.strip()} on elsewhere\n")
    lock_dir(tmp_path, "hydra.run.dir")
    try:
        assert (tmp_path / LOCK_NAME).read_text().startswith(f"PID {os.getpid()} on ")
    finally:
        unlock_dir(tmp_path)


# Resuming in the dir after kill -9 (a real run taking the leftover lock over) is
# tests/cli/test_cli.py::test_kill_9_mid_epoch_then_resume_from_the_last_epoch_checkpoint.
@pytest.mark.slow
def test_a_second_run_in_a_busy_dir_stops_before_writing_and_the_lock_dies_with_its_holder(tmp_path):
    run = tmp_path / "run"
    first = subprocess.Popen([*SNNTRAIN, f"hydra.run.dir={run}", "trainer.max_epochs=100000"], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(run / "checkpoints" / "last.pt", first)
        hydra_files = {p: p.read_bytes() for p in (run / ".hydra").iterdir()}
        second = subprocess.run([*SNNTRAIN, f"hydra.run.dir={run}", "T=2"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert first.poll() is None
    finally:
        first.kill()
        first.wait()
    assert second.returncode == 2
    assert second.stderr.strip().splitlines() == [
        f"snntrain error: hydra.run.dir={run} is in use by another run (PID {first.pid} on {socket.gethostname()}). "
        "Wait for it to end (or stop it), or choose another hydra.run.dir."
    ]
    assert {p: p.read_bytes() for p in (run / ".hydra").iterdir()} == hydra_files  # nothing of the second run written

    # The killed run's lock file is left behind with its PID; the kernel released the lock itself.
    assert (run / LOCK_NAME).read_text().startswith(f"PID {first.pid} ")
    lock_dir(run, "hydra.run.dir")
    unlock_dir(run)



def fill(disk) -> None:
    """Write into ``disk`` until the kernel says it is full (ENOSPC)."""
    with open(disk / "filler", "wb", buffering=0) as f:
        try:
            while True:
                f.write(bytes(4096))
        except OSError:
            pass


@pytest.mark.parametrize("fault", ["unwritable", "full"])
def test_a_run_dir_that_cannot_be_written_is_one_line_before_hydra_writes_in_it(tmp_path, fault):
    place = tmp_path / "place"
    place.mkdir()
    with (unwritable(place) if fault == "unwritable" else small_tmpfs(place, size="1m")):
        if fault == "full":
            fill(place)
        done = subprocess.run([*SNNTRAIN, f"hydra.run.dir={place}/run", "trainer.max_epochs=1"], cwd=tmp_path,
                              capture_output=True, text=True, timeout=300)
        left = sorted(p.name for p in place.rglob("*") if p.name != "filler")
    cause = r"permission denied \(EACCES\)|the file system is read-only \(EROFS\)|\(EPERM\)" if fault == "unwritable" else r"the disk is full \(ENOSPC\)"
    assert done.returncode == 74, done.stderr
    assert re.fullmatch(
        rf"snntrain error: cannot write the run dir {place}/run: ({cause}); .* Nothing was trained; choose another hydra.run.dir or fix that one.\n",
        done.stderr,
    ), done.stderr
    assert ".hydra" not in left and "train.log" not in left and not any(n.endswith(".partial") for n in left), left
