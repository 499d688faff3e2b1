"""Compose the objects a config names and train them: the one entry every front end calls."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from snntrain.core.checks import require
from snntrain.core.errors import DatasetError
from snntrain.core.registry import build, typed_groups
from snntrain.data import DataBundle
from snntrain.data.base import require_samples
from snntrain.data.events.preview import class_examples_image
from snntrain.data.pipeline import input_pipeline
from snntrain.engine import checkpoint, distributed, finetune, resume, threads
from snntrain.engine.host_memory import retain_freed_memory
from snntrain.engine.recompute import check_recompute
from snntrain.engine.seeding import seed_everything
from snntrain.engine.trainer import (
    RunContext,
    Trainer,
    TrainingParts,
    prepare_run_dir,
    resolve_device,
)
from snntrain.export import nir_weights

log = logging.getLogger("snntrain")


@dataclass
class Plan:
    """Every component built and validated, data not yet read."""

    cfgs: dict[str, Any]
    T: int
    seed: int
    model: Any
    method: Any
    optimizer: Any
    scheduler: Any
    codec: Any
    source: Any


def plan(cfg: DictConfig) -> Plan:
    """Validate every group and build everything but the data; config errors surface here."""
    cfgs = typed_groups(cfg)
    T, seed = cfg.T, cfg.seed
    seed_everything(seed)
    source = build("dataset", cfg.dataset, seed, T)
    cfgs["dataset"].augment.check_input(source.info.input_shape)
    method = build("method", cfg.method, T)
    covered = method.models
    require(
        covered is None or cfgs["model"].name in covered, "model", cfgs["model"].name,
        f"the rules of method={method.name} cover {' and '.join(f'model={m}' for m in covered or ())} only; choose one of those, or another method",
    )
    neuron = build("neuron", cfg.neuron)
    model = build("model", cfg.model, source.info.input_shape, source.info.num_classes, neuron)
    cfgs["trainer"].check_model(model)
    method.check(model)
    finetune.prepare(model, cfgs["trainer"].init_from, cfgs["trainer"].finetune_last, initial_weights)
    optimizer = build("optimizer", cfg.optimizer, model)
    scheduler = build("scheduler", cfg.scheduler, optimizer, cfgs["trainer"].max_epochs)
    codec = build("compression", cfg.compression)
    codec.check(model, method)
    if cfgs["compression"].recompute:  # the old name of the switch
        cfgs["trainer"] = replace(cfgs["trainer"], recompute=True)
    if cfgs["trainer"].recompute:
        check_recompute(model, method)
    return Plan(cfgs, T, seed, model, method, optimizer, scheduler, codec, source)


def train(cfg: DictConfig, run_dir: Path, rank: int = 0, world_size: int = 1, data: DataBundle | None = None) -> dict[str, Any]:
    """Build everything ``cfg`` names, read the data (unless ``data`` is given), fit, return the metrics.

    ``rank``/``world_size``: this process's place in a data-parallel group (engine/distributed.py);
    every rank builds the same model from the same seed.
    """
    return make_trainer(cfg, run_dir, rank, world_size, data).fit()


def make_trainer(cfg: DictConfig, run_dir: Path, rank: int = 0, world_size: int = 1, data: DataBundle | None = None) -> Trainer:
    """The trainer ``train`` fits: everything built, the checkpoint to resume from chosen and checked
    against this config, the run dir prepared, then the data read (unless ``data`` is given)."""
    retain_freed_memory()
    p = plan(cfg)
    use_threads(p.cfgs["trainer"].threads)
    config = OmegaConf.to_container(cfg, resolve=True)
    folder = Path(run_dir) / checkpoint.FOLDER
    start = resume.choose(p.cfgs["trainer"].resume, folder, config, world_size, p.model, p.optimizer)
    made_folder = rank == 0 and not folder.is_dir()
    if rank == 0:
        prepare_run_dir(run_dir)
    distributed.seed_rank(p.seed, rank)
    dcfg = p.cfgs["dataset"]
    try:
        data = data if data is not None else p.source.load()
        require_samples(data, dcfg)
    except DatasetError:
        if made_folder:  # refused data leaves the run dir as it found it
            folder.rmdir()
        raise
    logger = build("logger", cfg.logger, Path(run_dir), rank == 0, config)
    if dcfg.encoder == "events":
        logger.images("data/event_frames", class_examples_image(data.train))
    tcfg = p.cfgs["trainer"]
    pipeline = input_pipeline(
        data, dcfg, p.T, p.seed, rank, world_size, tcfg.limit_batches, tcfg.limit_eval_batches,
        pin_memory=resolve_device(tcfg.device).type == "cuda",
    )
    parts = TrainingParts(p.model, p.method, p.optimizer, p.scheduler, p.codec)
    return Trainer(tcfg, parts, pipeline, RunContext(Path(run_dir), logger, rank, world_size, config, start))


def initial_weights(model: Any, path: Path) -> dict[str, Any]:
    """``trainer.init_from``'s weights: a NIR graph (``.nir``, docs/nir.md) or an snntrain checkpoint."""
    if path.suffix == ".nir":
        return nir_weights(model, path)
    return finetune.read_checkpoint_weights(model, path)


def use_threads(setting: str) -> None:
    """Set torch's intra-op thread count as ``trainer.threads`` says, and log the choice."""
    choice = threads.choose(setting)
    torch.set_num_threads(choice.threads)
    log.info(f"{choice.threads} CPU thread{'s' * (choice.threads != 1)} ({choice.reason}).")


def prepare(cfg: DictConfig) -> bool:
    """Prepare ``cfg.dataset`` for ``cfg.T`` steps; False when the dataset has nothing to prepare."""
    source = build("dataset", cfg.dataset, cfg.seed, cfg.T)
    if not hasattr(source, "prepare"):
        return False
    source.prepare()
    return True
