"""A warning, early in the first epoch, when an epoch on the CPU is on course to take over an hour.

HM2-BP's N-MNIST row at T = 540 ran at 0.63 samples/s on a loaded 2-core CPU: about 26 hours an
epoch, which nothing said. The estimate is the measured time per step (from the end of the first
step, which compiles and warms caches, over the next ``MEASURED_STEPS``) times the epoch's steps.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import torch

SLOW_EPOCH_S = 3600.0
MEASURED_STEPS = 3


class EpochEstimate:
    """Call ``step_done()`` after every training step of an epoch of ``steps`` steps; once, after the
    measured steps, ``warn`` gets one message if the epoch would take more than ``SLOW_EPOCH_S``."""

    def __init__(self, steps: int, device: torch.device, warn: Callable[[str], None]) -> None:
        self.steps, self.warn = steps, warn
        self.done = 0
        self.start: float | None = None
        self.active = device.type == "cpu" and steps > 1 + MEASURED_STEPS

    def step_done(self) -> None:
        if not self.active:
            return
        self.done += 1
        if self.done == 1:
            self.start = time.perf_counter()
            return
        if self.done == 1 + MEASURED_STEPS:
            self.active = False
            per_step = (time.perf_counter() - self.start) / MEASURED_STEPS
            epoch = per_step * self.steps
            if epoch > SLOW_EPOCH_S:
                self.warn(
                    f"an epoch is on course to take about {epoch / 3600:.1f} h on the CPU ({self.steps:,} steps of "
                    f"{per_step:.2f} s, measured over {MEASURED_STEPS} steps). A GPU (trainer.device=cuda), fewer "
                    "time steps (T) or trainer.limit_batches shorten it; with many small per-step ops, "
                    "OMP_NUM_THREADS=1 can be faster on a loaded machine."
                )
