"""The engine's config schemas: ``optimizer=``, ``scheduler=``, ``trainer=`` and ``logger=<name>``.
Dataclasses only, no torch at import, so that the CLI can compose and check a config before it
imports torch (the optimisers and schedules are in ``optim.py``, the loop in ``trainer.py``, the
sinks in ``logger.py`` and ``tracking.py``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import TYPE_CHECKING

from snntrain.core.checks import one_of, positive, require

if TYPE_CHECKING:
    from torch import nn

log = logging.getLogger("snntrain")


@dataclass
class NoDecayConfig:
    """``optimizer.no_decay``: parameters without weight decay (kinds ``bias``, ``norm`` or full names; see ``engine.param_groups``)."""

    no_decay: list[str] = field(default_factory=list, metadata={"help": (
        "parameters left out of weight decay: bias (every parameter named bias), norm (every normalisation-layer "
        "parameter: BatchNorm γ, β) or full parameter names (body.10.weight); [] = none"
    )})


@dataclass
class AdamConfig(NoDecayConfig):
    name: str = field(default="adam", metadata={"help": "the option's name (optimizer=<name> selects it)"})
    lr: float = field(default=1e-3, metadata={"help": "learning rate"})
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999], metadata={"help": "Adam's (beta1, beta2): decay rates of the gradient's running mean and square"})
    weight_decay: float = field(default=0.0, metadata={"help": "L2 penalty added to the gradient (adamw: decoupled weight decay)"})

    def __post_init__(self) -> None:
        positive("optimizer.lr", self.lr)
        require(self.weight_decay >= 0, "optimizer.weight_decay", self.weight_decay, "it must be >= 0")
        require(len(self.betas) == 2 and all(0 <= b < 1 for b in self.betas), "optimizer.betas", self.betas, "two numbers in [0, 1)")


@dataclass
class AdamWConfig(AdamConfig):
    name: str = "adamw"
    weight_decay: float = 1e-2


@dataclass
class SGDConfig(NoDecayConfig):
    name: str = field(default="sgd", metadata={"help": "the option's name (optimizer=<name> selects it)"})
    lr: float = field(default=0.1, metadata={"help": "learning rate"})
    momentum: float = field(default=0.9, metadata={"help": "momentum, in [0, 1)"})
    weight_decay: float = field(default=5e-4, metadata={"help": "L2 penalty added to the gradient"})
    nesterov: bool = field(default=False, metadata={"help": "Nesterov momentum"})

    def __post_init__(self) -> None:
        positive("optimizer.lr", self.lr)
        require(0 <= self.momentum < 1, "optimizer.momentum", self.momentum, "it must be in [0, 1)")
        require(self.weight_decay >= 0, "optimizer.weight_decay", self.weight_decay, "it must be >= 0")
        require(
            not self.nesterov or self.momentum > 0, "optimizer.nesterov", self.nesterov,
            "Nesterov's method is a form of momentum: set optimizer.momentum > 0, or optimizer.nesterov=false",
        )


@dataclass
class NoScheduleConfig:
    """``scheduler=none``: constant learning rate."""

    name: str = field(default="none", metadata={"help": "the option's name (scheduler=<name> selects it)"})


@dataclass
class CosineConfig:
    """``scheduler=cosine``: cosine annealing to ``eta_min`` over ``trainer.max_epochs``."""

    name: str = field(default="cosine", metadata={"help": "the option's name (scheduler=<name> selects it)"})
    eta_min: float = field(default=0.0, metadata={"help": "learning rate at the end of trainer.max_epochs"})

    def __post_init__(self) -> None:
        require(self.eta_min >= 0, "scheduler.eta_min", self.eta_min, "a learning rate must be >= 0")


@dataclass
class StepConfig:
    """``scheduler=step``: multiply the rate by ``gamma`` every ``step_size`` epochs."""

    name: str = field(default="step", metadata={"help": "the option's name (scheduler=<name> selects it)"})
    step_size: int = field(default=30, metadata={"help": "epochs between two multiplications by gamma"})
    gamma: float = field(default=0.1, metadata={"help": "factor applied to the rate every step_size epochs"})

    def __post_init__(self) -> None:
        require(self.step_size > 0, "scheduler.step_size", self.step_size, "it must be > 0")
        positive("scheduler.gamma", self.gamma)


@dataclass
class MultiStepConfig:
    """``scheduler=multistep``: multiply the rate by ``gamma`` at each epoch of ``milestones``; with
    ``warmup_iters`` > 0 the first training steps ramp it linearly, lr·(i+1)/warmup_iters at step i."""

    name: str = field(default="multistep", metadata={"help": "the option's name (scheduler=<name> selects it)"})
    milestones: list[int] = field(default_factory=lambda: [30, 60, 90], metadata={"help": "epochs (counted from 0) from which the rate is multiplied by gamma once more"})
    gamma: float = field(default=0.1, metadata={"help": "factor applied at each milestone"})
    warmup_iters: int = field(default=0, metadata={"help": "linear warm-up over the first training steps, lr·(i+1)/warmup_iters at step i (the official IDE CIFAR scripts'); 0 = none"})

    def __post_init__(self) -> None:
        require(
            all(m > 0 for m in self.milestones) and self.milestones == sorted(set(self.milestones)),
            "scheduler.milestones", self.milestones, "epochs > 0 in increasing order",
        )
        positive("scheduler.gamma", self.gamma)
        require(self.warmup_iters >= 0, "scheduler.warmup_iters", self.warmup_iters, "it must be >= 0 (0: no warm-up)")


@dataclass
class InvSqrtConfig:
    """``scheduler=inv_sqrt``: lr / sqrt(epoch + 1), the HM2-BP recipe."""

    name: str = field(default="inv_sqrt", metadata={"help": "the option's name (scheduler=<name> selects it)"})


@dataclass
class TrainerConfig:
    """``trainer.*``: the loop's settings."""

    name: str = field(default="default", metadata={"help": "the option's name (trainer=<name> selects it)"})
    max_epochs: int = field(default=30, metadata={"help": "training epochs"})
    device: str = field(default="auto", metadata={"help": "auto (cuda when present) | cpu | cuda"})
    precision: str = field(default="32", metadata={"help": "32 | bf16 | 16 (autocast for conv/linear; neuron state stays float32)"})
    channels_last: bool | None = field(default=None, metadata={"help": "conv weights and activations in NHWC; null: NHWC for conv models on the CPU (engine/layout.py)"})
    grad_clip: float | None = field(default=None, metadata={"help": "max global gradient norm; null = no clipping"})
    resume: str | None = field(default=None, metadata={"help": "null | auto (last.pt of this run dir) | path/to/checkpoint.pt"})
    limit_batches: int | None = field(default=None, metadata={"help": "train batches per epoch (smoke runs); null = all"})
    limit_eval_batches: int | None = field(default=None, metadata={"help": "evaluation batches per split (smoke runs); null = all"})
    keep_checkpoints: int = field(default=1, metadata={"help": "epoch checkpoints kept (the newest), besides last.pt and best.pt"})
    on_nonfinite: str = field(default="stop", metadata={"help": "a non-finite loss or gradient: stop | skip_batch"})
    progress: bool = field(default=True, metadata={"help": "rich progress bar"})
    init_from: str | None = field(default=None, metadata={"help": "checkpoint whose model weights start this run (weights only: fresh optimizer, epoch 0), or a NIR graph (docs/nir.md)"})
    finetune_last: int | None = field(default=None, metadata={"help": "train only the last N conv/linear layers; earlier layers frozen, in eval mode"})
    bn_eval: bool = field(default=False, metadata={"help": "every BatchNorm in eval mode while training (the HOSVD paper's fine-tuning: true)"})
    dist_timeout_s: float = field(default=600.0, metadata={"help": "torchrun: seconds a collective waits for a rank that stopped answering (a dead one fails it at once)"})
    recompute: bool = field(default=False, metadata={"help": "keep only each spiking block's input for backward and recompute the block there (exact; engine/recompute.py); alias: compression.recompute"})
    threads: str = field(default="auto", metadata={"help": "intra-op CPU threads: auto (the CPUs this process may use, less those the load average keeps busy; engine/threads.py) or a count"})

    def __post_init__(self) -> None:
        require(self.max_epochs > 0, "trainer.max_epochs", self.max_epochs, "it must be > 0")
        one_of("trainer.device", self.device, ["auto", "cpu", "cuda"])
        one_of("trainer.precision", str(self.precision), ["32", "bf16", "16"])
        require(self.grad_clip is None or self.grad_clip > 0, "trainer.grad_clip", self.grad_clip, "null or > 0")
        require(self.limit_batches is None or self.limit_batches > 0, "trainer.limit_batches", self.limit_batches, "null or > 0")
        require(self.limit_eval_batches is None or self.limit_eval_batches > 0, "trainer.limit_eval_batches", self.limit_eval_batches, "null or > 0")
        require(self.keep_checkpoints >= 1, "trainer.keep_checkpoints", self.keep_checkpoints, "it must be >= 1")
        one_of("trainer.on_nonfinite", self.on_nonfinite, ["stop", "skip_batch"])
        positive("trainer.dist_timeout_s", self.dist_timeout_s)
        require(
            self.threads == "auto" or (self.threads.isdigit() and int(self.threads) >= 1), "trainer.threads", self.threads,
            "auto, or a number of threads >= 1",
        )
        require(self.finetune_last is None or self.finetune_last >= 1, "trainer.finetune_last", self.finetune_last, "null (train every layer) or >= 1")
        require(
            self.finetune_last is None or self.init_from is not None, "trainer.finetune_last", self.finetune_last,
            "fine-tuning needs the network to start from: set trainer.init_from=<checkpoint> (or finetune_last=null)",
        )

    def check_model(self, model: nn.Module) -> None:
        """Refuse a device that is not there and settings this model would ignore (before any data is read).

        ``bn_eval`` on a model without BatchNorm is only warned about: fine-tuning recipes set it
        whatever the network (scripts/benchsuites/hosvd_accuracy.py on the digits CNN).
        """
        from torch import nn

        from snntrain.engine.device import resolve_device

        resolve_device(self.device)
        if self.bn_eval and not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules()):
            log.warning("trainer.bn_eval=true has no effect: this model has no BatchNorm layer to keep in eval mode.")
        require(
            not self.channels_last or any(p.dim() == 4 for p in model.parameters()), "trainer.channels_last",
            self.channels_last, "it lays out convolutions, and this model has none; set it to false",
        )


@dataclass
class LoggerConfig:
    """The keys every ``logger=...`` has."""

    csv: bool = field(default=False, metadata={"help": "also metrics.csv (a row an epoch) and steps.csv (a row every log_every_n_steps) in the run dir"})
    log_every_n_steps: int = field(default=50, metadata={"help": "the per-step curve (train/loss_step): one point every N training steps"})
    plots: bool = field(default=True, metadata={"help": "plots/*.png beside metrics.json at the end (matplotlib: pip install -e .[report])"})

    def __post_init__(self) -> None:
        require(self.log_every_n_steps >= 1, "logger.log_every_n_steps", self.log_every_n_steps, "it must be >= 1")


@dataclass
class TensorBoardConfig(LoggerConfig):
    """``logger=tensorboard``: scalars, images and the HParams view under ``<run dir>/tensorboard``."""

    name: str = field(default="tensorboard", metadata={"help": "the option's name (logger=<name> selects it)"})
    subdir: str = field(default="tensorboard", metadata={"help": "the TensorBoard folder inside the run dir"})

    def __post_init__(self) -> None:
        super().__post_init__()
        path = PurePath(self.subdir)
        require(
            self.subdir.strip() != "" and not path.is_absolute() and ".." not in path.parts, "logger.subdir", self.subdir,
            "a folder inside the run dir, e.g. tensorboard (not empty, not absolute, no ..)",
        )


@dataclass
class NoLoggerConfig(LoggerConfig):
    """``logger=none``: console and train.log only (unless ``logger.csv`` or ``logger.plots`` is set)."""

    name: str = field(default="none", metadata={"help": "the option's name (logger=<name> selects it)"})
    plots: bool = False


@dataclass
class CSVConfig(LoggerConfig):
    """``logger=csv``: ``metrics.csv`` and ``steps.csv`` in the run dir, no TensorBoard."""

    name: str = field(default="csv", metadata={"help": "the option's name (logger=<name> selects it)"})
    csv: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.csv, "logger.csv", self.csv, "logger=csv writes the CSV files; for none, choose logger=none")


@dataclass
class WandbConfig(LoggerConfig):
    """``logger=wandb``: a Weights & Biases run, its files under ``<run dir>/wandb``."""

    name: str = field(default="wandb", metadata={"help": "the option's name (logger=<name> selects it)"})
    project: str = field(default="snntrain", metadata={"help": "the W&B project"})
    entity: str | None = field(default=None, metadata={"help": "the W&B team or user; null: the account's default"})
    mode: str = field(default="online", metadata={"help": "online | offline (sync later with `wandb sync`) | disabled"})

    def __post_init__(self) -> None:
        super().__post_init__()
        one_of("logger.mode", self.mode, ["online", "offline", "disabled"])


@dataclass
class MLflowConfig(LoggerConfig):
    """``logger=mlflow``: an MLflow run in ``experiment``, at ``tracking_uri``."""

    name: str = field(default="mlflow", metadata={"help": "the option's name (logger=<name> selects it)"})
    tracking_uri: str | None = field(default=None, metadata={"help": "e.g. file:///abs/path/mlruns or http://host:5000; null: MLflow's default (MLFLOW_TRACKING_URI)"})
    experiment: str = field(default="snntrain", metadata={"help": "the MLflow experiment"})
