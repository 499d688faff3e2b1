"""Real I/O faults for the tests: the kernel refuses the write, no function is patched to raise.

* ``in_child(fn, file_size_limit=n)``: ``fn`` runs in a forked child whose writes past ``n`` bytes in
  any file fail with EFBIG (RLIMIT_FSIZE, SIGXFSZ ignored), the way a full disk fails a write midway;
  ``limit_file_size(n)`` does the same for a command started with ``subprocess``.
* ``small_tmpfs(folder)``: a real file system of a few hundred KiB mounted on ``folder``, which
  fills up (ENOSPC); skipped where mounting is not allowed.
* ``unwritable(folder)``: a folder no file can be created in: mode 0o555 for an ordinary user; for
  root, whom modes do not stop, a read-only bind mount or the immutable attribute; skipped where
  none of them works.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import signal
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def limit_file_size(nbytes: int) -> Callable[[], None]:
    """A ``preexec_fn`` for ``subprocess``: the command's writes past ``nbytes`` fail with EFBIG."""

    def preexec() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, nbytes))

    return preexec


def in_child(fn: Callable[..., object], *args, file_size_limit: int | None = None, timeout: float = 120) -> tuple[str, str] | None:
    """Run ``fn(*args)`` in a forked child (stdout and stderr to /dev/null), its writes limited to
    ``file_size_limit`` bytes per file if given; the (type name, message) of what it raised, or None
    (("timed out", ...) when it took longer than ``timeout`` seconds, and is killed)."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(send, fn, args, file_size_limit))
    child.start()
    send.close()
    try:
        outcome = receive.recv() if receive.poll(timeout) else ("timed out", f"after {timeout} s", "")
    except EOFError:
        outcome = ("died", f"exit code {child.exitcode}", "")
    child.kill()
    child.join()
    if outcome is None:
        return None
    kind, message, trace = outcome
    print(trace)  # shown when the test fails
    return kind, message


def _child(send, fn, args, file_size_limit) -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    sys.stdout = sys.stderr = open(os.devnull, "w")  # pytest's capture files are regular files the limit applies to
    if file_size_limit is not None:
        limit_file_size(file_size_limit)()
    # libgomp is not fork-safe: once the parent has run a parallel region, a child's first one waits
    # for threads that were not forked. One intra-op thread keeps torch off OpenMP in the child.
    import torch

    torch.set_num_threads(1)
    try:
        fn(*args)
        send.send(None)
    except BaseException as err:
        send.send((type(err).__name__, str(err), traceback.format_exc()))


def _run(command: list[str]) -> bool:
    try:
        return subprocess.run(command, capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@contextmanager
def small_tmpfs(folder: Path, size: str = "256k") -> Iterator[Path]:
    """A tmpfs of ``size`` mounted on the (new) folder ``folder`` while inside."""
    folder.mkdir(parents=True, exist_ok=True)
    if not _run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)]):
        pytest.skip("mounting a tmpfs is not allowed here (it needs root with CAP_SYS_ADMIN); the file-size-limit case covers a full disk")
    try:
        yield folder
    finally:
        _run(["umount", str(folder)]) or _run(["umount", "-l", str(folder)])


def _can_create_in(folder: Path) -> bool:
    probe = folder / ".probe"
    try:
        probe.touch()
    except OSError:
        return False
    probe.unlink()
    return True


@contextmanager
def unwritable(folder: Path) -> Iterator[str]:
    """Make the existing folder ``folder`` one in which no file can be created while inside; yields
    how (the first mechanism that works here)."""
    f = str(folder)
    locks = [
        ("mode 0o555", lambda: folder.chmod(0o555) or True, lambda: folder.chmod(0o755)),
        ("a read-only bind mount", lambda: _run(["sh", "-c", f'mount --bind "{f}" "{f}" && (mount -o remount,bind,ro "{f}" || (umount "{f}"; false))']), lambda: _run(["umount", f])),
        ("the immutable attribute", lambda: _run(["chattr", "+i", f]), lambda: _run(["chattr", "-i", f])),
    ]
    for name, lock, unlock in locks:
        if not lock():
            continue
        if _can_create_in(folder):
            unlock()
            continue
        try:
            yield name
        finally:
            unlock()
        return
    pytest.skip(f"no way to make {folder} unwritable here (mode, read-only bind mount, immutable attribute)")
