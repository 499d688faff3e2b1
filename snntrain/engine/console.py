"""The job logging's handlers (configs/hydra/job_logging/snntrain.yaml) and the run's console: no torch,
since Hydra sets them up before a run's config is checked (``engine/logger.py`` has the rest).

Log lines reach the terminal through ``CONSOLE``, the console the progress bars draw on
(``ConsoleHandler``), so that a line printed during training lands above the live bar;
``train.log`` is plain text, and a failed write to it is one warning (``RunLogFile``)."""

from __future__ import annotations

import contextlib
import logging
import sys
from pathlib import Path

from rich.console import Console
from rich.logging import RichHandler

from snntrain.storage import describe, os_error_in

log = logging.getLogger("snntrain")

CONSOLE = Console()
"""The run's console: log lines, progress bars and the summary table, on stdout."""


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
