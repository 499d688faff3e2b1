"""Model builders, listed in ``core/catalog.py``: ``model=mlp|cnn|feedback|vgg11|resnet19|sew_resnet34``.

``SpikingNet`` is imported on first use, so that the schemas in ``config.py`` come without torch."""

from __future__ import annotations

from snntrain.core.lazy import lazy_attributes

__all__ = ["SpikingNet"]
__getattr__ = lazy_attributes(__name__, {"SpikingNet": "snntrain.models.base"})
