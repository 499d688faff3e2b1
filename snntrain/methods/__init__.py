"""Gradient methods behind one interface: ``method=bptt|ratebp|onestep`` (registered by their modules)."""

from snntrain.methods import bptt, onestep, ratebp  # noqa: F401  (registration)
from snntrain.methods.base import GradientMethod, StepResult

__all__ = ["GradientMethod", "StepResult"]
