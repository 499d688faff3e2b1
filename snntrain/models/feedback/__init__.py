"""``model=feedback``: feedback (implicit) spiking networks as the official IDE code builds them.

The network is imported on first use, so that the schema in ``config.py`` comes without torch."""

from __future__ import annotations

import importlib

from snntrain.models.feedback.config import FeedbackConfig

__all__ = ["FeedbackBlock", "FeedbackConfig", "build_feedback"]
_LAZY = {"FeedbackBlock": "snntrain.models.feedback.block", "build_feedback": "snntrain.models.feedback.model"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'snntrain.models.feedback' has no attribute {name!r}")
