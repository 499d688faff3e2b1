"""Stored per-step training-loss curves (torchtune's regression style): every gradient method, two
compression schemes and a conv model, 20 optimizer steps each on digits, compared step by step with
the record. A deliberate change of the numerics is re-recorded with ``python scripts/record_loss_curves.py``.

These are the one place where tests compare with the implementation's own past output: a record of
behaviour to preserve (say, through a restructuring), not evidence that the numbers are right.
"""

from __future__ import annotations

import pytest
import torch

from tests.regression import curves

# The same run on the same torch build and one thread is bit-identical (the runner fixes the thread count;
# recorded and re-run losses were equal to the last bit here). rtol 1e-5 (about 80 float32 ulps) still
# lets an equivalent reordering of float32 sums in a refactor through, whose drift over 20 steps stays
# near 1e-6, while a real change moves the curve by 1e-3 or more: lr x 1.01 moves every case by
# 2.6e-3 to 1.4e-2 at its worst step (test_a_small_change_is_detected). atol 0: losses are >= 1.
RTOL, ATOL = 1e-5, 0.0


def compare(got: list[float], entry: dict) -> None:
    torch.testing.assert_close(
        torch.tensor(got, dtype=torch.float64), torch.tensor(entry["losses"], dtype=torch.float64), rtol=RTOL, atol=ATOL,
        msg=lambda m: f"{m}\nloss curve of case {entry['case']!r} (recorded with torch {entry['torch']}, now {torch.__version__}) "
        "changed; if on purpose, re-record: python scripts/record_loss_curves.py " + entry["case"],
    )


@pytest.mark.parametrize("case", list(curves.CASES))
def test_loss_curve_matches_the_record(case):
    entry = curves.load(case)
    assert entry["overrides"] == curves.overrides(case), "the case's overrides changed: re-record it"
    assert entry["threads"] == curves.THREADS and len(entry["losses"]) == 20
    compare(curves.run(entry["overrides"]), entry)


# The comparison itself must catch a one-step change: the learning rate 1% up, or another seed.
@pytest.mark.parametrize("case, change", [("bptt", "lr"), ("hm2bp", "lr"), ("onestep", "seed")])
def test_a_small_change_is_detected(case, change):
    entry = curves.load(case)
    lr = curves.compose_config(entry["overrides"]).optimizer.lr
    extra = [f"optimizer.lr={lr * 1.01}"] if change == "lr" else ["seed=1"]
    with pytest.raises(AssertionError, match="re-record"):
        compare(curves.run(entry["overrides"] + extra), entry)
