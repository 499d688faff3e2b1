"""What Hydra records in a run dir beside the run's own files: ``.hydra/overrides.yaml`` and ``.hydra/hydra.yaml``."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig, OmegaConf


def overrides(run_dir: Path) -> list[str]:
    """The command-line overrides of the run (empty when not recorded)."""
    path = run_dir / ".hydra" / "overrides.yaml"
    return [str(o) for o in OmegaConf.load(path)] if path.is_file() else []


def hydra_config(run_dir: Path) -> DictConfig:
    """The run's ``hydra.yaml``, unresolved (empty when absent); read its keys with ``OmegaConf.select``."""
    path = run_dir / ".hydra" / "hydra.yaml"
    return OmegaConf.load(path) if path.is_file() else OmegaConf.create()
