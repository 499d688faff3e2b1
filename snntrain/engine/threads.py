"""How many intra-op threads a CPU run uses (``trainer.threads``).

torch starts one thread per CPU the machine has. On a shared machine that is the worst choice: a
thread that waits for a busy core stalls every parallel op at its barrier, and the default run took
1 min 48 s with 2 threads beside another busy process against 21 s with one (identical metrics).
``auto`` counts the CPUs this process may actually use — its affinity mask, capped by a cgroup CPU
quota (containers, Slurm) — and leaves out those the load average says are busy, with at least one.
An explicit ``OMP_NUM_THREADS`` (torchrun sets it to 1 per process) is the user's choice and wins.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


@dataclass(frozen=True)
class ThreadChoice:
    threads: int
    reason: str


def allowed_cpus() -> int:
    """CPUs in this process's affinity mask (all the machine's where there is no such mask)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def quota_cpus(cpu_max: Path = CGROUP_CPU_MAX) -> float | None:
    """The cgroup v2 CPU quota in CPUs (``cpu.max``: "<quota> <period>" or "max <period>"); None if unlimited or unreadable."""
    try:
        quota, period = cpu_max.read_text().split()[:2]
    except (OSError, ValueError):
        return None
    return None if quota == "max" else int(quota) / int(period)


def choose(setting: int | str, load: float | None = None, cpu_max: Path = CGROUP_CPU_MAX) -> ThreadChoice:
    """The thread count for ``trainer.threads`` = ``setting`` (``auto`` or a count) and why.

    ``load``: the 1-minute load average of the machine before training starts (read when None)."""
    if setting != "auto":
        return ThreadChoice(int(setting), f"trainer.threads={setting}")
    if os.environ.get("OMP_NUM_THREADS", "").isdigit():
        return ThreadChoice(max(1, int(os.environ["OMP_NUM_THREADS"])), "OMP_NUM_THREADS is set")
    cpus = allowed_cpus()
    quota = quota_cpus(cpu_max)
    usable = min(cpus, math.floor(quota)) if quota is not None else cpus
    load = os.getloadavg()[0] if load is None else load
    threads = max(1, min(usable, math.floor(usable - load + 0.75)))  # the cores left free: a core 3/4 idle counts
    where = f"{cpus} CPUs allowed" + (f", a cgroup quota of {quota:g}" if quota is not None else "")
    return ThreadChoice(threads, f"auto: {where}, load average {load:.1f}")
