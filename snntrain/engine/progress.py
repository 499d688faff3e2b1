"""The training progress bar: one live bar, for the epoch in progress.

A finished epoch's bar leaves the live display and is printed once, as a plain line above it; log
lines printed through the same console (``engine/console.py``'s ``ConsoleHandler``) land above the
live bar too. Without this, every finished bar stays live and is drawn again at each refresh, and
a line written past rich is glued to the bar it was drawn over.
"""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class EpochBars:
    """``with EpochBars(console) as bars``: ``start`` an epoch's bar, ``advance`` it, ``finish`` it."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TimeRemainingColumn(), TextColumn("{task.fields[info]}"), console=console,
        )

    def __enter__(self) -> EpochBars:
        self.progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.progress.stop()  # an epoch cut short keeps its bar on screen, where it stopped

    def start(self, description: str, total: int, completed: int = 0) -> TaskID:
        return self.progress.add_task(description, total=total, completed=completed, info="")

    def advance(self, task: TaskID, info: str) -> None:
        self.progress.update(task, advance=1, info=info)

    def finish(self, task: TaskID) -> None:
        """Take the epoch's bar out of the live display and print it once, above."""
        done = next(t for t in self.progress.tasks if t.id == task)
        self.progress.remove_task(task)
        self.progress.refresh()  # the live display drops it now, not at the next tick
        self.progress.console.print(self.progress.make_tasks_table([done]))
