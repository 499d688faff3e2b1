"""Datasets (registered by name), encoders and the batch loader."""

from snntrain.data import digits, imagenet, synthetic, vision  # noqa: F401  (registration)
from snntrain.data.base import BatchLoader, DataBundle, DatasetInfo, Split
from snntrain.data.encoders import ENCODERS

__all__ = ["ENCODERS", "BatchLoader", "DataBundle", "DatasetInfo", "Split"]
