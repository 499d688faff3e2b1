"""Model builders, listed in ``core/catalog.py``: ``model=mlp|cnn|feedback|vgg11|resnet19|sew_resnet34``.

``SpikingNet`` is imported on first use, so that the schemas in ``config.py`` come without torch."""

from __future__ import annotations

import importlib

__all__ = ["SpikingNet"]


def __getattr__(name: str):
    if name == "SpikingNet":
        return importlib.import_module("snntrain.models.base").SpikingNet
    raise AttributeError(f"module 'snntrain.models' has no attribute {name!r}")
