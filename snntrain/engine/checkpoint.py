"""Checkpoints: written atomically, read with ``weights_only=True``, checked against the model.

A checkpoint is a dict of tensors and plain values (never pickled objects), so loading one
cannot run code. A write goes to a temporary file in the same folder, is flushed and fsynced,
then renamed over the target: a crash or a full disk never leaves a half-written checkpoint
where a good one was.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from snntrain.errors import CheckpointError


def save_atomic(state: dict[str, Any], path: Path) -> None:
    """Write ``state`` to ``path`` atomically; a CheckpointError explains a failed write."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        reason = "the disk is full" if err.errno == errno.ENOSPC else err.strerror or str(err)
        raise CheckpointError(
            f"could not write checkpoint {path}: {reason}. The previous checkpoint in {path.parent} "
            "is unchanged; free space or fix permissions, then resume with trainer.resume=auto."
        ) from None


def load(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint safely; a CheckpointError names a missing, truncated or foreign file."""
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist.")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # torch raises many types for damaged files
        raise CheckpointError(
            f"checkpoint {path} cannot be read ({type(err).__name__}: {str(err).splitlines()[0][:200]}); "
            "it is truncated, damaged or not a snntrain checkpoint. Other checkpoints are untouched."
        ) from None
    if not isinstance(state, dict) or "model" not in state:
        raise CheckpointError(f"checkpoint {path} is not a snntrain checkpoint (no 'model' entry).")
    return state


def epoch_files(folder: Path) -> list[Path]:
    """The per-epoch checkpoints in ``folder``, oldest first."""
    return sorted(folder.glob("epoch_*.pt"))


def latest_readable(folder: Path, warn: Callable[[str], None]) -> tuple[Path, dict[str, Any]] | None:
    """The newest checkpoint in ``folder`` that loads (last.pt, then epoch files newest first).

    Each unreadable one is reported through ``warn`` and skipped; None if there is none.
    """
    candidates = [folder / "last.pt", *reversed(epoch_files(folder))]
    for path in candidates:
        if not path.is_file():
            continue
        try:
            return path, load(path)
        except CheckpointError as err:
            warn(f"{err} Trying an older checkpoint.")
    return None


def check_compatible(model: nn.Module, state_dict: dict[str, torch.Tensor], path: Path) -> None:
    """Raise a CheckpointError naming every missing, unexpected or mis-shaped parameter."""
    own = model.state_dict()
    missing = sorted(set(own) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(own))
    shapes = [
        f"{k}: checkpoint {list(state_dict[k].shape)} vs model {list(own[k].shape)}"
        for k in sorted(set(own) & set(state_dict))
        if own[k].shape != state_dict[k].shape
    ]
    if missing or unexpected or shapes:
        parts = []
        if missing:
            parts.append(f"missing keys {missing[:8]}")
        if unexpected:
            parts.append(f"unexpected keys {unexpected[:8]}")
        if shapes:
            parts.append("shape mismatches " + "; ".join(shapes[:8]))
        raise CheckpointError(
            f"checkpoint {path} does not fit this model ({', '.join(parts)}). It was written by a "
            "different model or config; resume with the config it was trained with."
        )


def check_optimizer_groups(optimizer: torch.optim.Optimizer, state: dict[str, Any], path: Path) -> None:
    """Raise a CheckpointError unless the checkpoint's optimizer groups hold the parameters ``optimizer``'s do.

    The groups come from ``optimizer.no_decay``; loading another split would hand each
    parameter another's momentum. Groups are compared by parameter names where the checkpoint
    records them, by size otherwise.
    """
    saved, own = state["optimizer"]["param_groups"], optimizer.param_groups
    named = all("param_names" in g for g in saved)
    layout = (lambda g: g["param_names"]) if named else (lambda g: len(g["params"]))
    if [layout(g) for g in saved] == [layout(g) for g in own]:
        return
    saved_no_decay = state.get("config", {}).get("optimizer", {}).get("no_decay", [])
    raise CheckpointError(
        f"checkpoint {path} holds optimizer state for parameter groups of {[len(g['params']) for g in saved]} parameters, "
        f"this run's optimizer has {[len(g['params']) for g in own]}: it was written with another optimizer.no_decay "
        f"(its config: {saved_no_decay!r}) or model; resume with the config it was trained with."
    )
