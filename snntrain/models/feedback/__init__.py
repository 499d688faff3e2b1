"""``model=feedback``: feedback (implicit) spiking networks as the official IDE code builds them."""

from snntrain.models.feedback.block import FeedbackBlock
from snntrain.models.feedback.model import FeedbackConfig, build_feedback

__all__ = ["FeedbackBlock", "FeedbackConfig", "build_feedback"]
