"""HM2-BP (METHODS.md §5): S-PSP kernel (psp), layer rules (rules), output terms (output),
autograd stages (stage), the method itself (method) and its config schema (config, torch-free).

``HM2BP`` is imported on first use, so that the schema comes without torch."""

from __future__ import annotations

import importlib

from snntrain.methods.hm2bp.config import HM2BPConfig

__all__ = ["HM2BP", "HM2BPConfig"]


def __getattr__(name: str):
    if name == "HM2BP":
        return importlib.import_module("snntrain.methods.hm2bp.method").HM2BP
    raise AttributeError(f"module 'snntrain.methods.hm2bp' has no attribute {name!r}")
