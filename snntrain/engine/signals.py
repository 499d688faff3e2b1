"""Graceful stop on SIGINT / SIGTERM (Ctrl-C, cluster preemption).

The first signal only sets a flag: the trainer finishes the current batch, writes ``last.pt``
and exits with ``128 + signal number`` (130 for SIGINT, 143 for SIGTERM). A second SIGINT
interrupts at once.
"""

from __future__ import annotations

import signal
import threading

from snntrain.errors import SnntrainError


class TrainingInterrupted(SnntrainError):
    """Training stopped on a signal after saving; ``exit_code`` is 128 + the signal number."""

    def __init__(self, message: str, signum: int) -> None:
        super().__init__(message)
        self.exit_code = 128 + signum


class StopRequest:
    """Context manager holding the number of the first stop signal received (or None)."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.signum: int | None = None
        self._previous: dict[int, object] = {}

    def _handle(self, signum, frame) -> None:
        if self.signum is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.signum = signum

    def __enter__(self) -> StopRequest:
        if threading.current_thread() is threading.main_thread():
            for sig in self.SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()
