"""Model builders, registered by name: ``model=mlp|cnn|feedback|vgg11|resnet19|sew_resnet34``."""

from snntrain.models import cnn, feedback, mlp, resnet, vgg  # noqa: F401  (registration)
from snntrain.models.base import SpikingNet

__all__ = ["SpikingNet"]
