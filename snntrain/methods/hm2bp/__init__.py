"""HM2-BP (METHODS.md §5): S-PSP kernel (psp), layer rules (rules), output terms (output),
autograd stages (stage) and the method itself (method)."""

from snntrain.methods.hm2bp.method import HM2BP, HM2BPConfig

__all__ = ["HM2BP", "HM2BPConfig"]
