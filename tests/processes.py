"""Test helpers for subprocesses: waiting on one, and its process tree read from /proc (Linux), to check
that nothing outlives it."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, start time) of ``pid``; None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # after "pid (comm) "
    return fields[0], int(fields[1]), int(fields[19])


def parent(pid: int) -> int | None:
    """The parent pid of ``pid``; None once it is gone."""
    stat = _stat(pid)
    return None if stat is None else stat[1]


def descendants(root: int) -> dict[int, int]:
    """Every live descendant of ``root`` (children, their children, ...): pid -> start time."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _stat(int(entry))) is not None and stat[0] != "Z":
            parents[int(entry)] = stat
    found, frontier = {}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, (_, ppid, start) in parents.items():
            if ppid == parent and pid not in found:
                found[pid] = start
                frontier.append(pid)
    return found


def alive(processes: dict[int, int]) -> list[int]:
    """The pids of ``processes`` (pid -> start time) that still run: not gone, not a zombie, not reused."""
    live = []
    for pid, start in processes.items():
        stat = _stat(pid)
        if stat is not None and stat[0] != "Z" and stat[2] == start:
            live.append(pid)
    return live


def wait_until_gone(processes: dict[int, int], timeout: float) -> list[int]:
    """Wait up to ``timeout`` s for ``processes`` to end; the pids still running then."""
    deadline = time.monotonic() + timeout
    while (live := alive(processes)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return live


def wait_for(path: Path, proc: subprocess.Popen, timeout: float = 120) -> None:
    """Wait until ``path`` exists, failing if ``proc`` ends first or ``timeout`` s pass."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.1)


def kill_all(processes: dict[int, int]) -> None:
    """SIGKILL whichever of ``processes`` still run (a failed test's clean-up)."""
    for pid in alive(processes):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
