"""Checkpoints: a versioned, checksummed dict of tensors and plain values, written atomically and
read with ``weights_only=True`` (so loading one cannot run code).

Format 2 (this snntrain) adds two entries to the training state: ``snntrain_format`` (2) and
``sha256``, the digest of everything else (``payload_digest``), checked on every load. Format 1 is
what snntrain wrote before (no ``snntrain_format`` entry): it is read without verification, and
its one RNG state becomes rank 0's of a one-process run.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from snntrain import storage
from snntrain.core.errors import CheckpointError

log = logging.getLogger("snntrain")

FORMAT_VERSION = 2
FORMAT_KEY, CHECKSUM_KEY = "snntrain_format", "sha256"
FOLDER = "checkpoints"  # <run dir>/checkpoints


def payload_digest(value: Any) -> str:
    """The sha256 of ``value`` (nested dicts, lists and tuples of tensors and plain values), the
    same before saving and after loading: tensors by dtype, shape and bytes, dicts in key order."""
    digest = hashlib.sha256()
    _feed(digest, value)
    return digest.hexdigest()


def _feed(digest, value: Any) -> None:
    if isinstance(value, torch.Tensor):
        flat = value.detach().cpu().contiguous().reshape(-1)
        digest.update(f"T{flat.dtype}{tuple(value.shape)}".encode())
        digest.update(flat.view(torch.uint8).numpy())
    elif isinstance(value, dict):
        digest.update(f"D{len(value)}".encode())
        for key in sorted(value, key=repr):
            _feed(digest, key)
            _feed(digest, value[key])
    elif isinstance(value, (list, tuple)):
        digest.update(f"L{len(value)}".encode())
        for item in value:
            _feed(digest, item)
    else:
        digest.update(f"V{type(value).__name__}:{value!r}".encode())


def save_atomic(state: dict[str, Any], path: Path) -> None:
    """Write ``state`` with its format version and checksum to ``path`` atomically (see
    ``storage.write_atomic``); a StorageError names the file, the cause and the fix."""
    record = {FORMAT_KEY: FORMAT_VERSION, CHECKSUM_KEY: payload_digest(state), **state}
    storage.write_atomic(
        path, lambda f: torch.save(record, f), "the checkpoint",
        after=f"The checkpoints already in {path.parent} are unchanged: once that is fixed, the same "
        "command with trainer.resume=auto continues from the newest of them.",
    )


def load(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """The training state in ``path``, verified against its checksum (format 2) or migrated
    (format 1). A CheckpointError names a missing, empty, truncated, damaged, foreign, pickled-code,
    other-version or altered file; nothing on disk changes."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise CheckpointError(f"checkpoint {path} does not exist.") from None
    except OSError as err:
        raise CheckpointError(f"checkpoint {path} cannot be read ({err.strerror or err}).") from None
    if not stat.S_ISREG(info.st_mode):
        raise CheckpointError(f"checkpoint {path} is not a file; name a checkpoint in it, e.g. {path / 'last.pt'}.")
    if info.st_size == 0:
        raise CheckpointError(f"checkpoint {path} is empty (0 bytes): its write was cut short; use an older checkpoint.")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # torch raises many types for damaged files
        detail = str(err).strip().splitlines()[0][:200] if str(err).strip() else "no detail"
        raise CheckpointError(
            f"checkpoint {path} cannot be read ({type(err).__name__}: {detail}); it is truncated, damaged, "
            "not a snntrain checkpoint or holds pickled code. Other checkpoints are untouched."
        ) from None
    if not isinstance(state, dict) or "model" not in state:
        raise CheckpointError(f"{path} is not a snntrain checkpoint (no 'model' entry).")
    version = state.pop(FORMAT_KEY, 1)
    if version == 1:
        log.info(f"{path} is a format-1 checkpoint (written before checksums): read without verification.")
        return migrated_from_format_1(state)
    if version != FORMAT_VERSION:
        raise CheckpointError(
            f"checkpoint {path} has format {version!r}; this snntrain reads formats 1 and {FORMAT_VERSION}. "
            "It was written by another snntrain version: resume it with that version."
        )
    expected = state.pop(CHECKSUM_KEY, None)
    if expected != payload_digest(state):
        raise CheckpointError(
            f"checkpoint {path} does not match its checksum: it was altered or damaged after it was written. "
            "Use an older checkpoint."
        )
    return state


def migrated_from_format_1(state: dict[str, Any]) -> dict[str, Any]:
    """A format-1 state as format 2 has it: its RNG state is rank 0's of a one-process run."""
    if "rng" in state:
        state["rng"], state["world_size"] = [state["rng"]], 1
    return state


def epoch_files(folder: Path) -> list[Path]:
    """The per-epoch checkpoints in ``folder``, oldest first."""
    return sorted(folder.glob("epoch_*.pt"))


def progress(state: dict[str, Any]) -> tuple[int, int]:
    """(epochs done, batches done of the next) at which ``state`` was saved."""
    return state.get("epoch", 0), (state.get("partial_epoch") or {}).get("batch", 0)


def latest_readable(folder: Path, warn: Callable[[str], None]) -> tuple[Path, dict[str, Any]] | None:
    """The checkpoint in ``folder`` (last.pt and the epoch files) that loads and got furthest;
    each one that does not load is reported through ``warn`` and skipped. None if none loads."""
    found = None
    for path in [folder / "last.pt", *reversed(epoch_files(folder))]:
        if not os.path.isfile(path):  # False for a folder it may not list, too: then none is found
            continue
        try:
            state = load(path)
        except CheckpointError as err:
            warn(f"{err} Skipping it.")
            continue
        if found is None or progress(state) > progress(found[1]):
            found = path, state
    return found


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
            "different model or config; use the config it was trained with."
        )


def check_optimizer_groups(optimizer: torch.optim.Optimizer, state: dict[str, Any], path: Path) -> None:
    """Raise a CheckpointError unless the checkpoint's optimizer groups hold the parameters ``optimizer``'s do.

    The groups come from ``optimizer.no_decay`` (and which layers ``trainer.finetune_last``
    trains); loading another split would hand each parameter another's momentum. Groups are
    compared by parameter names where the checkpoint records them, by size otherwise.
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
