"""The memory benchmark suite (scripts/bench.py memory) on a tiny network."""

import argparse
import json
import sys
from pathlib import Path

from snntrain.core.registry import options

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from benchsuites import memory  # noqa: E402


def test_memory_suite_measures_every_method_scheme_and_T(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    memory.add_arguments(parser)
    args = parser.parse_args(["--T", "2", "4", "--batch", "2", "--steps", "1", "--spec", "4C3-P2", "--device", "cpu", "--out", str(tmp_path)])
    rows = memory.run(args)
    measured = {(r["method"], r["compression"], r["T"]) for r in rows}
    out = capsys.readouterr().out
    skipped = out.count("skipped method=")
    assert len(measured) + skipped * 2 == len(options("method")) * 2 * len(memory.SCHEMES)
    assert json.loads((tmp_path / "memory.json").read_text()) == rows
    bptt = {(r["compression"], r["T"]): r for r in rows if r["method"] == "bptt"}
    assert bptt[("none", 4)]["saved_bytes_per_sample"] > 1.9 * bptt[("none", 2)]["saved_bytes_per_sample"]  # BPTT: O(T)
    assert bptt[("bitpack", 4)]["reduction_vs_none"] > 1.0
    assert bptt[("bitpack+recompute", 4)]["reduction_vs_none"] > bptt[("bitpack", 4)]["reduction_vs_none"]
    assert "goal method=bptt T=16 bitpack+recompute >= 8x fewer saved bytes than none: not measured" in out


def test_a_goal_is_reported_with_every_schemes_step_time(capsys):
    rows = [
        {"method": "bptt", "T": 16, "compression": scheme, "eps": None, "step_ms": ms, "reduction_vs_none": reduction}
        for scheme, ms, reduction in [("none", 10.0, 1.0), ("bitpack", 20.0, 1.9), ("bitpack+recompute", 25.0, 70.0)]
    ]
    memory.report_goals(rows)
    assert (
        "goal method=bptt T=16 bitpack+recompute >= 8x fewer saved bytes than none: met "
        "(70.00x; median step: none 10.0 ms, bitpack 20.0 ms, bitpack+recompute 25.0 ms)"
    ) in capsys.readouterr().out
