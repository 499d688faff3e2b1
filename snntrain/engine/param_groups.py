"""``optimizer.no_decay``: which parameters the optimizer's weight decay leaves alone.

Each entry of ``no_decay`` is matched against every parameter of ``model.named_parameters()``:

* ``bias``: a parameter whose own name (the last part of its dotted name) is ``bias``: the
  biases of convolutions and linear layers, and normalisation layers' β;
* ``norm``: every parameter held by a normalisation layer (BatchNorm, SyncBatchNorm,
  InstanceNorm, LayerNorm, GroupNorm, RMSNorm): γ and β;
* anything else: the full dotted name of one parameter, exactly (e.g. ``body.10.weight``).

The official rate-BP code (``util/util.py`` ``split_params``) decays conv and linear weights
only: ``no_decay=[bias, norm]``. A kind that matches nothing in a model (``norm`` without
normalisation layers) is allowed; a name that is neither a kind nor a parameter is a ConfigError.
"""

from __future__ import annotations

from typing import Any

from torch import nn
from torch.nn.modules.batchnorm import _NormBase

from snntrain.core.errors import ConfigError

NORM_LAYERS = (_NormBase, nn.LayerNorm, nn.GroupNorm, nn.RMSNorm)
NO_DECAY_KINDS = ["bias", "norm"]


def no_decay_names(model: nn.Module, no_decay: list[str]) -> set[str]:
    """The names of the parameters of ``model`` that ``no_decay`` selects (module docstring)."""
    names = [name for name, _ in model.named_parameters()]
    unknown = [entry for entry in no_decay if entry not in NO_DECAY_KINDS and entry not in names]
    if unknown:
        example = names[0] if names else "body.0.weight"
        raise ConfigError(
            f"optimizer.no_decay={list(no_decay)!r} is not allowed: {unknown} are neither kinds {NO_DECAY_KINDS} "
            f"nor parameter names of this model (full dotted names as model.named_parameters() gives them, e.g. {example!r})."
        )
    selected = {name for name in no_decay if name in names}
    if "bias" in no_decay:
        selected |= {name for name in names if name.rsplit(".", 1)[-1] == "bias"}
    if "norm" in no_decay:
        for prefix, module in model.named_modules():
            if isinstance(module, NORM_LAYERS):
                selected |= {f"{prefix}.{name}" if prefix else name for name, _ in module.named_parameters(recurse=False)}
    return selected


def weight_decay_groups(model: nn.Module, weight_decay: float, no_decay: list[str]) -> list[dict[str, Any]]:
    """Optimizer parameter groups: every parameter not in ``no_decay`` with ``weight_decay``, then
    those in it with 0 (the official rate-BP order); empty groups are left out. Each group holds
    ``(name, parameter)`` pairs, so the optimizer's state dict records the names (checked on resume).
    Frozen parameters (``requires_grad=False``: ``trainer.finetune_last``) are in no group."""
    excluded = no_decay_names(model, no_decay)
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    groups = [
        {"params": [(n, p) for n, p in named if n not in excluded], "weight_decay": weight_decay},
        {"params": [(n, p) for n, p in named if n in excluded], "weight_decay": 0.0},
    ]
    return [group for group in groups if group["params"]]
