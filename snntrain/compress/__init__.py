"""Compression schemes for saved activations: ``compression=none|bitpack|hosvd``, listed in
``core/catalog.py``.

The names below are imported on first use, so that the schemas in ``config.py`` come without torch."""

from __future__ import annotations

from snntrain.core.lazy import lazy_attributes

__all__ = ["Codec", "SavedTensorMeter", "StoredForm", "saving"]
__getattr__ = lazy_attributes(__name__, dict.fromkeys(__all__, "snntrain.compress.base"))
