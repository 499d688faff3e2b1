"""Where metrics go: the rich console, ``train.log``, and the sinks ``logger=...`` chooses.

``logger=tensorboard`` (the default), ``csv``, ``wandb`` (``engine/tracking.py``), ``mlflow`` or
``none``; ``logger.csv=true`` adds the CSV files to any of them. Every sink gets the same tags
(``epoch_scalars``; docs/logging.md lists them); ``logger.plots`` draws ``engine/plots.py``'s plots.

Log lines reach the terminal through ``CONSOLE``, the console the progress bars draw on
(``ConsoleHandler``), so that a line printed during training lands above the live bar;
``train.log`` is plain text (both handlers are in ``engine/console.py``, torch-free: Hydra sets them
up before the config is checked).

The logs are not what a run must leave (its checkpoints and ``metrics.json`` are): a failed write
to one (full disk, no permission, a vanished folder) gives one warning naming the file and the
cause, that log stops, and training goes on.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from rich.table import Table

from snntrain.core.errors import StorageError
from snntrain.engine.config import CSVConfig, LoggerConfig, NoLoggerConfig, TensorBoardConfig
from snntrain.engine.console import CONSOLE
from snntrain.engine.plots import FOLDER as PLOTS
from snntrain.engine.plots import SpikeSample, write_plots
from snntrain.engine.sinks import METRICS_CSV, STEPS_CSV, EpochCSV, Sink, StepCSV, TensorBoardSink
from snntrain.storage import describe, os_error_in

log = logging.getLogger("snntrain")

SPLITS = ("train", "val", "test")
FINAL_METRICS = ("test_acc", "best_val_acc", "test_acc_at_best_val", "best_test_acc", "final_train_loss")


class RunLogger:
    """Hands a run's figures to its sinks (``engine/sinks.py``: TensorBoard, CSV, W&B, MLflow) under
    their tags (``epoch_scalars``), draws the plots at the end, and writes messages to the console
    and train.log. ``enabled=False`` (a rank other than 0): nothing but the messages."""

    def __init__(
        self, sinks: list[Sink] | None = None, console: Console | None = None, enabled: bool = True,
        every_n_steps: int = 50, plots: Path | None = None, params: dict[str, bool | int | float | str] | None = None,
    ) -> None:
        self.sinks = list(sinks or []) if enabled else []
        self.enabled, self.every_n_steps, self.plots, self.params = enabled, every_n_steps, plots, params or {}
        self.console = console or CONSOLE
        self.firing_rates: dict[int, dict[str, float]] = {}
        """Each epoch's firing rates by layer, for the plots (the epochs this process trained)."""

    def epoch(self, record: dict[str, Any]) -> None:
        """An epoch's record (``Trainer.train_epoch`` and the evaluation) to every sink."""
        if not self.enabled:
            return
        self.firing_rates[record["epoch"]] = dict(record.get("firing_rates") or {})
        values = epoch_scalars(record)
        self._each(lambda sink: sink.epoch(values, record["epoch"]))

    def step(self, step: int, loss: torch.Tensor | float) -> None:
        """Training step ``step`` (from 1, over the run) and its loss; written every ``every_n_steps``
        steps (only then is ``loss`` read, so a CUDA tensor costs no sync the other steps)."""
        if self.sinks and step % self.every_n_steps == 0:
            values = {"train/loss_step": float(loss)}
            self._each(lambda sink: sink.step(values, step))

    def images(self, tag: str, image, step: int = 0) -> None:
        """An RGB image ``[3, H, W]`` in [0, 1] to every sink that keeps images."""
        self._each(lambda sink: sink.image(tag, image, step))

    def finish(self, metrics: dict[str, Any], spikes: Callable[[], SpikeSample | None]) -> None:
        """At the end of a run: its hyperparameters (``command_line_params``) with its final metrics
        (``hparams/<metric>``: TensorBoard's HParams view), and the plots (``logger.plots``), whose
        raster ``spikes()`` records."""
        if not self.enabled:
            return
        final = {f"hparams/{key}": float(metrics[key]) for key in FINAL_METRICS if metrics.get(key) is not None}
        self._each(lambda sink: sink.hparams(self.params, final))
        if self.plots is not None and metrics["history"]:
            for name, picture in write_plots(self.plots, metrics["history"], self.firing_rates, spikes).items():
                self.images(f"plots/{name}", picture)

    def _each(self, write: Callable[[Sink], None]) -> None:
        """``write(sink)`` for each sink; a failed write warns once and drops that sink (module docstring)."""
        for sink in list(self.sinks):
            try:
                write(sink)
            except Exception as err:
                if isinstance(err, StorageError):
                    message = str(err)  # it names the file, the cause and sink.after
                else:
                    cause = os_error_in(err)
                    if cause is None:
                        raise
                    message = f"{describe(cause, sink.path, sink.what, sink.folder)}. {sink.after}"
                self.sinks.remove(sink)
                with contextlib.suppress(Exception):  # its queued writes fail the same way
                    sink.close()
                log.warning(message)

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
        self._each(lambda sink: sink.close())
        self.sinks = []


def epoch_scalars(record: dict[str, Any]) -> dict[str, float]:
    """An epoch record as tags: ``train_<x>``, ``val_<x>``, ``test_<x>`` -> ``train/<x>``, ``val/<x>``,
    ``test/<x>``; ``lr``; the other figures (time, memory, compression) ``epoch/<x>``; a per-layer
    figure ``<figure>/<layer>`` (``firing_rates``: ``firing_rate/<layer>``). A figure the run has not
    got (None: no validation split) is left out."""
    scalars = {}
    for key, value in record.items():
        if isinstance(value, dict):
            figure = "firing_rate" if key == "firing_rates" else key
            scalars.update({f"{figure}/{layer}": float(v) for layer, v in value.items() if v is not None})
        elif key != "epoch" and isinstance(value, (int, float)) and not isinstance(value, bool):
            split, _, rest = key.partition("_")
            tag = f"{split}/{rest}" if split in SPLITS and rest else key if key == "lr" else f"epoch/{key}"
            scalars[tag] = float(value)
    return dict(sorted(scalars.items(), key=lambda item: tag_order(item[0])))


def tag_order(tag: str) -> int:
    """Where a tag's column stands (metrics.csv): the splits' figures, ``lr``, the epoch's, the per-layer ones."""
    group = tag.split("/")[0]
    return 0 if group in SPLITS else 1 if tag == "lr" else 2 if group == "epoch" else 3


def command_line_params(config: dict[str, Any]) -> dict[str, bool | int | float | str]:
    """The run's command-line overrides (a sweep's parameters) as hyperparameters: the key and its
    value as composed in ``config`` (a group choice, a list, null: the text given). Empty outside a
    Hydra run; ``logger`` keys are left out (where the figures go is no hyperparameter)."""
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return {}
    params: dict[str, bool | int | float | str] = {}
    for override in HydraConfig.get().overrides.task:
        key, _, text = override.lstrip("+").partition("=")
        if key.startswith("~") or key.split(".")[0] in ("logger", "hydra"):
            continue
        value: Any = config
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        params[key] = value if isinstance(value, (bool, int, float, str)) else text
    return params


def run_logger(cfg: LoggerConfig, run_dir: Path, enabled: bool, config: dict[str, Any] | None, sinks: Callable[[], list[Sink]]) -> RunLogger:
    """The RunLogger ``cfg`` asks for: ``sinks()`` (built on rank 0 only), the CSV files
    (``logger.csv``), the plots (``logger.plots``) and the command-line hyperparameters."""
    if not enabled:
        return RunLogger(enabled=False)
    files = [EpochCSV(run_dir / METRICS_CSV), StepCSV(run_dir / STEPS_CSV)] if cfg.csv else []
    return RunLogger(
        [*sinks(), *files], every_n_steps=cfg.log_every_n_steps, plots=run_dir / PLOTS if cfg.plots else None,
        params=command_line_params(config or {}),
    )


def build_tensorboard(cfg: TensorBoardConfig, run_dir: Path, enabled: bool, config: dict[str, Any] | None = None) -> RunLogger:
    def sinks() -> list[Sink]:
        from torch.utils.tensorboard import SummaryWriter

        folder = run_dir / cfg.subdir
        try:
            return [TensorBoardSink(SummaryWriter(str(folder)), folder)]
        except Exception as err:
            cause = os_error_in(err)
            if cause is None:
                raise
            log.warning(f"{describe(cause, folder, TensorBoardSink.what, folder)}. {TensorBoardSink.after}")
            return []

    return run_logger(cfg, run_dir, enabled, config, sinks)


def build_csv(cfg: CSVConfig, run_dir: Path, enabled: bool, config: dict[str, Any] | None = None) -> RunLogger:
    return run_logger(cfg, run_dir, enabled, config, list)


def build_no_logger(cfg: NoLoggerConfig, run_dir: Path, enabled: bool, config: dict[str, Any] | None = None) -> RunLogger:
    return run_logger(cfg, run_dir, enabled, config, list)
