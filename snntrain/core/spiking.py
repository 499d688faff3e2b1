"""The spiking-module protocol: a layer with state carried across calls, which the framework resets.

In the spirit of SpikingJelly's ``MemoryModule``: a ``SpikingModule`` declares each piece of state
with ``register_state(name)``; the framework (never the user) calls ``reset_states(model)`` before
every batch, and a method that cuts the graph between calls uses ``detach_states``. ``snapshot`` and
``restore`` give the state back exactly, so that a forward can be recomputed from where it started
(``trainer.recompute``).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


class SpikingModule(nn.Module):
    """A module whose registered state persists across calls until ``reset()``.

    State is ``None`` after a reset; a subclass sets it in ``forward``. Values may be tensors or
    objects of tensors (a dataclass of tensors, a list): ``detach_state`` detaches every tensor found.
    """

    def __init__(self) -> None:
        super().__init__()
        self._state_names: list[str] = []

    def register_state(self, name: str) -> None:
        """Declare attribute ``name`` as carried state (``None`` until the first call after a reset)."""
        self._state_names.append(name)
        setattr(self, name, None)

    @property
    def state_names(self) -> tuple[str, ...]:
        return tuple(self._state_names)

    def reset(self) -> None:
        """Forget the carried state (before a new batch)."""
        for name in self._state_names:
            setattr(self, name, None)

    def detach_state(self) -> None:
        """Make the carried state a constant for the graph that follows."""
        for name in self._state_names:
            setattr(self, name, _map_tensors(getattr(self, name), torch.Tensor.detach))

    def snapshot(self) -> dict[str, Any]:
        """The carried state as it is now; ``restore`` puts it back (tensors are shared, not copied:
        a forward replaces state, it never writes into it)."""
        return {name: getattr(self, name) for name in self._state_names}

    def restore(self, snapshot: dict[str, Any]) -> None:
        for name, value in snapshot.items():
            setattr(self, name, value)


def _map_tensors(value: Any, fn) -> Any:
    if value is None:
        return None
    if isinstance(value, torch.Tensor):
        return fn(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_map_tensors(v, fn) for v in value)
    if hasattr(value, "__dataclass_fields__"):
        return type(value)(**{k: _map_tensors(getattr(value, k), fn) for k in value.__dataclass_fields__})
    return value


def spiking_modules(model: nn.Module) -> list[SpikingModule]:
    return [m for m in model.modules() if isinstance(m, SpikingModule)]


def reset_states(model: nn.Module) -> None:
    """Reset every spiking module of ``model`` (the framework calls it before each batch)."""
    for module in spiking_modules(model):
        module.reset()


def detach_states(model: nn.Module) -> None:
    """Make every spiking module's carried state a constant for the graph that follows."""
    for module in spiking_modules(model):
        module.detach_state()
