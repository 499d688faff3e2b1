"""The HM2-BP accuracy suite (scripts/bench.py hm2bp_accuracy) runs both cases and reports their goal, briefly."""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from benchsuites import hm2bp_accuracy  # noqa: E402


def test_the_suite_trains_each_case_and_says_whether_it_meets_its_target(shared_data, capsys):
    parser = argparse.ArgumentParser()
    hm2bp_accuracy.add_arguments(parser)
    quick = ["trainer.max_epochs=1", "trainer.limit_batches=2", "model.hidden=[16]"]
    args = parser.parse_args(["--data", str(shared_data), "--train-samples", "64", "--overrides", *quick])
    rows = hm2bp_accuracy.run(args)
    assert [(r["case"], r["epochs"], r["threads"]) for r in rows] == [("digits", 1, 1), ("mnist", 1, 1)]
    out = capsys.readouterr().out
    for r in rows:
        score = max(r["test_acc"], r["best_test_acc"]) if r["case"] == "digits" else r["test_acc"]
        assert r["met"] == (score >= 0.95) and 0 <= score <= 1
        assert f"goal hm2bp {r['case']} test accuracy >= 95%: {'met' if r['met'] else 'NOT met'}" in out
