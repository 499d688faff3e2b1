"""Start-up: wall time of ``snntrain`` runs from process start, each a fresh subprocess.

* ``import``: ``python -c "import snntrain.cli.train"`` (torch, Hydra and the registrations);
* ``default run, first step``: ``make train``'s run (digits, spiking MLP, BPTT) cut to one training
  and one evaluation batch: the time to its first step, plus one evaluation;
* ``default run, 30 epochs``: ``make train``'s whole run (goal: under 20 s on an idle 2-core machine);
* ``conv run, first step``: the conv SNN (32C3-P2-64C3-P2, N-MNIST-sized synthetic input, T=8,
  batch 32), cut the same way; its LIF layers are large enough for ``neuron.backend=auto`` to compile
  them, once with an empty inductor cache (what a first run on a machine pays) and once again with
  the cache it left (every later run). The default runs get empty caches too: they should compile
  nothing.
Each row records the 1-minute load average before and after it.
Command: python scripts/bench.py startup [--skip-full]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SNNTRAIN = [sys.executable, "-m", "snntrain"]
QUIET = ["trainer.progress=false", "logger=none"]
ONE_STEP = ["trainer.max_epochs=1", "trainer.limit_batches=1", "trainer.limit_eval_batches=1"]
CONV = ["model=cnn", "model.spec=32C3-P2-64C3-P2", "dataset=synthetic", "dataset.input_shape=[2,34,34]",
        "dataset.batch_size=32", "dataset.train_size=64", "dataset.test_size=32", "T=8"]
DEFAULT_RUN_GOAL_S = 20.0


def add_arguments(parser) -> None:
    parser.add_argument("--skip-full", action="store_true", help="leave out the 30-epoch default run")


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> dict:
    """Wall seconds of ``command`` (which must succeed) and the load average around it."""
    before, start = os.getloadavg()[0], time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return {"wall_s": wall, "load_before": before, "load_after": os.getloadavg()[0]}


def run(args) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        # (measure, command, inductor cache): a cache of its own is an empty one, as on a new machine
        measures = [
            ("import snntrain.cli.train", [sys.executable, "-c", "import snntrain.cli"], "a"),
            ("default run, first step (+ 1 eval batch), empty inductor cache", [*SNNTRAIN, *QUIET, *ONE_STEP, "hydra.run.dir=b"], "b"),
            ("conv run, first step, empty inductor cache", [*SNNTRAIN, *QUIET, *ONE_STEP, *CONV, "hydra.run.dir=c"], "c"),
            ("conv run, first step, the cache the previous run left", [*SNNTRAIN, *QUIET, *ONE_STEP, *CONV, "hydra.run.dir=d"], "c"),
        ]
        if not args.skip_full:
            measures.append(("default run, 30 epochs (make train), empty inductor cache", [*SNNTRAIN, *QUIET, "hydra.run.dir=e"], "e"))
        for name, command, cache in measures:
            env = {**os.environ, "TORCHINDUCTOR_CACHE_DIR": str(root / f"inductor-{cache}")}
            row = {"measure": name, **timed(command, root, env)}
            if name.startswith("default run, 30"):
                row.update(goal_s=DEFAULT_RUN_GOAL_S, goal_met=row["wall_s"] < DEFAULT_RUN_GOAL_S)
            rows.append(row)
    return rows
