"""train.log, TensorBoard and the CSV files under a real write failure (a file-size limit): one
warning each, that log stops, nothing raised, so training goes on (engine/logger.py)."""

from __future__ import annotations

import logging

from snntrain.engine.console import RunLogFile
from snntrain.engine.logger import (
    CSVConfig,
    TensorBoardConfig,
    build_csv,
    build_tensorboard,
)
from tests.faults import in_child


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def warnings_while(write) -> list[str]:
    records = Records()
    logging.getLogger("snntrain").addHandler(records)
    try:
        write()
    finally:
        logging.getLogger("snntrain").removeHandler(records)
    return records.messages


def fill_tensorboard(folder) -> None:
    def write():
        logger = build_tensorboard(TensorBoardConfig(), folder, True)
        for epoch in range(1, 2000):
            logger.epoch({"epoch": epoch, "train_loss": 1.0, "train_acc": 0.5})
        logger.close()
        assert logger.sinks == []

    warnings = warnings_while(write)
    assert len(warnings) == 1 and warnings[0].startswith(f"cannot write the TensorBoard log {folder / 'tensorboard'}: the file-size limit"), warnings


def fill_csv(folder) -> None:
    def write():
        logger = build_csv(CSVConfig(log_every_n_steps=1), folder, True)
        for step in range(1, 2000):
            logger.step(step, 1.0)
            logger.epoch({"epoch": step, "train_loss": 1.0, "train_acc": 0.5})
        assert logger.sinks == []

    warnings = warnings_while(write)
    assert len(warnings) == 2, warnings
    for name, warning in zip(["steps.csv", "metrics.csv"], sorted(warnings, key=lambda w: "metrics.csv" in w)):
        assert warning.startswith(f"cannot write the CSV log {folder / name}: the file-size limit"), warning


def fill_run_log(path) -> None:
    handler = RunLogFile(str(path))
    logging.getLogger("snntrain").addHandler(handler)
    try:
        warnings = warnings_while(lambda: [logging.getLogger("snntrain").warning("x" * 100) for _ in range(50)])
    finally:
        logging.getLogger("snntrain").removeHandler(handler)
    failures = [w for w in warnings if w.startswith("cannot write")]
    assert handler.failed and len(warnings) == 51, warnings  # the 50 records (to the other handlers) and one warning
    assert len(failures) == 1 and failures[0].startswith(f"cannot write the run log {path}: the file-size limit"), failures


def test_a_full_disk_under_tensorboard_is_one_warning_and_no_error(tmp_path):
    assert in_child(fill_tensorboard, tmp_path, file_size_limit=1000) is None


def test_a_full_disk_under_the_csv_files_is_one_warning_each_and_no_error(tmp_path):
    assert in_child(fill_csv, tmp_path, file_size_limit=1000) is None
    assert (tmp_path / "metrics.csv").stat().st_size <= 1000 and (tmp_path / "steps.csv").stat().st_size <= 1000


def test_a_full_disk_under_train_log_is_one_warning_and_no_error(tmp_path):
    assert in_child(fill_run_log, tmp_path / "train.log", file_size_limit=1000) is None
    assert 0 < (tmp_path / "train.log").stat().st_size <= 1000
