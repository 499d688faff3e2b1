"""The error types a user may see. Each message names the thing that is wrong and the fix."""

import sys
from typing import NoReturn

from rich.console import Console
from rich.markup import escape


class SnntrainError(Exception):
    """Base of every error snntrain reports to the user without a traceback."""


class ConfigError(SnntrainError, ValueError):
    """A config key has a value that is not allowed; raised before any data is read."""


class DatasetError(SnntrainError):
    """A dataset is missing, incomplete or damaged."""


class CheckpointError(SnntrainError):
    """A checkpoint cannot be read, or does not match the model."""


class StorageError(SnntrainError):
    """A file could not be written (full disk, no permission, a vanished folder); nothing half-written
    is left. The command exits with ``exit_code`` 74 (EX_IOERR of sysexits.h)."""

    exit_code = 74


def exit_with(err: SnntrainError, program: str = "snntrain") -> NoReturn:
    """Print ``err`` as one line on stderr (``<program> error: ...``) and exit with its
    ``exit_code`` (2 unless the error says otherwise)."""
    # soft_wrap: the message stays one line, whatever the terminal's width (grep-able, parseable)
    Console(stderr=True, soft_wrap=True).print(f"[bold red]{program} error:[/] {escape(str(err))}", highlight=False)
    sys.exit(getattr(err, "exit_code", 2))
