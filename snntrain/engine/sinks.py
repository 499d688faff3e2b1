"""Where a run's figures are written: TensorBoard, and the CSV files ``metrics.csv`` and ``steps.csv``.

A sink takes the figures ``engine/logger.py``'s ``RunLogger`` hands it, each under its tag
(``train/loss``, ``firing_rate/<layer>``, ...): an epoch's, one training step's, an image, and at
the end the run's hyperparameters with its final metrics. What a sink does not keep, it ignores.
``what`` and ``path`` name it in the one warning a failed write gives, ``after`` says what that
means; the logger drops the sink then, and training goes on.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from snntrain import storage

METRICS_CSV = "metrics.csv"
STEPS_CSV = "steps.csv"


class Sink:
    what = "the log"
    """How the failure warning names it: ``cannot write <what> <path>: ...``."""
    path: Path
    folder: Path | None = None
    """The folder the warning's advice names (None: the one holding ``path``)."""
    after = "Training goes on without this log; the checkpoints and metrics.json are still written."

    def epoch(self, values: dict[str, float], epoch: int) -> None:
        """An epoch's figures, ``epoch`` counted from 1."""

    def step(self, values: dict[str, float], step: int) -> None:
        """One training step's figures, ``step`` counted from 1 over the whole run."""

    def image(self, tag: str, image: Any, step: int) -> None:
        """An RGB image ``[3, H, W]`` in [0, 1]."""

    def hparams(self, params: dict[str, bool | int | float | str], metrics: dict[str, float]) -> None:
        """At the end of the run: its hyperparameters and final metrics."""

    def close(self) -> None:
        pass


class TensorBoardSink(Sink):
    """Scalars, images and the HParams view in ``folder``: ``tensorboard --logdir outputs``."""

    what = "the TensorBoard log"
    after = "Training goes on without TensorBoard; the checkpoints and metrics.json are still written."

    def __init__(self, writer, folder: Path) -> None:
        self.writer, self.path, self.folder = writer, folder, folder

    def epoch(self, values: dict[str, float], epoch: int) -> None:
        for tag, value in values.items():
            self.writer.add_scalar(tag, value, epoch)

    step = epoch

    def image(self, tag: str, image: Any, step: int) -> None:
        self.writer.add_image(tag, image, step)

    def hparams(self, params: dict[str, bool | int | float | str], metrics: dict[str, float]) -> None:
        """One row of the HParams view; a run without command-line overrides has none to compare."""
        if params:
            # run_name ".": the row joins this run's folder, not a new run named by the time.
            self.writer.add_hparams(params, metrics, run_name=".")

    def close(self) -> None:
        self.writer.close()


class EpochCSV(Sink):
    """``metrics.csv``: a row an epoch, a column a tag; rewritten whole (atomically) each epoch, so
    that a column a later epoch brings has its header. A resumed run keeps the rows before the epoch
    it resumes at and replaces the rest."""

    what = "the CSV log"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows: list[dict[str, Any]] | None = None

    def epoch(self, values: dict[str, float], epoch: int) -> None:
        if self.rows is None:
            self.rows = [row for row in read_rows(self.path) if int(row["epoch"]) < epoch]
        self.rows.append({"epoch": epoch, **values})
        columns = list(dict.fromkeys(key for row in self.rows for key in row))
        write_rows(self.path, columns, self.rows, self.what, self.after)


class StepCSV(Sink):
    """``steps.csv``: a row every ``logger.log_every_n_steps`` training steps, appended. A resumed run
    keeps the rows before the step it resumes at and replaces the rest."""

    what = "the CSV log"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file = None
        self.writer: csv.DictWriter | None = None

    def step(self, values: dict[str, float], step: int) -> None:
        if self.writer is None:
            columns = ["step", *values]
            write_rows(self.path, columns, [row for row in read_rows(self.path) if int(row["step"]) < step], self.what, self.after)
            self.file = self.path.open("a", newline="")
            self.writer = csv.DictWriter(self.file, columns, lineterminator="\n", extrasaction="ignore")
        self.writer.writerow({"step": step, **values})
        self.file.flush()

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


def write_rows(path: Path, columns: list[str], rows: list[dict[str, Any]], what: str, after: str) -> None:
    """``rows`` under the header ``columns`` as the CSV file ``path``, written atomically."""
    text = io.StringIO()
    writer = csv.DictWriter(text, columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    storage.write_text_atomic(path, text.getvalue(), what, after)


def read_rows(path: Path) -> list[dict[str, str]]:
    """The rows of the CSV file ``path``; none when there is no such file."""
    try:
        with path.open(newline="") as file:
            return list(csv.DictReader(file))
    except FileNotFoundError:
        return []
