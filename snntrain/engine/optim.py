"""Optimisers and learning-rate schedules, registered by name.

Every optimizer is built from the model, not a parameter list: ``optimizer.no_decay`` splits its
parameters into a decayed and an undecayed group (``engine.param_groups``).
"""

from __future__ import annotations

import logging
import math
from bisect import bisect_right
from dataclasses import dataclass, field

import torch
from torch import nn

from snntrain.core.checks import positive, require
from snntrain.engine.param_groups import weight_decay_groups

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


def build_adam(cfg: AdamConfig, model: nn.Module) -> torch.optim.Optimizer:
    return torch.optim.Adam(weight_decay_groups(model, cfg.weight_decay, cfg.no_decay), lr=cfg.lr, betas=tuple(cfg.betas))


def build_adamw(cfg: AdamWConfig, model: nn.Module) -> torch.optim.Optimizer:
    return torch.optim.AdamW(weight_decay_groups(model, cfg.weight_decay, cfg.no_decay), lr=cfg.lr, betas=tuple(cfg.betas))


def build_sgd(cfg: SGDConfig, model: nn.Module) -> torch.optim.Optimizer:
    return torch.optim.SGD(weight_decay_groups(model, cfg.weight_decay, cfg.no_decay), lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov)


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


class MultiStepWarmup(torch.optim.lr_scheduler.LRScheduler):
    """lr = base · gamma^(milestones reached) · min(1, (i + 1) / warmup_iters) for training step i.

    ``step()`` once per epoch (the trainer's), ``step_batch()`` after every training step (the
    warm-up's clock, kept in ``state_dict`` so a resumed run continues it). The warm-up is the
    official IDE CIFAR scripts': ``lr·(citer + 1)/warmup`` before each of the first ``warmup`` steps.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, milestones: list[int], gamma: float, warmup_iters: int) -> None:
        self.milestones, self.gamma, self.warmup_iters = list(milestones), gamma, warmup_iters
        self.iteration = 0
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        decay = self.gamma ** bisect_right(self.milestones, self.last_epoch)
        warm = min(1.0, (self.iteration + 1) / self.warmup_iters) if self.warmup_iters else 1.0
        return [base * decay * warm for base in self.base_lrs]

    def step_batch(self) -> None:
        """One training step done: move the warm-up on (a no-op once it is over)."""
        if self.iteration < self.warmup_iters:
            self.iteration += 1
            for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
                group["lr"] = lr


@dataclass
class InvSqrtConfig:
    """``scheduler=inv_sqrt``: lr / sqrt(epoch + 1), the HM2-BP recipe."""

    name: str = field(default="inv_sqrt", metadata={"help": "the option's name (scheduler=<name> selects it)"})



def build_none(cfg, optimizer, epochs: int):
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: 1.0)


def build_cosine(cfg: CosineConfig, optimizer, epochs: int):
    lr = optimizer.param_groups[0]["lr"]
    require(cfg.eta_min <= lr, "scheduler.eta_min", cfg.eta_min, f"the schedule anneals down to it from optimizer.lr={lr}: it must not exceed that")
    return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(epochs, 1), eta_min=cfg.eta_min)


def warn_unreached(key: str, epochs: list[int], max_epochs: int) -> None:
    """Say which of a schedule's decay ``epochs`` this run of ``max_epochs`` never reaches (its settings
    would be silently ignored); a longer or resumed run may still reach them, so this is a warning."""
    late = [e for e in epochs if e >= max_epochs]
    if late:
        log.warning(f"{key}={late if len(epochs) > 1 else late[0]} has no effect in this run: trainer.max_epochs={max_epochs} ends before it.")


def build_step(cfg: StepConfig, optimizer, epochs: int):
    warn_unreached("scheduler.step_size", [cfg.step_size], epochs)
    return torch.optim.lr_scheduler.StepLR(optimizer, step_size=cfg.step_size, gamma=cfg.gamma)


def build_multistep(cfg: MultiStepConfig, optimizer, epochs: int):
    warn_unreached("scheduler.milestones", cfg.milestones, epochs)
    return MultiStepWarmup(optimizer, cfg.milestones, cfg.gamma, cfg.warmup_iters)


def build_inv_sqrt(cfg: InvSqrtConfig, optimizer, epochs: int):
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: 1.0 / math.sqrt(epoch + 1))
