"""Model builders, registered by name: ``model=mlp|cnn``."""

from snntrain.models import cnn, mlp  # noqa: F401  (registration)
from snntrain.models.base import SpikingNet

__all__ = ["SpikingNet"]
