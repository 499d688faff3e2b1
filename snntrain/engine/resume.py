"""Resuming a run: which checkpoint, what may differ from the run that wrote it, how a change applies.

A resumed run continues the same experiment. The keys in ``MAY_CHANGE`` say how long, how fast or
where to train, and may differ from the checkpoint's config: each difference is applied as listed
there and logged. Every other key says what the experiment is (``T``, ``seed``, ``model.*``,
``neuron.*``, ``method.*``, ``dataset.*``, ``compression.*``, ``optimizer.name``,
``optimizer.no_decay``, ``scheduler.name``, ``trainer.limit_batches``, the fine-tuning keys...), and a
difference is refused naming the key and both values, as is another number of processes. Keys only
one of the two configs has (added or removed by another snntrain version) are not compared. To train
a run's weights under other settings, start a new run from them: ``trainer.init_from`` (weights only;
fresh optimizer, schedule and epoch count).

Everything is checked before any data is read.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from snntrain.core.errors import CheckpointError
from snntrain.engine import checkpoint

log = logging.getLogger("snntrain")

REPLANS = "the schedule is re-planned with it and continues at the current epoch"
HYPERPARAMETER = "takes effect from the next step; the optimizer's moments are kept"
NO_STATE = "no effect on the training state"
DATA_ACCESS = "where and how the data is read, not which data"
# Exact keys, or a group's prefix ending in "." (every key under it).
MAY_CHANGE = {
    "trainer.max_epochs": REPLANS,
    "optimizer.lr": f"the new base rate; {REPLANS}",
    "scheduler.": REPLANS,  # but scheduler.name, below
    "optimizer.weight_decay": HYPERPARAMETER,
    "optimizer.momentum": HYPERPARAMETER,
    "optimizer.betas": HYPERPARAMETER,
    "optimizer.nesterov": HYPERPARAMETER,
    "trainer.grad_clip": "takes effect from the next step",
    "trainer.on_nonfinite": "takes effect from the next step",
    "trainer.device": "the state moves to the new device",
    "trainer.precision": "the new autocast dtype; the fp16 loss scale carries over only from 16 to 16",
    "trainer.channels_last": "memory layout only",
    "trainer.resume": NO_STATE,
    "trainer.progress": NO_STATE,
    "trainer.keep_checkpoints": NO_STATE,
    "trainer.limit_eval_batches": "evaluation only",
    "dataset.root": DATA_ACCESS,
    "dataset.download": DATA_ACCESS,
    "dataset.workers": DATA_ACCESS,
    "dataset.progress": NO_STATE,
    "dataset.eval_batch_size": "evaluation only",
    "logger.": NO_STATE,
    "paper.": NO_STATE,
}
MUST_MATCH = {"scheduler.name"}  # exceptions to the prefixes above
REPLANNING = ("trainer.max_epochs", "optimizer.lr", "scheduler.")
RESUME_ENTRIES = ("optimizer", "scheduler", "scaler", "epoch", "best", "history", "rng", "config")


def matches(key: str, pattern: str) -> bool:
    """Whether ``key`` is ``pattern``, or lies under it when ``pattern`` ends in "."."""
    return key == pattern or (pattern.endswith(".") and key.startswith(pattern))


def effect(key: str) -> str | None:
    """What a change of ``key`` does on resume (``MAY_CHANGE``), or None when it is refused."""
    if key in MUST_MATCH:
        return None
    return next((what for pattern, what in MAY_CHANGE.items() if matches(key, pattern)), None)


def flat(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``config`` as dotted keys (``trainer.max_epochs``); lists stay whole values."""
    out = {}
    for key, value in config.items():
        if isinstance(value, dict) and value:
            out.update(flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


@dataclass
class Resumption:
    """A checkpoint a run continues from, and the allowed differences of its config."""

    path: Path
    state: dict[str, Any]
    changes: dict[str, tuple[Any, Any]]  # key -> (the checkpoint's value, this run's)

    @property
    def replans(self) -> bool:
        """Whether the learning-rate schedule is planned anew instead of continued as saved."""
        return any(matches(key, pattern) for key in self.changes for pattern in REPLANNING)

    def summary(self) -> str:
        """The changes that affect training, each with what it does ("" when there is none)."""
        return "; ".join(f"{key} {old!r} -> {new!r} ({effect(key)})" for key, (old, new) in self.changes.items() if effect(key) != NO_STATE)


def choose(
    target: str | None, folder: Path, config: dict[str, Any], world_size: int, model: nn.Module, optimizer: torch.optim.Optimizer
) -> Resumption | None:
    """The checkpoint ``trainer.resume`` (``target``) names, checked against this run; None to start
    fresh. ``auto``: the readable checkpoint in ``folder`` that got furthest (each unreadable one is
    skipped with a warning), or none. A CheckpointError when the checkpoint is unreadable (a named
    file), is not a full training state, or is refused by the policy (module docstring)."""
    if target is None:
        return None
    if target == "auto":
        found = checkpoint.latest_readable(folder, log.warning)
        if found is None:
            log.info(f"trainer.resume=auto: no readable checkpoint in {folder}; starting fresh.")
            return None
        path, state = found
    else:
        path = Path(target).expanduser()
        state = checkpoint.load(path)
    missing = [entry for entry in RESUME_ENTRIES if entry not in state]
    if missing:
        raise CheckpointError(
            f"checkpoint {path} holds no {', '.join(missing)}: it is not the training state of a run, so "
            f"trainer.resume cannot continue it. Start a new run from its weights with trainer.init_from={path}."
        )
    changes = check_config(path, state["config"], config)
    check_world_size(path, state.get("world_size", 1), world_size)
    checkpoint.check_compatible(model, state["model"], path)
    checkpoint.check_optimizer_groups(optimizer, state, path)
    return Resumption(path, state, changes)


def check_config(path: Path, saved: dict[str, Any], config: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The allowed differences between the checkpoint's config ``saved`` and this run's ``config``;
    a CheckpointError naming each refused one with both values."""
    old, new = flat(saved), flat(config)
    differing = [key for key in old if key in new and old[key] != new[key]]
    refused = [key for key in differing if effect(key) is None]
    if refused:
        listed = "; ".join(f"{key}: {old[key]!r} in the checkpoint, {new[key]!r} now" for key in refused)
        raise CheckpointError(
            f"cannot resume from {path}: {listed}. A resumed run keeps what the run is (docs/cli.md: Resuming a run); "
            f"resume with the checkpoint's values, or start a new run from its weights with trainer.init_from={path}."
        )
    return {key: (old[key], new[key]) for key in differing}


def check_world_size(path: Path, saved: int, world_size: int) -> None:
    """Refuse another number of processes: the global batch and each rank's random stream would change."""
    if saved != world_size:
        raise CheckpointError(
            f"cannot resume from {path}: it was written by a run of {saved} process(es), this one has {world_size}; "
            "the global batch and each process's random numbers would change. Resume with "
            f"{saved} process(es), or start a new run from its weights with trainer.init_from={path}."
        )


def load_optimizer(optimizer: torch.optim.Optimizer, saved: dict[str, Any], keep_saved_lr: bool) -> None:
    """Load the saved moments and step counts into ``optimizer`` and keep this run's
    hyperparameters (weight decay, momentum, betas...); the learning rate is the saved one when
    ``keep_saved_lr``, else this run's at epoch 0 (the schedule then re-plans it)."""
    own = [{k: v for k, v in group.items() if k not in ("params", "param_names")} for group in optimizer.param_groups]
    optimizer.load_state_dict(saved)
    for group, hyper in zip(optimizer.param_groups, own):
        saved_lr = group["lr"]
        group.update(hyper)
        if keep_saved_lr:
            group["lr"] = saved_lr


def continue_schedule(scheduler: Any, saved: dict[str, Any], epoch: int, replan: bool) -> None:
    """Continue the saved schedule exactly, or (``replan``) step this run's freshly built schedule
    to ``epoch``, carrying over the saved warm-up clock (``MultiStepWarmup.iteration``, which counts
    training steps that replaying epochs does not)."""
    if not replan:
        scheduler.load_state_dict(saved)
        return
    if hasattr(scheduler, "iteration") and "iteration" in saved:
        scheduler.iteration = saved["iteration"]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Detected call of `lr_scheduler\.step\(\)` before")
        for _ in range(epoch):
            scheduler.step()
