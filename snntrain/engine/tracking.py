"""Experiment trackers as sinks: ``logger=wandb`` (Weights & Biases) and ``logger=mlflow``.

Both are optional extras (``pip install -e .[wandb]``, ``.[mlflow]``), imported only when chosen;
without the package the run stops with one line naming the extra. They get the same tags as
TensorBoard (``engine/logger.py``), the whole resolved config as the run's parameters at the start,
and the final metrics at the end.
"""

from __future__ import annotations

import importlib
import time
from pathlib import Path
from typing import Any

import numpy as np

from snntrain.core.errors import SnntrainError, missing_extra
from snntrain.engine.config import MLflowConfig, WandbConfig
from snntrain.engine.logger import RunLogger, run_logger
from snntrain.engine.sinks import Sink


def import_extra(module: str, extra: str, override: str):
    """``module``, or the one-line error naming the pip extra that installs it."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as err:
        if err.name != module:
            raise
        raise missing_extra(override, f"the {module} package", extra) from None


def run_name(run_dir: Path) -> str:
    """A run's name in a tracker: the last two parts of its run dir (``<date>/<time>``, ``<time>/<job>``)."""
    return "/".join(Path(run_dir).resolve().parts[-2:])


def hwc(image: Any) -> np.ndarray:
    """An RGB ``[3, H, W]`` image in [0, 1] as the ``[H, W, 3]`` array trackers take."""
    return np.asarray(image, dtype=np.float32).transpose(1, 2, 0)


class WandbSink(Sink):
    what = "the W&B run"

    def __init__(self, wandb, run, folder: Path) -> None:
        self.wandb, self.run, self.path = wandb, run, folder
        self.defined: set[str] = set()

    def _log(self, values: dict[str, float], axis: str, at: int) -> None:
        """Log ``values`` against ``axis`` (``epoch`` or ``step``), defined as their x-axis the first time."""
        for tag in values.keys() - self.defined:
            self.run.define_metric(tag, step_metric=axis)
            self.defined.add(tag)
        self.run.log({**values, axis: at})

    def epoch(self, values: dict[str, float], epoch: int) -> None:
        self._log(values, "epoch", epoch)

    def step(self, values: dict[str, float], step: int) -> None:
        self._log(values, "step", step)

    def image(self, tag: str, image: Any, step: int) -> None:
        self.run.log({tag: self.wandb.Image(hwc(image))})

    def hparams(self, params: dict[str, bool | int | float | str], metrics: dict[str, float]) -> None:
        self.run.summary.update(metrics)

    def close(self) -> None:
        self.run.finish()


def build_wandb(cfg: WandbConfig, run_dir: Path, enabled: bool, config: dict[str, Any] | None = None) -> RunLogger:
    def sinks() -> list[Sink]:
        wandb = import_extra("wandb", "wandb", "logger=wandb")
        try:
            run = wandb.init(
                project=cfg.project, entity=cfg.entity, mode=cfg.mode, dir=str(run_dir), name=run_name(run_dir),
                config=config or {}, reinit="create_new",
            )
        except wandb.errors.Error as err:
            raise SnntrainError(f"logger=wandb could not start a run: {err}. Log in (wandb login) or set logger.mode=offline.") from None
        return [WandbSink(wandb, run, Path(run_dir) / "wandb")]

    return run_logger(cfg, run_dir, enabled, config, sinks)


class MLflowSink(Sink):
    what = "the MLflow run"

    def __init__(self, mlflow, client, run_id: str, uri: str) -> None:
        self.mlflow, self.client, self.run_id, self.path = mlflow, client, run_id, Path(uri)

    def _metrics(self, values: dict[str, float], step: int) -> None:
        now = int(time.time() * 1000)
        Metric = self.mlflow.entities.Metric
        self.client.log_batch(self.run_id, metrics=[Metric(tag, value, now, step) for tag, value in values.items()])

    def epoch(self, values: dict[str, float], epoch: int) -> None:
        self._metrics(values, epoch)

    def step(self, values: dict[str, float], step: int) -> None:
        self._metrics(values, step)

    def image(self, tag: str, image: Any, step: int) -> None:
        self.client.log_image(self.run_id, hwc(image), artifact_file=f"{tag}.png")

    def hparams(self, params: dict[str, bool | int | float | str], metrics: dict[str, float]) -> None:
        self._metrics(metrics, 0)

    def close(self) -> None:
        self.client.set_terminated(self.run_id)


def flat(config: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """A nested config as ``{"a.b": "value"}``: MLflow's parameters are flat strings."""
    out: dict[str, str] = {}
    for key, value in config.items():
        if isinstance(value, dict):
            out.update(flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = str(value)
    return out


def build_mlflow(cfg: MLflowConfig, run_dir: Path, enabled: bool, config: dict[str, Any] | None = None) -> RunLogger:
    def sinks() -> list[Sink]:
        mlflow = import_extra("mlflow", "mlflow", "logger=mlflow")
        uri = cfg.tracking_uri or mlflow.get_tracking_uri()
        try:
            client = mlflow.MlflowClient(tracking_uri=uri)
            found = client.get_experiment_by_name(cfg.experiment)
            experiment = found.experiment_id if found else client.create_experiment(cfg.experiment)
            run = client.create_run(experiment, run_name=run_name(run_dir))
        except mlflow.exceptions.MlflowException as err:
            raise SnntrainError(f"logger=mlflow could not start a run at {uri} (logger.tracking_uri): {err.message}") from None
        Param = mlflow.entities.Param
        params = [Param(key, value) for key, value in flat(config or {}).items()]
        for start in range(0, len(params), 100):  # MLflow takes at most 100 parameters a call
            client.log_batch(run.info.run_id, params=params[start:start + 100])
        return [MLflowSink(mlflow, client, run.info.run_id, uri)]

    return run_logger(cfg, run_dir, enabled, config, sinks)
