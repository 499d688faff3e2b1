"""``model=feedback``: feedback (implicit) spiking networks as the official IDE code builds them.

The network is imported on first use, so that the schema in ``config.py`` comes without torch."""

from __future__ import annotations

from snntrain.core.lazy import lazy_attributes
from snntrain.models.feedback.config import FeedbackConfig

__all__ = ["FeedbackBlock", "FeedbackConfig", "build_feedback"]
_LAZY = {"FeedbackBlock": "snntrain.models.feedback.block", "build_feedback": "snntrain.models.feedback.model"}
__getattr__ = lazy_attributes(__name__, _LAZY)
