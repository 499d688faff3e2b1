"""Backpropagation through time with surrogate gradients (METHODS.md §2).

All T steps are unrolled under autograd; stateless layers run once on the merged T*B batch,
so memory grows linearly with T.
"""

from __future__ import annotations

from snntrain.core.method import GradientMethod, StepResult, plain_backward
from snntrain.methods.configs import BPTTConfig


class BPTT(GradientMethod):
    name = "bptt"

    def step(self, model, x, y, backward=plain_backward) -> StepResult:
        scores = self.scores(model(x))
        loss = self.loss(scores, y)
        backward(loss)
        return StepResult(loss.detach(), scores.detach())


def build_bptt(cfg: BPTTConfig, T: int) -> BPTT:
    return BPTT(cfg, T)
