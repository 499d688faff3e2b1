"""HM2-BP (METHODS.md §5): S-PSP kernel (psp), layer rules (rules), output terms (output),
autograd stages (stage), the method itself (method) and its config schema (config, torch-free).

``HM2BP`` is imported on first use, so that the schema comes without torch."""

from __future__ import annotations

from snntrain.core.lazy import lazy_attributes
from snntrain.methods.hm2bp.config import HM2BPConfig

__all__ = ["HM2BP", "HM2BPConfig"]
__getattr__ = lazy_attributes(__name__, {"HM2BP": "snntrain.methods.hm2bp.method"})
