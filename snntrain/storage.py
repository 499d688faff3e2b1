"""Writing run files safely: never half a file, never a stray temp file, one clear line on failure.

Every file snntrain leaves on disk (checkpoints, ``metrics.json``, the frame cache, extracted
recordings) is first written under a temp name beside its target, flushed, fsynced and renamed over
it: a reader sees the old file or the new one, never a part. A failed write (full disk, file-size
limit, no permission, read-only file system, a folder deleted under the run) removes its temp file
and raises one StorageError that names the path, the cause and what to do.

Temp names carry this host and process id, ``.<target name>.<host>-<pid>.partial``, so
``remove_stale`` can delete what a killed process left behind without touching a running one's.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from snntrain.core.errors import SnntrainError, StorageError

PARTIAL_NAME = re.compile(r"^\..+\.(?P<host>[^.]*)-(?P<pid>\d+)\.partial$")


def _host() -> str:
    return socket.gethostname().replace(".", "_")


def partial_path(path: Path) -> Path:
    """The temp name under which this process writes ``path`` (a file or a work folder)."""
    return path.with_name(f".{path.name}.{_host()}-{os.getpid()}.partial")


def os_error_in(err: BaseException | None) -> OSError | None:
    """The OSError ``err`` is, or was raised while handling (torch's zip writer turns a failed
    ``write`` into a RuntimeError whose context is the OSError); None when there is none."""
    while err is not None:
        if isinstance(err, OSError):
            return err
        err = err.__cause__ if err.__cause__ is not None else (None if err.__suppress_context__ else err.__context__)
    return None


def describe(err: OSError, path: Path, what: str, folder: Path | None = None) -> str:
    """``cannot write <what> <path>: <cause>; <what to do>`` for the OSError ``err``; the advice
    names ``folder`` (by default the one that holds ``path``)."""
    folder = Path(path).parent if folder is None else folder
    code = err.errno
    if code in (errno.ENOSPC, errno.EDQUOT):
        cause, fix = "the disk is full", f"free space on the disk that holds {folder}"
    elif code == errno.EFBIG:
        cause, fix = "the file-size limit was reached", "raise the limit (ulimit -f unlimited)"
    elif code in (errno.EACCES, errno.EPERM):
        cause, fix = "permission denied", f"make {folder} writable (check its owner, mode and attributes)"
    elif code == errno.EROFS:
        cause, fix = "the file system is read-only", f"remount it read-write or write to another folder than {folder}"
    elif code == errno.ENOENT:
        cause, fix = f"the folder {folder} no longer exists (deleted or unmounted while snntrain ran)", "restore it"
    elif code == errno.ENOTDIR:
        cause, fix = "a part of the path is a file, not a folder", "move that file out of the way"
    elif code == errno.EEXIST:
        cause, fix = "a file of that name is in the way", "move it out of the way"
    elif code == errno.EISDIR:
        cause, fix = "a folder of that name is in the way", "move it out of the way"
    else:
        cause, fix = err.strerror or str(err), f"check the disk that holds {folder}"
    return f"cannot write {what} {path}: {cause} ({errno.errorcode.get(code, code)}); {fix}"


@contextmanager
def guarded(path: Path, what: str, after: str) -> Iterator[None]:
    """Turn an OSError raised inside (or one that caused the exception raised) into a StorageError:
    ``describe``'s line for ``path``, then ``after`` (what the user may rely on, how to go on)."""
    try:
        yield
    except SnntrainError:
        raise
    except Exception as err:
        cause = os_error_in(err)
        if cause is None:
            raise
        raise failure(cause, path, what, after) from None


def failure(err: OSError, path: Path, what: str, after: str) -> StorageError:
    """The StorageError for ``err``: ``describe``'s line, then ``after`` (what the user may rely
    on, how to go on)."""
    return StorageError(f"{describe(err, path, what)}. {after}")


def write_atomic(path: Path, write: Callable[[BinaryIO], None], what: str, after: str) -> None:
    """Write ``path`` through ``write(file)`` so that it holds the old content or the new, never a
    part. Its folder must exist (a vanished one is an error, not silently re-created). On any
    failure the temp file is removed; an OSError becomes a StorageError (see ``guarded``)."""
    path = Path(path)
    tmp = partial_path(path)
    with guarded(path, what, after):
        try:
            _write_synced(tmp, write)
            os.replace(tmp, path)
        except BaseException:
            remove(tmp)
            raise


def probe(folder: Path, nbytes: int, what: str, after: str) -> None:
    """Write ``nbytes`` to a temp file in the existing ``folder``, fsync it and delete it: a
    StorageError (see ``guarded``) when that fails (no permission, a read-only or full disk, a
    file-size limit), before the caller writes anything it would leave half-done."""
    tmp = partial_path(Path(folder) / "write-probe")
    with guarded(Path(folder), what, after):
        try:
            _write_synced(tmp, lambda f: f.write(bytes(nbytes)))
        finally:
            remove(tmp)


def _write_synced(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Create ``path``, fill it through ``write(file)`` and fsync it: on disk when this returns."""
    with open(path, "wb") as f:
        write(f)
        f.flush()
        os.fsync(f.fileno())


def write_text_atomic(path: Path, text: str, what: str, after: str) -> None:
    """``write_atomic`` for a UTF-8 text."""
    write_atomic(path, lambda f: f.write(text.encode()), what, after)


@contextmanager
def partial_folder(path: Path) -> Iterator[Path]:
    """A private, empty work folder beside ``path`` under this process's temp name; removed on exit,
    whatever happens (move what it holds into place before leaving)."""
    work = partial_path(path)
    remove(work)
    work.mkdir()
    try:
        yield work
    finally:
        remove(work)


def remove(path: Path) -> None:
    """Delete the file or folder ``path`` if it is there; a failure to delete is not an error."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass


def remove_stale(folder: Path) -> list[Path]:
    """Delete the temp files and work folders in ``folder`` that a process of this host left when
    it was killed (its pid no longer runs); return them. Names that are not ours, and those of
    running processes or of other hosts, are left alone."""
    removed = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = PARTIAL_NAME.match(entry.name)
        if match is None or match["host"] != _host() or _running(int(match["pid"])):
            continue
        remove(entry)
        removed.append(entry)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True
