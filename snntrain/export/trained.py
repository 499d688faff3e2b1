"""The trained network of a run dir or checkpoint, rebuilt as ``snntrain`` built it, in evaluation mode."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from snntrain.core.errors import CheckpointError
from snntrain.core.registry import build
from snntrain.engine import checkpoint
from snntrain.models.base import SpikingNet

CHOICES = ("best.pt", "last.pt")
"""The checkpoint a run dir stands for: the best validation epoch's, else the last one."""


@dataclass
class Trained:
    model: SpikingNet
    input_shape: tuple[int, ...]
    config: dict[str, Any]
    checkpoint: Path
    run_dir: Path


def checkpoint_in(path: Path) -> Path:
    """``path`` itself, or for a run dir its ``checkpoints/best.pt`` (else ``last.pt``)."""
    if not path.exists():
        raise CheckpointError(f"{path} does not exist: name a run dir or a checkpoint file.")
    if not path.is_dir():
        return path
    for name in CHOICES:
        if (path / checkpoint.FOLDER / name).is_file():
            return path / checkpoint.FOLDER / name
    raise CheckpointError(f"{path} holds no {checkpoint.FOLDER}/best.pt or last.pt: name a run dir that trained an epoch, or a checkpoint file.")


def run_dir_of(path: Path) -> Path:
    """The run dir a checkpoint belongs to: the folder above ``checkpoints/``, else its own folder."""
    return path.parent.parent if path.parent.name == checkpoint.FOLDER else path.parent


def config_of(state: dict[str, Any], path: Path, run_dir: Path) -> dict[str, Any]:
    """The resolved config the checkpoint was trained with, else its run dir's ``.hydra/config.yaml``."""
    if state.get("config"):
        return state["config"]
    saved = run_dir / ".hydra" / "config.yaml"
    if not saved.is_file():
        raise CheckpointError(f"checkpoint {path} records no config and {saved} does not exist, so the model it holds cannot be rebuilt.")
    return OmegaConf.to_container(OmegaConf.load(saved), resolve=True)


def load(path: str | Path) -> Trained:
    """The network of run dir or checkpoint ``path`` with its weights, and how it was built.

    The model is built from the config exactly as ``snntrain`` builds it (neuron, then the dataset's
    input shape and class count, which need no data on disk, then the model) and the checkpoint is
    checked against it; CheckpointError names what does not fit.
    """
    file = checkpoint_in(Path(path).expanduser())
    state = checkpoint.load(file)
    run_dir = run_dir_of(file)
    cfg = config_of(state, file, run_dir)
    info = build("dataset", cfg["dataset"], cfg["seed"], cfg["T"]).info
    model = build("model", cfg["model"], info.input_shape, info.num_classes, build("neuron", cfg["neuron"]))
    checkpoint.check_compatible(model, state["model"], file)
    model.load_state_dict(state["model"])
    return Trained(model.eval(), tuple(info.input_shape), cfg, file, run_dir)
