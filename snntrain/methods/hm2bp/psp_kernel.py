"""The constants of HM2-BP's S-PSP, which the torch scans (``psp``) and the Triton kernel
(``psp_triton``) both read."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class PSPKernel:
    """Constants of the S-PSP, in steps: neuron time constants, refractory period, window and
    presynaptic delay (0: the paper's formula; t_ref: the official code's)."""

    tau_m: float
    tau_s: float
    t_ref: int
    window: int
    delay: int = 0

    def epsilon(self, x: torch.Tensor) -> torch.Tensor:
        """The PSP kernel eps(x) of a spike x steps ago."""
        return (torch.exp(-x / self.tau_m) - torch.exp(-x / self.tau_s)) / (1.0 - self.tau_s / self.tau_m)


NEVER = 1.0e6
"""The "steps since the last spike" of a neuron that has not spiked yet."""
