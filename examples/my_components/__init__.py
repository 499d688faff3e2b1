"""An example of a user's own snntrain components, kept outside the snntrain package.

    PYTHONPATH=examples snntrain model._target_=my_components.TinyNet

See README.md here and docs/extending.md.
"""

from my_components.method import LabelSmoothingBPTT, LabelSmoothingConfig
from my_components.model import TinyNet, TinyNetConfig

__all__ = ["LabelSmoothingBPTT", "LabelSmoothingConfig", "TinyNet", "TinyNetConfig"]
