"""Optimisers and learning-rate schedules, registered by name.

Every optimizer is built from the model, not a parameter list: ``optimizer.no_decay`` splits its
parameters into a decayed and an undecayed group (``engine.param_groups``).
"""

from __future__ import annotations

import logging
import math
from bisect import bisect_right

import torch
from torch import nn

from snntrain.core.checks import require
from snntrain.engine.config import (
    AdamConfig,
    AdamWConfig,
    CosineConfig,
    InvSqrtConfig,
    MultiStepConfig,
    SGDConfig,
    StepConfig,
)
from snntrain.engine.param_groups import weight_decay_groups

log = logging.getLogger("snntrain")


def build_adam(cfg: AdamConfig, model: nn.Module) -> torch.optim.Optimizer:
    return torch.optim.Adam(weight_decay_groups(model, cfg.weight_decay, cfg.no_decay), lr=cfg.lr, betas=tuple(cfg.betas))


def build_adamw(cfg: AdamWConfig, model: nn.Module) -> torch.optim.Optimizer:
    return torch.optim.AdamW(weight_decay_groups(model, cfg.weight_decay, cfg.no_decay), lr=cfg.lr, betas=tuple(cfg.betas))


def build_sgd(cfg: SGDConfig, model: nn.Module) -> torch.optim.Optimizer:
    return torch.optim.SGD(weight_decay_groups(model, cfg.weight_decay, cfg.no_decay), lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov)


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
