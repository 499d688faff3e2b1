"""A run read back from disk: which checkpoint, the config its weights were trained with, the model
rebuilt from it with those weights, and what that model scores on an evaluation split.

``snntrain.load``, ``snntrain.evaluate`` and ``snntrain-eval`` stand on it.
"""

from __future__ import annotations

import json
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from snntrain import storage
from snntrain.app import Plan, plan
from snntrain.core.checks import one_of
from snntrain.core.errors import CheckpointError, ConfigError
from snntrain.data.base import require_samples
from snntrain.data.pipeline import input_pipeline
from snntrain.engine import checkpoint
from snntrain.engine.device import resolve_device
from snntrain.engine.evaluation import correct_and_seen
from snntrain.engine.layout import conv_memory_format
from snntrain.engine.resume import flat

WHICH = ("best", "last")
SPLITS = ("val", "test")
CONFIG_FILE = Path(".hydra") / "config.yaml"
MODEL_KEYS = ("model.",)  # what the weights are: an evaluation may change every other key (T, data, device...)


def checkpoint_file(path: str | Path, which: str = "best") -> Path:
    """The checkpoint ``path`` names: the file itself, or ``<run dir>/checkpoints/<which>.pt``.
    A CheckpointError when there is none, saying what there is."""
    path = Path(path).expanduser()
    if not path.exists():
        raise CheckpointError(f"{path} does not exist: name a run dir (it holds {checkpoint.FOLDER}/) or a checkpoint file.")
    if not path.is_dir():
        return path
    one_of("which", which, list(WHICH))
    folder = path / checkpoint.FOLDER
    found = sorted(p.name for p in folder.glob("*.pt")) if folder.is_dir() else []
    if f"{which}.pt" not in found:
        other = next((f"which={w} or " for w in WHICH if f"{w}.pt" in found), "")
        there = f"it has {', '.join(found)}: choose {other}name one of them" if found else "it is not a run dir, or its run saved no checkpoint yet"
        raise CheckpointError(f"{path} holds no {checkpoint.FOLDER}/{which}.pt; {there}.")
    return folder / f"{which}.pt"


def run_dir_of(ckpt: Path) -> Path:
    """The run dir that holds ``ckpt`` (``<run dir>/checkpoints/x.pt``), or the folder it lies in."""
    return ckpt.parent.parent if ckpt.parent.name == checkpoint.FOLDER else ckpt.parent


def saved_config(ckpt: Path, state: dict[str, Any]) -> DictConfig:
    """The config the weights in ``state`` were trained with: the checkpoint's own, else its run's
    ``.hydra/config.yaml``; a CheckpointError when it has neither."""
    if state.get("config"):
        return OmegaConf.create(state["config"])
    file = run_dir_of(ckpt) / CONFIG_FILE
    if file.is_file():
        return OmegaConf.load(file)
    raise CheckpointError(f"checkpoint {ckpt} holds no config and there is no {file}: which model it holds is not known.")


def with_overrides(cfg: DictConfig, overrides: list[str]) -> DictConfig:
    """A copy of ``cfg`` with the ``key=value`` overrides (Hydra's syntax) set; ``+key=value`` adds a
    key. A ConfigError for an unknown key, a deletion, a sweep or a group choice (``model=cnn``:
    a saved config's groups are chosen already)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    try:
        parsed = OverridesParser.create().parse_overrides(list(overrides))
    except HydraException as err:
        raise ConfigError(" ".join(str(err).split())) from None
    cfg = OmegaConf.create(OmegaConf.to_container(cfg))
    for override in parsed:
        key, text = override.key_or_group, override.input_line
        current = OmegaConf.select(cfg, key, default=KeyError)
        if override.is_delete() or override.is_sweep_override() or override.package is not None:
            raise ConfigError(f"{text}: only key=value overrides of the run's config are taken here.")
        if current is KeyError and not (override.is_add() or override.is_force_add()):
            raise ConfigError(f"{text}: {key} is not a key of the run's config (+{text} adds it).")
        if isinstance(current, DictConfig):
            raise ConfigError(f"{text}: the run's {key} is chosen already; set its keys ({key}.<key>=...) instead.")
        OmegaConf.update(cfg, key, override.value(), merge=False, force_add=True)
    return cfg


def rebuilt(cfg: DictConfig) -> Plan:
    """Every component of ``cfg`` built and validated as for training, not trained: its starting
    weights (``trainer.init_from``) are not read, since a checkpoint's replace them."""
    return plan(OmegaConf.merge(cfg, {"trainer": {"init_from": None, "finetune_last": None}}))


def load_weights(p: Plan, ckpt: Path, state: dict[str, Any], saved: DictConfig, cfg: DictConfig) -> None:
    """Load the checkpoint's weights into ``p.model``. A CheckpointError naming each key of the
    model's config that ``cfg`` changed from ``saved`` (the checkpoint's), or each parameter that
    does not fit."""
    old = flat(OmegaConf.to_container(saved, resolve=True))
    new = flat(OmegaConf.to_container(cfg, resolve=True))
    changed = [key for key in old if key.startswith(MODEL_KEYS) and key in new and old[key] != new[key]]
    if changed:
        listed = "; ".join(f"{key}: {old[key]!r} in the checkpoint, {new[key]!r} now" for key in changed)
        raise CheckpointError(f"checkpoint {ckpt} holds another model: {listed}. Leave the model's keys as the run had them.")
    checkpoint.check_compatible(p.model, state["model"], ckpt)
    p.model.load_state_dict(state["model"])


@dataclass
class Restored:
    """A checkpoint's model with its weights, and everything else its (overridden) config builds."""

    path: Path
    state: dict[str, Any]
    saved: DictConfig
    cfg: DictConfig
    plan: Plan


def restore(run_dir_or_ckpt: str | Path, which: str = "best", overrides: list[str] | None = None) -> Restored:
    """The checkpoint ``run_dir_or_ckpt`` names (``checkpoint_file``), its config with ``overrides``
    set, and its model rebuilt from that config holding its weights (in eval mode, on the CPU)."""
    path = checkpoint_file(run_dir_or_ckpt, which)
    state = checkpoint.load(path)
    saved = saved_config(path, state)
    cfg = with_overrides(saved, overrides or [])
    p = rebuilt(cfg)
    load_weights(p, path, state, saved, cfg)
    p.model.eval()
    return Restored(path, state, saved, cfg, p)


def score(r: Restored, split: str) -> dict[str, Any]:
    """The accuracy of ``r``'s model on ``split`` (val or test) of its dataset, read, encoded (at its
    ``T``) and limited (``trainer.limit_eval_batches``) as its config says, on ``trainer.device`` at
    ``trainer.precision``: the trainer's evaluation (``engine/evaluation.py``). A dict: split, T,
    accuracy, correct, samples, checkpoint, epoch, device."""
    p = r.plan
    tcfg, dcfg = p.cfgs["trainer"], p.cfgs["dataset"]
    device = resolve_device(tcfg.device)
    model = p.model.to(device, memory_format=conv_memory_format(p.model, device, tcfg.channels_last))
    data = p.source.load()
    require_samples(data, dcfg)
    pipeline = input_pipeline(
        data, dcfg, p.T, p.seed, limit_batches=tcfg.limit_batches, limit_eval_batches=tcfg.limit_eval_batches,
        pin_memory=device.type == "cuda",
    )
    if split not in pipeline.evaluation:
        raise ConfigError(f"split=val: this run's dataset={dcfg.name} has no validation split (dataset.val_fraction=0); use split=test.")
    dtype = {"32": None, "bf16": torch.bfloat16, "16": torch.float16}[str(tcfg.precision)]
    autocast = nullcontext if dtype is None else (lambda: torch.autocast(device.type, dtype=dtype))
    correct, seen = correct_and_seen(model, p.method, pipeline.evaluation[split], lambda x: pipeline.inputs(x, device), autocast)
    return {
        "split": split, "T": p.T, "accuracy": correct / max(seen, 1), "correct": correct, "samples": seen,
        "checkpoint": str(r.path.absolute()), "epoch": r.state.get("epoch"), "device": str(device),
    }


def score_file(record: dict[str, Any]) -> Path:
    """Where ``record`` (``score``'s) is written: ``eval_<split>_T<T>.json`` in its checkpoint's run dir."""
    return run_dir_of(Path(record["checkpoint"])) / f"eval_{record['split']}_T{record['T']}.json"


def write_score(record: dict[str, Any]) -> None:
    """Write ``record`` as JSON to ``score_file(record)``, atomically."""
    storage.write_text_atomic(
        score_file(record), json.dumps(record, indent=2), "the evaluation",
        after="The run's other files are unchanged; evaluate again once that is fixed.",
    )
