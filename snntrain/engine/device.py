"""``trainer.device`` resolved to a torch device."""

from __future__ import annotations

import torch

from snntrain.core.errors import SnntrainError


def resolve_device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise SnntrainError("trainer.device=cuda but no CUDA device is visible; use trainer.device=auto or cpu.")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)
