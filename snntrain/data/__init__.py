"""Datasets (listed in ``core/catalog.py``), encoders and the batch loader.

The names below are imported on first use, so that the schemas in ``config.py`` come without torch."""

from __future__ import annotations

import importlib

__all__ = ["ENCODERS", "BatchLoader", "DataBundle", "DatasetInfo", "Split"]
_LAZY = {
    "ENCODERS": "snntrain.data.encoders",
    "BatchLoader": "snntrain.data.loading",
    "DataBundle": "snntrain.data.base",
    "DatasetInfo": "snntrain.data.base",
    "Split": "snntrain.data.base",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'snntrain.data' has no attribute {name!r}")
