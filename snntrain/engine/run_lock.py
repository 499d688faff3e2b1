"""One run directory, one run: a lock a run holds on its directory for as long as it uses it.

The lock is ``flock`` on ``<dir>/.snntrain.lock``, a file that also holds the holder's PID and host.
The kernel releases it when the holder ends, however it ends (``kill -9`` included), so a lock left by a
dead run is free and the next run takes the file over; nothing needs cleaning up by hand. A second
run in a directory that is in use stops with one line naming the holder, before it writes anything.

Hydra calls ``RunDirLock`` (``hydra.callbacks`` in configs/train.yaml) before it writes a run's
``.hydra/`` and ``train.log``: a run locks ``hydra.run.dir``; a multirun locks ``hydra.sweep.dir``
before its first job and each job its own directory. Under torchrun only rank 0 locks: the ranks
share the directory.
"""

from __future__ import annotations

import fcntl
import os
import socket
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from snntrain import storage
from snntrain.core.errors import SnntrainError, fail
from snntrain.engine.ranks import env_rank

LOCK_NAME = ".snntrain.lock"
HYDRA_FILES_BYTES = 16 * 1024  # Hydra's .hydra/*.yaml: about 5 KB (default run) to 8 KB (the longest row)
_held: dict[Path, int] = {}  # directory -> the open lock file's descriptor (a module's, not a callback's: callbacks are pickled to launchers)


class RunDirBusy(SnntrainError):
    """Another live run holds the directory's lock."""


def lock_dir(folder: Path, key: str) -> None:
    """Make ``folder`` (if needed) and lock it for this process until ``unlock_dir`` or the process ends.

    RunDirBusy names the holder and ``key``, the setting that chooses the directory, when another
    live process holds it; a StorageError names the folder when it cannot be made, or written in
    (room for Hydra's files included).
    """
    folder = folder.absolute()
    after = f"Nothing was trained; choose another {key} or fix that one."
    with storage.guarded(folder, "the run dir", after):
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 200).decode(errors="replace").strip() or "PID unknown: it is starting"
        os.close(fd)
        raise RunDirBusy(
            f"{key}={folder} is in use by another run ({holder}). Wait for it to end (or stop it), "
            f"or choose another {key}."
        ) from None
    _held[folder] = fd
    with storage.guarded(folder, "the run dir", after):
        os.ftruncate(fd, 0)  # a dead holder's PID is replaced by ours
        os.write(fd, f"PID {os.getpid()} on {socket.gethostname()}\n".encode())
        # Hydra writes .hydra/*.yaml next, where a full disk would be its traceback
        storage.probe(folder, HYDRA_FILES_BYTES, "the run dir", after)


def unlock_dir(folder: Path) -> None:
    """Release this process's lock on ``folder`` (the file stays, unlocked)."""
    fd = _held.pop(folder.absolute(), None)
    if fd is not None:
        os.close(fd)


def _resolved(config: DictConfig, key: str) -> Path:
    """The directory ``key`` names. Resolving ``${now:...}`` caches it, so Hydra then uses this very directory."""
    HydraConfig.instance().set_config(config)  # for ${hydra:...} interpolations, as Hydra's run_job does
    return Path(str(OmegaConf.select(config, key))).absolute()


class RunDirLock(Callback):
    """Hydra callback: lock each run's directory before Hydra writes in it (see the module docstring)."""

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        if env_rank()[0] == 0:
            self._lock(_resolved(config, "hydra.run.dir"), "hydra.run.dir")

    def on_run_end(self, config: DictConfig, **kwargs: Any) -> None:
        unlock_dir(_resolved(config, "hydra.run.dir"))

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        self._lock(_resolved(config, "hydra.sweep.dir"), "hydra.sweep.dir")

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        unlock_dir(_resolved(config, "hydra.sweep.dir"))

    def on_job_start(self, config: DictConfig, **kwargs: Any) -> None:
        if config.hydra.mode == RunMode.MULTIRUN:
            self._lock(Path(config.hydra.runtime.output_dir), "hydra.sweep.subdir")

    def on_job_end(self, config: DictConfig, **kwargs: Any) -> None:
        if config.hydra.mode == RunMode.MULTIRUN:
            unlock_dir(Path(config.hydra.runtime.output_dir))

    @staticmethod
    def _lock(folder: Path, key: str) -> None:
        try:
            lock_dir(folder, key)
        except SnntrainError as err:
            fail(err)
