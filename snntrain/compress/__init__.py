"""Compression schemes for saved activations: ``compression=none`` (and more, registered)."""

from snntrain.compress import base  # noqa: F401  (registration)
from snntrain.compress.base import Codec, SavedTensorMeter, saving

__all__ = ["Codec", "SavedTensorMeter", "saving"]
