"""Exporting trained networks to other tools: NIR graphs (``snntrain-export``; needs the ``nir`` extra).

This module imports without the extra: it tells the user which extra to install.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from snntrain.core.errors import SnntrainError


def require_nir(what: str) -> None:
    """A SnntrainError naming the extra to install unless the ``nir`` package imports."""
    try:
        import nir  # noqa: F401
    except ImportError as err:
        raise SnntrainError(f"{what} needs the nir package ({err}). Install it with: pip install -e .[nir]  (or pip install 'snntrain[nir]')") from None


def nir_weights(model: nn.Module, path: Path) -> dict[str, torch.Tensor]:
    """``model``'s state dict from the NIR graph in ``path`` (``trainer.init_from=model.nir``; see from_nir.weights_for)."""
    require_nir(f"trainer.init_from={path}")
    from snntrain.export.from_nir import weights_for

    return weights_for(model, path)
