"""Fine-tuning from another run: its weights, then only the last N conv/linear layers trained.

This is the protocol of the HOSVD paper's official code (Nguyen et al., NeurIPS 2024,
``classification/model.py``): every leaf module before the first of the last N conv layers is
frozen (``requires_grad=False``) and put in eval mode, so its BatchNorm statistics stay those of
the pretrained network; ``set_bn_eval`` there puts every BatchNorm in eval mode while training
(``trainer.bn_eval``). snntrain counts conv and linear layers alike, since spiking networks end in
fully connected layers (the official networks end in one classifier, which it always trains).

    snntrain ... trainer.init_from=outputs/pre/checkpoints/best.pt trainer.finetune_last=2 trainer.bn_eval=true
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from snntrain.core.errors import ConfigError
from snntrain.engine import checkpoint
from snntrain.layers import weight_layers


def frozen_modules(model: nn.Module, last: int | None) -> list[str]:
    """The leaf modules that come before the first of the last ``last`` conv/linear layers (none
    when ``last`` is None). A ConfigError when the model has fewer than ``last`` such layers."""
    if last is None:
        return []
    layers = weight_layers(model)
    if last > len(layers):
        raise ConfigError(
            f"trainer.finetune_last={last} is not allowed: this model has {len(layers)} conv/linear layers "
            f"({', '.join(layers)}); choose 1..{len(layers)} (or null to train every layer)."
        )
    first = layers[-last]
    frozen = []
    for name, module in model.named_modules():
        if name == first:
            break
        if name and not any(True for _ in module.children()):
            frozen.append(name)
    return frozen


WeightReader = Callable[[nn.Module, Path], dict[str, torch.Tensor]]


def read_checkpoint_weights(model: nn.Module, path: Path) -> dict[str, torch.Tensor]:
    """The model weights of the snntrain checkpoint at ``path``."""
    return checkpoint.load(path)["model"]


def prepare(model: nn.Module, init_from: str | None, last: int | None, read_weights: WeightReader = read_checkpoint_weights) -> None:
    """Load the weights ``read_weights`` finds in ``init_from`` (if given) and freeze what ``last`` leaves out.

    ``read_weights(model, path)``: a state dict for ``model`` from the file (a checkpoint by default; the
    composition root passes one that also reads NIR graphs)."""
    frozen = frozen_modules(model, last)  # a layer count the model cannot meet fails before any file is read
    if init_from is not None:
        path = Path(init_from).expanduser()
        weights = read_weights(model, path)
        checkpoint.check_compatible(model, weights, path)
        model.load_state_dict(weights)
    modules = dict(model.named_modules())
    for name in frozen:
        for parameter in modules[name].parameters():
            parameter.requires_grad_(False)


def training_mode(model: nn.Module, frozen: list[str], bn_eval: bool) -> None:
    """``model.train()``, except the frozen modules and (with ``bn_eval``) every BatchNorm, which
    stay in eval mode: their running statistics do not move."""
    model.train()
    modules = dict(model.named_modules())
    for name in frozen:
        modules[name].eval()
    if bn_eval:
        for module in model.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.eval()
