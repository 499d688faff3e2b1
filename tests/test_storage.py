"""Atomic, guarded writes (snntrain/storage.py) under real faults: a full disk, a file-size limit, an
unwritable or vanished folder, a writer killed with SIGKILL mid-write."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from snntrain import storage
from snntrain.core.errors import StorageError
from tests.faults import in_child, small_tmpfs, unwritable

AFTER = "The old file is kept."
BIG = b"x" * 600_000


def write(path, data=BIG):
    storage.write_atomic(path, lambda f: f.write(data), "the test file", AFTER)


def test_a_file_size_limit_fails_the_write_with_one_line_and_keeps_the_old_file(tmp_path):
    target = tmp_path / "out.bin"
    write(target, b"old")
    assert in_child(write, target, file_size_limit=100_000) == (
        "StorageError",
        f"cannot write the test file {target}: the file-size limit was reached (EFBIG); raise the limit (ulimit -f unlimited). {AFTER}",
    )
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]  # no temp file left


def test_a_full_file_system_fails_the_write_and_leaves_no_temp_file(tmp_path):
    with small_tmpfs(tmp_path / "small") as disk:
        target = disk / "out.bin"
        write(target, b"old")
        with pytest.raises(StorageError, match=rf"cannot write the test file {target}: the disk is full \(ENOSPC\); free space on the disk that holds {disk}\. {AFTER}"):
            write(target)
        assert target.read_bytes() == b"old"
        assert [p.name for p in disk.iterdir()] == ["out.bin"]


def test_an_unwritable_folder_names_the_folder_to_fix(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    with unwritable(folder):
        with pytest.raises(StorageError, match=rf"cannot write the test file {folder / 'out.bin'}: .*(EACCES|EROFS|EPERM).*{folder}"):
            write(folder / "out.bin")
    assert list(folder.iterdir()) == []


def test_a_vanished_folder_is_named_not_re_created(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    folder.rmdir()
    with pytest.raises(StorageError, match=rf"the folder {folder} no longer exists"):
        write(folder / "out.bin")
    assert not folder.exists()


def test_any_other_failure_removes_the_temp_file_and_passes_through(tmp_path):
    def fail(f):
        f.write(b"half")
        raise ValueError("not an I/O error")

    with pytest.raises(ValueError, match="not an I/O error"):
        storage.write_atomic(tmp_path / "out.bin", fail, "the test file", AFTER)
    assert list(tmp_path.iterdir()) == []


def dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def temp_of(path, pid: int, host: str | None = None):
    """The temp name process ``pid`` (of ``host``, by default this one) writes ``path`` under."""
    name = storage.partial_path(path).name.replace(f"-{os.getpid()}.", f"-{pid}.")
    return path.with_name(name if host is None else f".{path.name}.{host}-{pid}.partial")


def test_only_our_temp_names_of_dead_processes_on_this_host_are_swept(tmp_path):
    dead, alive = dead_pid(), os.getppid()
    stale = [temp_of(tmp_path / "last.pt", dead), temp_of(tmp_path / "train.frames", dead)]
    kept = [
        temp_of(tmp_path / "last.pt", alive),  # a running process's write
        temp_of(tmp_path / "last.pt", dead, host="otherhost"),  # another machine sharing the folder
        tmp_path / ".last.pt.abc123.tmp",  # not our pattern
        tmp_path / "last.pt",
    ]
    stale[0].write_bytes(b"half")
    stale[1].mkdir()
    (stale[1] / "flat").write_bytes(b"spill")
    for path in kept:
        path.write_bytes(b"keep")
    assert sorted(storage.remove_stale(tmp_path)) == sorted(stale)
    assert sorted(tmp_path.iterdir()) == sorted(kept)


def test_a_writer_killed_mid_write_leaves_the_old_file_and_a_temp_the_next_sweep_removes(tmp_path):
    target = tmp_path / "big.bin"
    write(target, b"old")
    chunk = b"y" * (1 << 20)

    def chunks(f):
        for _ in range(200):
            f.write(chunk)
            f.flush()

    pid = os.fork()
    if pid == 0:  # the writer; it never returns into pytest
        try:
            storage.write_atomic(target, chunks, "the test file", AFTER)
        finally:
            os._exit(0)
    temp = temp_of(target, pid)
    deadline = time.monotonic() + 30
    while not (temp.exists() and temp.stat().st_size > 0):
        assert time.monotonic() < deadline, "the writer never started"
        time.sleep(0.001)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    assert target.read_bytes() == b"old" and temp.exists()
    assert storage.remove_stale(tmp_path) == [temp]
    assert [p.name for p in tmp_path.iterdir()] == ["big.bin"]
