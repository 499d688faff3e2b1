"""Gradient methods behind one interface: ``method=bptt|hm2bp`` (more are registered by their modules)."""

from snntrain.methods import bptt, hm2bp  # noqa: F401  (registration)
from snntrain.methods.base import GradientMethod, StepResult

__all__ = ["GradientMethod", "StepResult"]
