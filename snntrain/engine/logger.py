"""Where metrics go: the rich console, TensorBoard scalars (and images) and ``train.log``.

Log lines reach the terminal through ``CONSOLE``, the console the progress bars draw on
(``ConsoleHandler``), so that a line printed during training lands above the live bar;
``train.log`` is plain text.

The two logs are not what a run must leave (its checkpoints and ``metrics.json`` are): a failed
write to either (full disk, no permission, a vanished folder) gives one warning naming the file and
the cause, that log stops, and training goes on.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

from snntrain.core.checks import require
from snntrain.storage import describe, os_error_in

log = logging.getLogger("snntrain")

CONSOLE = Console()
"""The run's console: log lines, progress bars and the summary table, on stdout."""


@dataclass
class TensorBoardConfig:
    """``logger=tensorboard``: scalars under ``<run dir>/tensorboard``."""

    name: str = "tensorboard"
    subdir: str = "tensorboard"

    def __post_init__(self) -> None:
        path = PurePath(self.subdir)
        require(
            self.subdir.strip() != "" and not path.is_absolute() and ".." not in path.parts, "logger.subdir", self.subdir,
            "a folder inside the run dir, e.g. tensorboard (not empty, not absolute, no ..)",
        )


@dataclass
class NoLoggerConfig:
    """``logger=none``: console and train.log only."""

    name: str = "none"


class RunLogger:
    """Writes scalars to TensorBoard (when enabled) and messages to the console and train.log."""

    def __init__(self, writer=None, console: Console | None = None, enabled: bool = True) -> None:
        self.writer, self.enabled = writer, enabled
        self.console = console or CONSOLE

    def scalars(self, values: dict[str, float], step: int) -> None:
        def write(writer) -> None:
            for key, value in values.items():
                if value is not None:
                    writer.add_scalar(key, value, step)

        self._to_tensorboard(write)

    def images(self, tag: str, image, step: int = 0) -> None:
        """An RGB image ``[3, H, W]`` in [0, 1] to TensorBoard (when enabled)."""
        self._to_tensorboard(lambda writer: writer.add_image(tag, image, step))

    def _to_tensorboard(self, write: Callable[[Any], None]) -> None:
        """``write(writer)``; a failed write warns once and ends TensorBoard logging (module docstring)."""
        if self.writer is None or not self.enabled:
            return
        try:
            write(self.writer)
        except Exception as err:
            cause = os_error_in(err)
            if cause is None:
                raise
            writer, self.writer = self.writer, None
            with contextlib.suppress(Exception):  # its queued events fail the same way
                writer.close()
            warn_tensorboard_failed(cause, Path(writer.log_dir))

    def info(self, message: str) -> None:
        log.info(message)

    def warning(self, message: str) -> None:
        log.warning(message)

    def summary(self, title: str, rows: dict[str, object]) -> None:
        if not self.enabled:
            return
        table = Table(title=title, show_header=True, header_style="bold")
        table.add_column("metric")
        table.add_column("value", justify="right")
        for key, value in rows.items():
            table.add_row(key, f"{value:.4g}" if isinstance(value, float) else str(value))
        self.console.print(table)

    def close(self) -> None:
        self._to_tensorboard(lambda writer: writer.close())


def warn_tensorboard_failed(cause: OSError, folder: Path) -> None:
    log.warning(f"{describe(cause, folder, 'the TensorBoard log', folder)}. Training goes on without TensorBoard; the checkpoints and metrics.json are still written.")


class ConsoleHandler(logging.Handler):
    """The console half of the job logging (configs/hydra/job_logging/snntrain.yaml): every line goes
    through ``CONSOLE``, so it prints above a live progress bar. On a terminal, rich's columns (time,
    level, message); elsewhere (a pipe, a file, CI) the line as its formatter writes it, never wrapped."""

    def __init__(self, level: int | str = logging.NOTSET) -> None:
        super().__init__(level)
        self.rich = RichHandler(console=CONSOLE, show_path=False, log_time_format="[%X]")

    def emit(self, record: logging.LogRecord) -> None:
        if CONSOLE.is_terminal:
            self.rich.handle(record)
            return
        try:
            CONSOLE.print(self.format(record), markup=False, highlight=False, emoji=False, soft_wrap=True)
        except Exception:
            self.handleError(record)


class RunLogFile(logging.FileHandler):
    """``train.log`` (configs/hydra/job_logging/snntrain.yaml): opened at the first record; a failed
    write warns once, closes the file and drops later records (module docstring)."""

    def __init__(self, filename: str, mode: str = "a", encoding: str | None = None, delay: bool = True) -> None:
        super().__init__(filename, mode, encoding, delay)
        self.failed = False

    def emit(self, record: logging.LogRecord) -> None:
        if self.failed:
            return
        try:
            super().emit(record)  # opening the file (at the first record) is not guarded by logging itself
        except Exception:
            self.handleError(record)

    def handleError(self, record: logging.LogRecord) -> None:
        cause = os_error_in(sys.exc_info()[1])
        if cause is None:
            super().handleError(record)
            return
        self.failed = True
        with contextlib.suppress(OSError):  # flushing what is buffered fails the same way
            self.close()
        log.warning(f"{describe(cause, Path(self.baseFilename), 'the run log')}. Training goes on; the log stops here, the checkpoints and metrics.json are still written.")


def build_tensorboard(cfg: TensorBoardConfig, run_dir: Path, enabled: bool) -> RunLogger:
    if not enabled:
        return RunLogger(enabled=False)
    from torch.utils.tensorboard import SummaryWriter

    folder = run_dir / cfg.subdir
    try:
        return RunLogger(SummaryWriter(str(folder)))
    except Exception as err:
        cause = os_error_in(err)
        if cause is None:
            raise
        warn_tensorboard_failed(cause, folder)
        return RunLogger()


def build_no_logger(cfg: NoLoggerConfig, run_dir: Path, enabled: bool) -> RunLogger:
    return RunLogger(enabled=enabled)
