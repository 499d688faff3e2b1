"""Datasets (registered by name), encoders and the batch loader."""

from snntrain.data import digits, imagenet, synthetic, vision  # noqa: F401  (registration)
from snntrain.data.base import DataBundle, DatasetInfo, Split
from snntrain.data.encoders import ENCODERS
from snntrain.data.loading import BatchLoader

__all__ = ["ENCODERS", "BatchLoader", "DataBundle", "DatasetInfo", "Split"]
