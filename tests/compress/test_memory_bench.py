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
    # Only the combinations the configuration refuses are left out, each with its refusal: HM2-BP computes
    # its gradients outside autograd (nothing to recompute) from tensors HOSVD does not see.
    refused = {("hm2bp", "bitpack+recompute"): "trainer.recompute=true (or compression.recompute=true) does not apply to method=hm2bp"}
    refused |= {("hm2bp", s): "compression=hosvd does not apply to method=hm2bp" for s in memory.SCHEMES if s.startswith("hosvd")}
    skipped = [line.removeprefix("skipped method=") for line in out.splitlines() if line.startswith("skipped method=")]
    assert sorted(line.split(":")[0] for line in skipped) == sorted(f"{m} {s}" for m, s in refused)
    for line in skipped:
        method, scheme = line.split(":")[0].split(" ")
        assert refused[method, scheme] in line, line
    assert measured == {(m, s, T) for m in options("method") for s in memory.SCHEMES for T in (2, 4) if (m, s) not in refused}
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
