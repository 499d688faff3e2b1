"""``snntrain``: compose the Hydra config and train. Thin on purpose: the engine does the work."""

from __future__ import annotations

import sys

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

import snntrain.components  # noqa: F401  (registers schemas before Hydra composes)
from snntrain.engine import distributed
from snntrain.errors import SnntrainError, exit_with
from snntrain.extras import require_plugins


def _fail(err: SnntrainError) -> None:
    exit_with(err)


@hydra.main(version_base="1.3", config_path="pkg://snntrain.configs", config_name="train")
def _main(cfg: DictConfig) -> float | None:
    from snntrain.engine.run import train

    run_dir = HydraConfig.get().runtime.output_dir
    try:
        # torchrun sets RANK/WORLD_SIZE: join its process group; a plain run is rank 0 of 1.
        with distributed.session(cfg.trainer.device, run_dir) as (rank, world_size):
            metrics = train(cfg, run_dir, rank, world_size)
    except SnntrainError as err:
        _fail(err)
    # Sweepers (Optuna) optimise what the task returns: validation accuracy when there is one.
    return metrics["best_val_acc"] if metrics["best_val_acc"] is not None else metrics["test_acc"]


def main() -> None:
    try:
        require_plugins(sys.argv[1:])
    except SnntrainError as err:
        _fail(err)
    sys.argv += distributed.rank_overrides()
    _main()
