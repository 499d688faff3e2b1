"""Per-step training-loss curves: the cases, and the one runner the recorder and the test share.

``scripts/record_loss_curves.py`` writes ``loss_curves/<case>.json``; ``test_loss_curves.py`` re-runs
each case and compares step by step. Only this module knows how a run is composed, built and
observed: when the package's import paths change, the imports below are all that change.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import torch

from snntrain.app import make_trainer  # builds the Trainer that ``train`` fits
from tests.conftest import compose_config

FOLDER = Path(__file__).resolve().parent / "loss_curves"
THREADS = 1  # intra-op threads of every recorded and re-run curve: a reduction's order depends on it

# Two epochs of 10 steps (digits: batch 32, direct input), so that the curve also crosses an epoch
# boundary (the schedule's step, evaluation in between, the loader's reshuffle). Small networks, short T:
# each case takes a second or two on one CPU thread.
SHORT = ["dataset=digits", "trainer.max_epochs=2", "trainer.limit_batches=10", "trainer.limit_eval_batches=1",
         "trainer.device=cpu", "trainer.progress=false", "logger=none", "seed=0"]
# lr 1e-2 (Adam), not the default 1e-3: the loss then falls from 2.31 to about 1.7 in the 20 steps, so the
# curve records learning and not only the initialisation.
SMALL_LIF = ["model.hidden=[32]", "T=4", "optimizer.lr=1e-2"]

CASES: dict[str, list[str]] = {
    "bptt": ["method=bptt", *SMALL_LIF],
    "ratebp": ["method=ratebp", *SMALL_LIF],
    "onestep": ["method=onestep", "method.k=1", *SMALL_LIF],
    # method=hm2bp brings neuron=cuba, a spiking output, no bias, inv_sqrt and hm2bp_preset/digits.yaml
    # (T=100, thresholds [10, 8], desired 15, lr 5e-3), all as shipped; only the hidden layer is narrower.
    # Its loss is on integer spike counts: with a shorter T a 1% change of lr left the 20 losses unchanged.
    "hm2bp": ["method=hm2bp", "model.hidden=[32]"],
    "bptt_bitpack": ["method=bptt", "compression=bitpack", *SMALL_LIF],
    # min_numel 64: the [B=32, 64] first-layer input is decomposed (the default 1024 would keep it whole).
    "bptt_hosvd": ["method=bptt", "compression=hosvd", "compression.min_numel=64", *SMALL_LIF],
    "bptt_cnn": ["method=bptt", "model=cnn", "T=4", "optimizer.lr=1e-2"],
}


def overrides(case: str) -> list[str]:
    return [*SHORT, *CASES[case]]


def run(extra: list[str]) -> list[float]:
    """Train ``extra`` (full override list) on the CPU with ``THREADS`` threads; the loss of every applied
    optimizer step, in order. The losses are read off ``Trainer.train_step``'s result on this one
    trainer instance: training itself is untouched."""
    losses: list[float] = []
    threads, omp = torch.get_num_threads(), os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = str(THREADS)  # trainer.threads=auto takes it as given
    try:
        with tempfile.TemporaryDirectory(prefix="loss-curve-") as run_dir:
            trainer = make_trainer(compose_config(extra), Path(run_dir))
            step = trainer.train_step

            def observed(*args, **kwargs):
                result, applied = step(*args, **kwargs)
                if applied:
                    losses.append(float(result.loss))
                return result, applied

            trainer.train_step = observed
            trainer.fit()
    finally:
        torch.set_num_threads(threads)
        if omp is None:
            del os.environ["OMP_NUM_THREADS"]
        else:
            os.environ["OMP_NUM_THREADS"] = omp
    return losses


def path(case: str) -> Path:
    return FOLDER / f"{case}.json"


def record(case: str) -> dict:
    """Run ``case`` and write its curve file; return what was written."""
    entry = {"case": case, "overrides": overrides(case), "torch": torch.__version__, "threads": THREADS, "losses": run(overrides(case))}
    FOLDER.mkdir(parents=True, exist_ok=True)
    path(case).write_text(json.dumps(entry, indent=1) + "\n")
    return entry


def load(case: str) -> dict:
    return json.loads(path(case).read_text())
