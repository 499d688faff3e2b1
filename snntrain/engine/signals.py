"""Stop signals: Ctrl-C (SIGINT) and SIGTERM (a scheduler's preemption, ``timeout``, torchrun).

Two scopes:

* The whole command (``stopping_on_signals``, entered by every entry point): a signal raises
  ``StopSignal`` wherever the command is, so every ``finally`` runs (a half-built frame cache is
  removed and its worker processes are stopped) and the command ends with one line and exit code
  128 + the signal number (130 for SIGINT, 143 for SIGTERM). A signal that arrives while it unwinds
  raises again, which only cuts the unwinding short; the command still ends with one line.
* The training loop (``StopRequest``): the first signal only sets a flag: the trainer finishes the
  current batch, writes ``last.pt`` and stops with ``TrainingInterrupted`` (128 + signal number).
  A second SIGINT stops at once, as a signal outside the loop does.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from snntrain.core.errors import SnntrainError, fail

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(SnntrainError):
    """The command stopped on a signal; ``exit_code`` is 128 + the signal number."""

    def __init__(self, message: str, signum: int) -> None:
        super().__init__(message)
        self.exit_code = 128 + signum


class TrainingInterrupted(Interrupted):
    """Training stopped on a signal after saving ``last.pt``."""


class StopSignal(KeyboardInterrupt):
    """Raised by a stop signal where the command is. A KeyboardInterrupt, so that ``except Exception``
    lets it through, as it lets Ctrl-C through."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_stop(signum, frame) -> None:
    raise StopSignal(signum)


@contextmanager
def stopping_on_signals(prog: str) -> Iterator[None]:
    """Run a command's body so that SIGINT or SIGTERM ends it with one line (``<prog> error: stopped by
    ...``) and exit code 128 + the signal number, after its ``finally`` blocks ran.

    A signal that arrives while the command is already ending on an error (torchrun's SIGTERM right
    after a peer died) does not hide that error: its line is the one printed.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _raise_stop) for sig in SIGNALS}
    try:
        yield
    except SystemExit:
        # The command's last line is out and the interpreter is ending: a signal now (torchrun's
        # SIGTERM once a peer died) would raise in its shutdown and print a traceback after that line.
        _ignore_signals()
        raise
    except KeyboardInterrupt as stop:
        # From here the command only says its last line and exits: further signals are ignored to the
        # end (restoring Python's handlers would let a late Ctrl-C kill the exit half-way).
        _ignore_signals()
        ending = _ending_on(stop)
        if isinstance(ending, SystemExit):  # its line is out already
            raise ending from None
        signum = getattr(stop, "signum", signal.SIGINT)
        fail(ending or Interrupted(
            f"stopped by {signal.Signals(signum).name}; nothing half-written is kept. Run the same command again "
            "(add trainer.resume=auto with the same hydra.run.dir to continue from the run's newest checkpoint, if it saved one).",
            signum,
        ), prog)
    for sig, handler in previous.items():
        signal.signal(sig, handler)


def _ignore_signals() -> None:
    for sig in SIGNALS:
        signal.signal(sig, signal.SIG_IGN)


def _ending_on(stop: BaseException) -> SystemExit | SnntrainError | None:
    """The exit or error the command was already unwinding from when ``stop`` was raised, if any."""
    context = stop.__context__
    while context is not None and not isinstance(context, (SystemExit, SnntrainError)):
        context = context.__context__
    return context


class StopRequest:
    """Context manager holding the number of the first stop signal received (or None)."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._previous: dict[int, object] = {}

    def _handle(self, signum, frame) -> None:
        if self.signum is not None and signum == signal.SIGINT:
            raise StopSignal(signum)
        self.signum = signum

    def __enter__(self) -> StopRequest:
        if threading.current_thread() is threading.main_thread():
            for sig in SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()
