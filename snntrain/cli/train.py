"""``snntrain``: compose the Hydra config and train. Thin on purpose: the engine does the work.

Up to the checked config nothing imports torch (the schemas are dataclasses in torch-free modules),
so ``--help``, ``--cfg job``, shell completion and a config error take a second, not the seconds
torch takes to import."""

from __future__ import annotations

import sys

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from snntrain.cli.help import register_resolvers, skip_unused_group_listing, version_line
from snntrain.core.errors import SnntrainError, fail
from snntrain.core.metrics import RunMetrics
from snntrain.engine.signals import StopRequest, StopSignal, stopping_on_signals


@hydra.main(version_base="1.3", config_path="pkg://snntrain.configs", config_name="train")
def _main(cfg: DictConfig) -> float | None:
    from snntrain.core.registry import typed_groups

    run_dir = HydraConfig.get().runtime.output_dir
    try:
        trainer = typed_groups(cfg)["trainer"]  # config errors before torch is imported
        # Ctrl-C in the seconds torch takes to import is one line too, once the imports are done
        # (an import cut half-way leaves its modules broken).
        with StopRequest() as stop:
            from snntrain.app import train
            from snntrain.engine import distributed
        if stop.signum is not None:
            raise StopSignal(stop.signum)
        # torchrun sets RANK/WORLD_SIZE: join its process group; a plain run is rank 0 of 1.
        with distributed.session(trainer.device, run_dir, trainer.dist_timeout_s) as (rank, world_size):
            metrics = train(cfg, run_dir, rank, world_size)
    except SnntrainError as err:
        fail(err)
    # Sweepers (Optuna) optimise what the task returns: validation accuracy when there is one.
    return RunMetrics.from_dict(metrics).selection_score()


def main() -> None:
    if "--version" in sys.argv[1:]:  # Hydra's own flag would print only Hydra's version
        print(version_line())
        return
    register_resolvers()
    if "--help" in sys.argv[1:] or "-h" in sys.argv[1:]:
        skip_unused_group_listing()
    with stopping_on_signals("snntrain"):
        from snntrain.cli.plugins import require_plugins
        from snntrain.core.registry import register_schemas
        from snntrain.core.targets import accepting_targets
        from snntrain.engine.ranks import rank_overrides

        register_schemas()  # before Hydra composes
        try:
            require_plugins(sys.argv[1:])
        except SnntrainError as err:
            fail(err)
        sys.argv[1:] = accepting_targets(sys.argv[1:]) + rank_overrides()
        _main()
