"""A gradient method of one's own: BPTT with a label-smoothed cross-entropy."""

from __future__ import annotations

from dataclasses import dataclass

import torch.nn.functional as F

from snntrain.core.checks import require
from snntrain.core.method import GradientMethod, StepResult, plain_backward


@dataclass
class LabelSmoothingConfig:
    """``method=label_smoothing`` (examples/configs/method/label_smoothing.yaml)."""

    name: str = "label_smoothing"
    smoothing: float = 0.1

    def __post_init__(self) -> None:
        require(0.0 <= self.smoothing < 1.0, "method.smoothing", self.smoothing, "it must be in [0, 1)")


class LabelSmoothingBPTT(GradientMethod):
    """Backpropagation through time, the loss cross-entropy against labels smoothed by ``cfg.smoothing``.

    Built as every method is, ``LabelSmoothingBPTT(cfg, T)``; the trainer calls ``step`` once per batch
    (neurons reset) and ``predict`` to evaluate (``GradientMethod``'s: the time-averaged output).
    """

    name = "label_smoothing"
    config_class = LabelSmoothingConfig

    def loss(self, scores, y):
        return F.cross_entropy(scores, y, label_smoothing=self.cfg.smoothing)

    def step(self, model, x, y, backward=plain_backward) -> StepResult:
        scores = self.scores(model(x))
        loss = self.loss(scores, y)
        backward(loss)
        return StepResult(loss.detach(), scores.detach())
