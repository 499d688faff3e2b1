"""Compose the objects a config names and train them: the one entry every front end calls."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from snntrain.core.checks import require
from snntrain.core.errors import DatasetError
from snntrain.core.registry import build, typed
from snntrain.data import DataBundle
from snntrain.data.base import require_samples
from snntrain.data.events.preview import class_examples_image
from snntrain.engine import checkpoint, distributed, finetune, resume
from snntrain.engine.host_memory import retain_freed_memory
from snntrain.engine.seeding import seed_everything
from snntrain.engine.trainer import Trainer, prepare_run_dir

GROUPS = ["neuron", "model", "method", "compression", "dataset", "optimizer", "scheduler", "trainer", "logger"]


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
    T, seed = cfg.T, cfg.seed
    require(isinstance(T, int) and not isinstance(T, bool) and T > 0, "T", T, "the number of time steps must be an integer > 0")
    require(isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed < 2**32, "seed", seed, "it must be an integer in [0, 2^32)")
    cfgs = {group: typed(group, cfg[group]) for group in GROUPS}
    seed_everything(seed)
    source = build("dataset", cfg.dataset, seed, T)
    cfgs["dataset"].augment.check_input(source.info.input_shape)
    neuron = build("neuron", cfg.neuron)
    model = build("model", cfg.model, source.info.input_shape, source.info.num_classes, neuron)
    method = build("method", cfg.method, T)
    cfgs["trainer"].check_model(model)
    method.check(model)
    finetune.prepare(model, cfgs["trainer"].init_from, cfgs["trainer"].finetune_last)
    optimizer = build("optimizer", cfg.optimizer, model)
    scheduler = build("scheduler", cfg.scheduler, optimizer, cfgs["trainer"].max_epochs)
    codec = build("compression", cfg.compression)
    codec.check(model, method)
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
    logger = build("logger", cfg.logger, Path(run_dir), rank == 0)
    if dcfg.encoder == "events":
        logger.images("data/event_frames", class_examples_image(data.train))
    return Trainer(
        p.cfgs["trainer"], p.model, p.method, p.optimizer, p.scheduler, p.codec, data, p.T, dcfg.encoder,
        Path(run_dir), logger, seed=p.seed, batch_size=dcfg.batch_size, eval_batch_size=dcfg.eval_batch_size,
        poisson_scale=dcfg.poisson_scale, augment=dcfg.augment, config_dict=config,
        rank=rank, world_size=world_size, start=start, loader_workers=dcfg.loader_workers,
    )


def prepare(cfg: DictConfig) -> bool:
    """Prepare ``cfg.dataset`` for ``cfg.T`` steps; False when the dataset has nothing to prepare."""
    source = build("dataset", cfg.dataset, cfg.seed, cfg.T)
    if not hasattr(source, "prepare"):
        return False
    source.prepare()
    return True
