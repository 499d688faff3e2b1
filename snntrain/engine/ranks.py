"""This process's place in a torchrun job, from its environment: no torch, so that the CLI can read it
before Hydra composes (the process group itself is ``distributed.py``'s)."""

from __future__ import annotations

import os


def env_rank() -> tuple[int, int, int]:
    """``(rank, local_rank, world_size)`` from torchrun's environment; ``(0, 0, 1)`` without it."""
    return int(os.environ.get("RANK", 0)), int(os.environ.get("LOCAL_RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))


def rank_overrides() -> list[str]:
    """Hydra overrides that keep ranks > 0 from writing ``.hydra/`` and ``train.log``."""
    if env_rank()[0] == 0:
        return []
    return ["hydra.output_subdir=null", "hydra/job_logging=disabled", "hydra/hydra_logging=disabled"]
