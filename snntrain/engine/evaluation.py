"""Scoring a model on an evaluation split: the loop the trainer runs after every epoch, and
``snntrain-eval`` and ``snntrain.evaluate`` run on a checkpoint."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager

import torch
from torch import nn

from snntrain.core.method import GradientMethod
from snntrain.core.spiking import reset_states


@torch.no_grad()
def correct_and_seen(
    model: nn.Module, method: GradientMethod, batches: Iterable[tuple[torch.Tensor, torch.Tensor]],
    inputs: Callable[[torch.Tensor], torch.Tensor], autocast: Callable[[], AbstractContextManager],
) -> tuple[int, int]:
    """(correctly classified, seen) over ``batches`` of (stored inputs, labels): the model in eval
    mode, its neurons reset before each batch, the class scores ``method.predict`` gives for
    ``inputs(x)`` (the model's time-major input) under ``autocast()``."""
    model.eval()
    correct = seen = 0
    for x, y in batches:
        reset_states(model)
        with autocast():
            scores = method.predict(model, inputs(x))
        correct += int((scores.argmax(1).cpu() == y).sum())
        seen += len(y)
    return correct, seen
