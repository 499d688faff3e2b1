"""``snntrain``: compose the Hydra config and train. Thin on purpose: the engine does the work."""

from __future__ import annotations

import sys

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig
from rich.console import Console

import snntrain.components  # noqa: F401  (registers schemas before Hydra composes)
from snntrain.errors import SnntrainError


@hydra.main(version_base="1.3", config_path="pkg://snntrain.configs", config_name="train")
def _main(cfg: DictConfig) -> float | None:
    from snntrain.engine.run import train

    try:
        metrics = train(cfg, HydraConfig.get().runtime.output_dir)
    except SnntrainError as err:
        Console(stderr=True).print(f"[bold red]snntrain error:[/] {err}", highlight=False)
        sys.exit(getattr(err, "exit_code", 2))
    # Sweepers (Optuna) optimise what the task returns: validation accuracy when there is one.
    return metrics["best_val_acc"] if metrics["best_val_acc"] is not None else metrics["test_acc"]


def main() -> None:
    _main()
