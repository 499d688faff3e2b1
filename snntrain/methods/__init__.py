"""Gradient methods behind one interface: ``method=bptt|ratebp|onestep|hm2bp``."""

from snntrain.methods import bptt, hm2bp, onestep, ratebp  # noqa: F401  (registration)
from snntrain.methods.base import GradientMethod, StepResult

__all__ = ["GradientMethod", "StepResult"]
