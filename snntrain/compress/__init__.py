"""Compression schemes for saved activations: ``compression=none|bitpack|hosvd``."""

from snntrain.compress import base, bitpack, hosvd  # noqa: F401  (registration)
from snntrain.compress.base import Codec, SavedTensorMeter, StoredForm, saving

__all__ = ["Codec", "SavedTensorMeter", "StoredForm", "saving"]
