"""Shrinking a run for smoke tests: ``scripts/reproduce.py --smoke`` and the tests."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from snntrain.app import plan
from snntrain.data.events.nmnist_writer import write_root
from snntrain.engine.checkpoint import save_atomic

SMOKE = ["trainer.max_epochs=1", "trainer.limit_batches=2", "trainer.limit_eval_batches=1", "trainer.progress=false", "logger=none"]


def needs_starting_weights(cfg: DictConfig) -> bool:
    """Whether the composed run fine-tunes (``trainer.finetune_last``) without ``trainer.init_from``."""
    return cfg.trainer.get("finetune_last") is not None and cfg.trainer.get("init_from") is None


def starting_weights(cfg: DictConfig, path: Path) -> str:
    """A stand-in for the trained network a fine-tuning row starts from: the row's own freshly built
    model, saved as a checkpoint at ``path``; the override that points the row at it."""
    untuned = OmegaConf.merge(cfg, {"trainer": {"finetune_last": None, "init_from": None}})
    path.parent.mkdir(parents=True, exist_ok=True)
    save_atomic({"model": plan(untuned).model.state_dict()}, path)
    return f"trainer.init_from={path}"


def miniature_root(dataset: str, root: Path) -> list[str] | None:
    """For N-MNIST, whose rows set framing keys that ``dataset=synthetic`` lacks: a miniature root of
    random recordings in its own layout at ``root`` (written once; nothing is downloaded), and the
    overrides that point a row at it, so the row runs through its own reader and framing. None for
    other datasets."""
    if dataset != "nmnist":
        return None
    if not (root / "Train").is_dir():
        write_root(root, files_per_class=3)
    return [f"dataset.root={root}", "dataset.download=false", "dataset.workers=1", "dataset.progress=false"]
