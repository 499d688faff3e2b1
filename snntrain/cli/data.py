"""``snntrain-data``: prepare a dataset (e.g. build N-MNIST's frame caches) without training.

Composes the same config as ``snntrain``, so ``snntrain-data dataset=nmnist T=32`` prepares exactly
the cache that ``snntrain dataset=nmnist T=32`` will read. As there, a config error in ``dataset.*``
is reported before torch is imported.
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig
from rich.console import Console

from snntrain.core.errors import SnntrainError, fail
from snntrain.core.registry import register_schemas, typed
from snntrain.engine.signals import StopRequest, StopSignal, stopping_on_signals


@hydra.main(version_base="1.3", config_path="pkg://snntrain.configs", config_name="train")
def _main(cfg: DictConfig) -> None:
    try:
        typed("dataset", cfg.dataset)
        with StopRequest() as stop:  # Ctrl-C while torch imports: one line, once the imports are done
            from snntrain.app import prepare
        if stop.signum is not None:
            raise StopSignal(stop.signum)
        prepared = prepare(cfg)
    except SnntrainError as err:
        fail(err, "snntrain-data")
    name = cfg.dataset.name
    Console(stderr=True).print(f"dataset={name}: ready." if prepared else f"dataset={name} reads its files directly; nothing to prepare.")


def main() -> None:
    with stopping_on_signals("snntrain-data"):
        register_schemas()  # before Hydra composes
        _main()
