"""``snntrain-data``: prepare a dataset (e.g. build N-MNIST's frame caches) without training.

Composes the same config as ``snntrain``, so ``snntrain-data dataset=nmnist T=32`` prepares exactly
the cache that ``snntrain dataset=nmnist T=32`` will read.
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig
from rich.console import Console

import snntrain.components  # noqa: F401  (registers schemas before Hydra composes)
from snntrain.engine.signals import stopping_on_signals
from snntrain.errors import SnntrainError, fail
from snntrain.registry import build


def prepare(cfg: DictConfig) -> bool:
    """Prepare ``cfg.dataset`` for ``cfg.T`` steps; False when the dataset has nothing to prepare."""
    source = build("dataset", cfg.dataset, cfg.seed, cfg.T)
    if not hasattr(source, "prepare"):
        return False
    source.prepare()
    return True


@hydra.main(version_base="1.3", config_path="pkg://snntrain.configs", config_name="train")
def _main(cfg: DictConfig) -> None:
    try:
        prepared = prepare(cfg)
    except SnntrainError as err:
        fail(err, "snntrain-data")
    name = cfg.dataset.name
    Console(stderr=True).print(f"dataset={name}: ready." if prepared else f"dataset={name} reads its files directly; nothing to prepare.")


def main() -> None:
    with stopping_on_signals("snntrain-data"):
        _main()
