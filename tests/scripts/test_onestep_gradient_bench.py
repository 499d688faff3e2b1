"""The one-step gradient suite (scripts/bench.py onestep_gradient): its k = T row is BPTT exactly."""

import argparse
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from benchsuites import onestep_gradient  # noqa: E402


def test_k_equal_to_t_reproduces_bptt_and_the_feedback_rows_compare_with_the_exact_gradient():
    parser = argparse.ArgumentParser()
    onestep_gradient.add_arguments(parser)
    args = parser.parse_args(["--tau", "2", "--k", "1", "4", "--T", "4", "--encoders", "direct", "--contraction", "0.3", "--batch", "16"])
    rows = onestep_gradient.run(args)
    by_k = {r["k"]: r for r in rows if r["against"] == "bptt"}
    assert by_k[4]["cosine"] == pytest.approx(1.0, abs=1e-6) and by_k[4]["relative_error"] < 1e-5
    assert by_k[1]["cosine"] < by_k[4]["cosine"] and by_k[1]["norm_ratio"] < 1.0
    (feedback,) = [r for r in rows if r["against"] == "exact implicit"]
    assert 0.9 < feedback["cosine"] <= 1.0 and feedback["contraction"] == 0.3
