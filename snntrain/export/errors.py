"""The error ``snntrain-export`` shows in one line: the layer NIR cannot express, and the fix."""

from __future__ import annotations

from snntrain.core.errors import SnntrainError


class NIRExportError(SnntrainError):
    """A model, layer or NIR graph that has no exact counterpart on the other side (exit status 2)."""
