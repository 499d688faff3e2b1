"""GPU check: conv-SNN BPTT training throughput, snntrain (triton) vs SpikingJelly on CUDA.

The network, data and timing are those of ``scripts/benchsuites/frameworks.py`` (conv suite:
2x34x34 -> 32C3-P2-64C3-P2-10, LIF with decay 0.5, soft detached reset, sigmoid surrogate).
SpikingJelly runs its own CUDA choice (native CUDA, else Triton, else torch; the row says
which); a missing spikingjelly gives a 'skipped' row. Target (issue 7): snntrain >= 1.2x
SpikingJelly.
"""

from __future__ import annotations

import sys

from _common import dry_run_requested, emit, parser, row

DRY_RUN = dry_run_requested()

import torch  # noqa: E402
from benchsuites import frameworks as fw  # noqa: E402

PIECE = "conv_throughput"
TARGET = 1.2


def spikingjelly_choice(device: torch.device) -> str:
    """SpikingJelly's chosen LIF implementation on ``device``, where it says."""
    try:
        from spikingjelly._ops.lif import _selection

        return str(_selection.diagnostics(device)["implementation"])
    except Exception:  # private API of one SpikingJelly version: best effort only
        return "unknown"


def measure(T: int, batch: int, precision: str, device: torch.device, warmup: int, steps: int) -> list[dict]:
    case = fw.make_case("conv", T, batch, device, precision, seed=0)
    makers = {
        "snntrain/triton": lambda: fw.snntrain_runner(case, "triton", "bptt"),
        "snntrain/torch": lambda: fw.snntrain_runner(case, "torch", "bptt"),
        "spikingjelly": lambda: fw.spikingjelly_runner(case),
        "floor": lambda: fw.floor_runner(case),
    }
    runners = []
    for label, make in makers.items():
        try:
            runners.append(make())
        except fw.Skip as why:
            runners.append(fw.Runner(label, "bptt", note=f"skipped: {why}"))
    results = fw.measure(case, runners, warmup, steps)
    setting = f"T={T} B={batch} precision={precision}"
    rows, speed = [], {}
    for r in results:
        name = r["framework"]
        note = r["note"]
        if name == "spikingjelly" and "samples_per_s" in r:
            note = f"LIF implementation: {spikingjelly_choice(device)}"
        if "samples_per_s" in r:
            speed[name] = r["samples_per_s"]
            mem = r["peak_mem_bytes"]
            note = "; ".join(filter(None, [note, f"peak {mem / 2**20:.0f} MiB" if mem else "",
                                           f"{r['x_floor']:.0%} of floor" if "x_floor" in r else ""]))
        value = round(r["samples_per_s"], 1) if "samples_per_s" in r else ""
        rows.append(row(PIECE, f"{name} {setting}", value, "samples/s", "", note))
    ours, theirs = speed.get("snntrain/triton"), speed.get("spikingjelly")
    if ours and theirs:
        ratio = ours / theirs
        rows.append(row(PIECE, f"snntrain/triton vs spikingjelly {setting}", round(ratio, 2), "x", f">= {TARGET}x",
                        "" if ratio >= TARGET else "below target"))
    return rows


def main() -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--T", type=int, nargs="+", default=[32])
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--precision", nargs="+", default=["32", "bf16"], choices=["32", "bf16"])
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--steps", type=int, default=20)
    args = p.parse_args()
    if args.cpu_dry_run:
        rows = measure(2, 2, "32", torch.device("cpu"), 1, 1)
        return emit([{**r, "note": f"CPU dry run, not a measurement; {r['note']}"} for r in rows], args.json)
    if not torch.cuda.is_available():
        return emit([row(PIECE, "conv SNN training throughput", note="skipped: no CUDA device")], args.json)
    rows = []
    for T in args.T:
        for precision in args.precision:
            rows += measure(T, args.batch, precision, torch.device("cuda"), args.warmup, args.steps)
    return emit(rows, args.json)


if __name__ == "__main__":
    sys.exit(main())
