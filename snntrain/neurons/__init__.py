"""Spiking neurons and their state protocol (reset, detach)."""

from torch import nn


def reset_states(model: nn.Module) -> None:
    """Reset every stateful neuron in ``model`` (called by the framework before each batch)."""
    for module in model.modules():
        if getattr(module, "is_spiking", False):
            module.reset()


def detach_states(model: nn.Module) -> None:
    """Make every neuron's carried state a constant for the graph that follows."""
    for module in model.modules():
        if getattr(module, "is_spiking", False):
            module.detach_state()
