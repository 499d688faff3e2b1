"""Compression schemes for saved activations: ``compression=none|bitpack|hosvd``, listed in
``core/catalog.py``.

The names below are imported on first use, so that the schemas in ``config.py`` come without torch."""

from __future__ import annotations

import importlib

__all__ = ["Codec", "SavedTensorMeter", "StoredForm", "saving"]


def __getattr__(name: str):
    if name in __all__:
        return getattr(importlib.import_module("snntrain.compress.base"), name)
    raise AttributeError(f"module 'snntrain.compress' has no attribute {name!r}")
