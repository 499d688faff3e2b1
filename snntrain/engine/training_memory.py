"""Memory during training: the peak, and how much training added to what was in use when it began.

CUDA: torch's allocated bytes; the peak is reset when training begins. CPU: the process's resident
set, most of which is there before training begins (torch and the libraries it loads, a dataset
held in memory), so the peak alone says little about what training takes; the growth does. On
Linux the peak (VmHWM) is reset when training begins (``/proc/self/clear_refs``), so it is the peak
during training. Elsewhere it is ``ru_maxrss``, the peak over the process's life, and the growth is
not measured. (Linux's ``ru_maxrss`` is no use here: it never falls below the resident set of the
process that started this one, which is most of it for ``snntrain`` started from Python.)
"""

from __future__ import annotations

import resource
from pathlib import Path

import torch

PROC = Path("/proc/self")


def status_bytes(key: str) -> int | None:
    """A ``/proc/self/status`` figure (VmRSS, VmHWM) in bytes; None where there is no such figure."""
    try:
        lines = (PROC / "status").read_text().splitlines()
    except OSError:
        return None
    return next((int(line.split()[1]) * 1024 for line in lines if line.startswith(key + ":")), None)


def _reset_peak_resident() -> bool:
    """Set the peak resident set (VmHWM) to the resident set now; whether that was possible."""
    try:
        (PROC / "clear_refs").write_text("5")
    except OSError:
        return False
    return True


class TrainingMemory:
    """Started when training begins: ``peak()`` the most memory in use since, ``growth()`` that
    peak less what was in use at the start (None where it cannot be measured)."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
            self.start: int | None = int(torch.cuda.memory_allocated(device))
        else:
            self.start = status_bytes("VmRSS") if _reset_peak_resident() else None

    def peak(self) -> int:
        """CUDA: the most bytes allocated; CPU: the peak resident set size."""
        if self.device.type == "cuda":
            return int(torch.cuda.max_memory_allocated(self.device))
        return status_bytes("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    def growth(self) -> int | None:
        return None if self.start is None else max(self.peak() - self.start, 0)
