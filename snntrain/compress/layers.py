"""Which layer of the model is running: the context a codec needs to tell saved tensors apart.

Autograd's pack hook sees only a tensor. ``LayerTracker`` registers forward pre/post hooks on
every submodule of the model; they push and pop the module's name, so the innermost running
module (the one whose forward saved the tensor) is known when the pack hook fires.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from torch import nn
from torch.utils.hooks import RemovableHandle

OUTSIDE = "outside"
"""The layer name of tensors saved outside every module of the model (the loss, a method's own ops)."""


class LayerTracker:
    """Keeps the names of the modules of ``model`` whose forward is running, innermost last."""

    def __init__(self, model: nn.Module) -> None:
        self._running: list[str] = []
        self._handles: list[RemovableHandle] = []
        self._names: dict[nn.Module, str] = {}
        for name, module in model.named_modules():
            if name:
                self._names[module] = name
                self._handles.append(module.register_forward_pre_hook(self._enter(name)))
                self._handles.append(module.register_forward_hook(self._leave, always_call=True))

    def _enter(self, name: str):
        def hook(module, args):
            self._running.append(name)

        return hook

    def _leave(self, module, args, output) -> None:
        self._running.pop()

    @property
    def current(self) -> str | None:
        """The innermost running module's name (as in ``named_modules``), or None outside the model."""
        return self._running[-1] if self._running else None

    @contextmanager
    def inside(self, module: nn.Module) -> Iterator[None]:
        """Within the block, ``module`` counts as running (for work done on its behalf outside its forward)."""
        self._running.append(self._names[module])
        try:
            yield
        finally:
            self._running.pop()

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
