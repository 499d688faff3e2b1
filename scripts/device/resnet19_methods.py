"""GPU check: samples/s and peak memory of each gradient method on ResNet-19 at T = 4 and T = 16.

The step is the ``methods`` bench suite's (reset, ``method.step`` inside the saved-tensor meter, an
SGD step) on random CIFAR-shaped 3x32x32 spike inputs, batch 64, float32 (cuDNN's default TF32
convolutions). Peak memory is ``torch.cuda.max_memory_allocated`` over the configuration's own
steps (weights, optimizer and the batch included). HM2-BP has no row: it trains CUBA networks of
conv/linear/spiking-pool layers and refuses ResNet-19's BatchNorm and residual blocks.
"""

from __future__ import annotations

import sys

from _common import dry_run_requested, emit, parser, row

DRY_RUN = dry_run_requested()

import torch  # noqa: E402
from benchsuites.methods import measure  # noqa: E402

PIECE = "resnet19_methods"
METHODS = ["bptt", "ratebp", "onestep"]


def rows_for(T_values, batch: int, device: str, warmup: int, steps: int) -> list[dict]:
    rows = []
    for T in T_values:
        bptt = None
        for method in METHODS:
            try:
                r = measure(method, T, batch, steps, warmup, device, "resnet19")
            except Exception as err:  # one method failing is a row, the others still run
                rows.append(row(PIECE, f"{method} T={T} B={batch}", note=f"failed: {type(err).__name__}: {str(err)[:160]}"))
                continue
            bptt = r if method == "bptt" else bptt
            vs = f"; {r['samples_per_s'] / bptt['samples_per_s']:.2f}x BPTT's speed, {r['peak_mem_bytes'] / bptt['peak_mem_bytes']:.2f}x its peak" if bptt and method != "bptt" else ""
            rows.append(row(PIECE, f"{method} T={T} B={batch}", round(r["samples_per_s"], 1), "samples/s", "",
                            f"peak {r['peak_mem_bytes'] / 2**30:.2f} GiB; saved {r['saved_bytes_per_sample'] / 2**20:.2f} MiB/sample{vs}"))
            if device == "cuda":
                torch.cuda.empty_cache()
    return rows


def main() -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--T", type=int, nargs="+", default=[4, 16])
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--steps", type=int, default=5)
    args = p.parse_args()
    if args.cpu_dry_run:
        rows = rows_for([1], 2, "cpu", 0, 1)
        return emit([{**r, "note": f"CPU dry run, not a measurement; {r['note']}"} for r in rows], args.json)
    if not torch.cuda.is_available():
        return emit([row(PIECE, "ResNet-19 methods", note="skipped: no CUDA device")], args.json)
    return emit(rows_for(args.T, args.batch, "cuda", args.warmup, args.steps), args.json)


if __name__ == "__main__":
    sys.exit(main())
