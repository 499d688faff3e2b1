"""Faults during a frame-cache build, for real: signals to a ``snntrain-data`` subprocess and its workers.

The build is held mid-way by a recording that is a FIFO: the worker framing it blocks reading it for
as long as the test keeps the FIFO open, so every fault lands while worker processes are busy.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from snntrain.data.events.nmnist_writer import write_root
from tests.processes import descendants, kill_all, parent, wait_until_gone

SNNTRAIN_DATA = Path(sys.executable).parent / "snntrain-data"
# 70 recordings per split: two chunks of convert.FILES_PER_TASK (64), so two worker processes.
FILES_PER_CLASS = 7


def open_fifo_once_read(fifo: Path, proc: subprocess.Popen, timeout: float = 120) -> int:
    """Wait until a worker opened ``fifo`` to read it; return the write end (the worker blocks reading until it closes)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as err:
            assert err.errno == errno.ENXIO, err  # no reader yet
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no worker ever read the held recording"
        time.sleep(0.05)


@pytest.fixture
def held_build(tmp_path):
    """A running ``snntrain-data dataset=nmnist`` whose train-cache build is held by a FIFO recording:
    ``(process, its descendants (pid -> start time), dataset root)``. Everything is reaped afterwards."""
    assert SNNTRAIN_DATA.exists(), "the snntrain-data console script is not installed: make install (pip install -e .)"
    root = write_root(tmp_path / "nmnist", files_per_class=FILES_PER_CLASS, n_events=50)
    fifo = root / "Train" / "0" / "00000.bin"
    fifo.unlink()
    os.mkfifo(fifo)
    args = [str(SNNTRAIN_DATA), "dataset=nmnist", f"dataset.root={root}", "dataset.workers=2", "dataset.progress=false", "T=4", f"hydra.run.dir={tmp_path / 'run'}"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    tree: dict[int, int] = {}
    writer = None
    try:
        writer = open_fifo_once_read(fifo, proc)
        tree = descendants(proc.pid)
        yield proc, tree, root
    finally:
        proc.kill()
        kill_all(tree)
        if writer is not None:
            os.close(writer)
        proc.communicate()


def ended(proc: subprocess.Popen, tree: dict[int, int]) -> tuple[int, list[str]]:
    """Read the command's output to the end, which requires every process holding its pipes to have
    ended (within a bound), then require every descendant gone; its exit code and stderr lines."""
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the output pipes stayed open 30 s: still running {wait_until_gone(tree, 0)}")
    assert wait_until_gone(tree, timeout=10) == [], "descendants outlived the command"
    return proc.returncode, err.strip().splitlines()


def test_kill_9_of_the_builder_leaves_no_worker_and_closes_its_output(held_build):
    proc, tree, root = held_build
    assert len(tree) >= 4  # forkserver, resource tracker, two workers
    os.kill(proc.pid, signal.SIGKILL)
    code, _ = ended(proc, tree)
    assert code == -signal.SIGKILL
    assert not list(root.glob("cache/*/*.frames"))  # the half-built cache is never in place


@pytest.mark.parametrize(
    "signals, code",
    [([signal.SIGTERM], 143), ([signal.SIGINT, signal.SIGINT], 130)],
    ids=["sigterm", "ctrl-c twice"],
)
def test_a_stop_signal_during_the_build_is_one_line_and_leaves_nothing_behind(held_build, signals, code):
    proc, tree, root = held_build
    for i, signum in enumerate(signals):
        if i:
            time.sleep(0.05)
        os.killpg(proc.pid, signum)  # the whole process group, as a terminal's Ctrl-C
    got, lines = ended(proc, tree)
    assert got == code
    name = signal.Signals(signals[-1]).name
    assert len(lines) == 1 and lines[0].startswith(f"snntrain-data error: stopped by {name}; nothing half-written is kept."), lines
    assert not list(root.glob("cache/*/*.frames"))


def test_a_worker_killed_mid_build_is_one_line_naming_the_workers_key(held_build):
    proc, tree, root = held_build
    workers = [pid for pid in tree if parent(pid) not in (proc.pid, None)]
    assert workers
    os.kill(workers[0], signal.SIGKILL)
    code, lines = ended(proc, tree)
    assert code == 2
    assert len(lines) == 1 and "a frame-cache worker process died" in lines[0] and "dataset.workers" in lines[0], lines
    assert not list(root.glob("cache/*/*.frames")) and not list(root.glob("cache/*/.*.partial"))
