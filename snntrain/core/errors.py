"""The error types a user may see, and how a command shows one: one line, no traceback.

Each message names the thing that is wrong and the fix.
"""

from __future__ import annotations

import sys
from typing import NoReturn


class SnntrainError(Exception):
    """Base of every error snntrain reports to the user without a traceback.

    ``exit_code``: the command's exit status when it stops on this error (2: bad input).
    """

    exit_code = 2


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


def missing_extra(override: str, package: str, extra: str) -> SnntrainError:
    """The error for ``override`` needing ``package`` (``the wandb package``), which the pip extra
    ``extra`` installs and which is not installed."""
    return SnntrainError(
        f"`{override}` needs {package}, which is not installed. "
        f"Install it with: pip install -e .[{extra}]  (or pip install 'snntrain[{extra}]')"
    )


def fail(err: SnntrainError, prog: str = "snntrain") -> NoReturn:
    """Print ``err`` on stderr as one line, ``<prog> error: <message>``, and exit with its ``exit_code``."""
    from rich.console import Console
    from rich.markup import escape

    message = " ".join(line.strip() for line in str(err).splitlines() if line.strip())
    # soft_wrap: a message longer than the terminal (80 columns in a pipe) stays one line.
    Console(stderr=True, soft_wrap=True).print(f"[bold red]{prog} error:[/] {escape(message)}", highlight=False)
    sys.exit(err.exit_code)
