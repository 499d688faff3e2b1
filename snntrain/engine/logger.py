"""Where metrics go: the rich console, TensorBoard scalars (and images) and ``train.log``."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path, PurePath

from rich.console import Console
from rich.table import Table

from snntrain.config.checks import require
from snntrain.registry import register

log = logging.getLogger("snntrain")


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
        self.console = console or Console(stderr=False)

    def scalars(self, values: dict[str, float], step: int) -> None:
        if self.writer is not None and self.enabled:
            for key, value in values.items():
                if value is not None:
                    self.writer.add_scalar(key, value, step)

    def images(self, tag: str, image, step: int = 0) -> None:
        """An RGB image ``[3, H, W]`` in [0, 1] to TensorBoard (when enabled)."""
        if self.writer is not None and self.enabled:
            self.writer.add_image(tag, image, step)

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
        if self.writer is not None:
            self.writer.close()


@register("logger", "tensorboard", TensorBoardConfig)
def build_tensorboard(cfg: TensorBoardConfig, run_dir: Path, enabled: bool) -> RunLogger:
    if not enabled:
        return RunLogger(enabled=False)
    from torch.utils.tensorboard import SummaryWriter

    return RunLogger(SummaryWriter(str(run_dir / cfg.subdir)))


@register("logger", "none", NoLoggerConfig)
def build_no_logger(cfg: NoLoggerConfig, run_dir: Path, enabled: bool) -> RunLogger:
    return RunLogger(enabled=enabled)
