"""Datasets (listed in ``core/catalog.py``), encoders and the batch loader.

The names below are imported on first use, so that the schemas in ``config.py`` come without torch."""

from __future__ import annotations

from snntrain.core.lazy import lazy_attributes

__all__ = ["ENCODERS", "BatchLoader", "DataBundle", "DatasetInfo", "Split"]
_LAZY = {
    "ENCODERS": "snntrain.data.encoders",
    "BatchLoader": "snntrain.data.loading",
    "DataBundle": "snntrain.data.base",
    "DatasetInfo": "snntrain.data.base",
    "Split": "snntrain.data.base",
}
__getattr__ = lazy_attributes(__name__, _LAZY)
