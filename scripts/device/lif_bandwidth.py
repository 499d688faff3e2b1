"""GPU check: effective bandwidth of the fused Triton LIF kernels vs the device's copy bandwidth.

Drive x [T, N] (default T=32, N=8M: 1 GiB in float32). Bytes counted are the least each pass
must move: forward (training) reads x and writes spikes and u (float32); forward (inference)
reads x and writes spikes; backward reads grad_s and u and writes grad_x. Copy bandwidth is a
device-to-device ``copy_`` of x (read + write). Target (issue 7): >= 70 % of copy bandwidth.
Times are medians of ``triton.testing.do_bench`` (L2 flushed between runs).
"""

from __future__ import annotations

import statistics
import sys
import time

from _common import dry_run_requested, emit, parser, row

DRY_RUN = dry_run_requested()

import torch  # noqa: E402

PIECE = "lif_bandwidth"
TARGET = 0.70


def skipped(reason: str) -> list[dict]:
    return [row(PIECE, m, note=f"skipped: {reason}") for m in ("copy", "fused LIF forward", "fused LIF forward+backward")]


def bench(fn, device: torch.device) -> float:
    """Median seconds of ``fn``."""
    if device.type == "cuda":
        from triton.testing import do_bench

        return do_bench(fn, warmup=10, rep=200, return_mode="median") / 1e3
    times = []
    for _ in range(3):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(T: int, n: int, device: torch.device) -> list[dict]:
    from snntrain.neurons.kernels import lif_triton

    args = (0.5, 1.0, True)  # decay, threshold, soft reset
    bwd_args = (0.5, 1.0, True, True, "sigmoid", 4.0)
    x = torch.randn(T, n, device=device) * 0.8 + 0.5
    elems = T * n
    copy_dst = torch.empty_like(x)
    copy_gbps = 2 * 4 * elems / bench(lambda: copy_dst.copy_(x), device) / 1e9
    rows = [row(PIECE, f"copy (device to device, {x.nbytes / 2**30:.2f} GiB)", round(copy_gbps), "GB/s")]

    def add(name: str, seconds: float, bytes_per_elem: int, extra: str = "", targeted: bool = True) -> None:
        gbps = bytes_per_elem * elems / seconds / 1e9
        short = targeted and gbps < TARGET * copy_gbps
        rows.append(row(PIECE, name, round(gbps), "GB/s", f">= {TARGET:.0%} of copy" if targeted else "",
                        f"{gbps / copy_gbps:.0%} of copy{' (below target)' if short else ''}; {seconds * 1e3:.2f} ms{extra}"))

    add(f"fused forward, inference (T={T}, N={n})", bench(lambda: lif_triton.forward(x, None, *args, False), device), 8)
    add("fused forward, training (writes u)", bench(lambda: lif_triton.forward(x, None, *args, True), device), 12)
    _, u, _ = lif_triton.forward(x, None, *args, True)
    grad_s = torch.randn_like(x)
    add("fused backward", bench(lambda: lif_triton.backward(grad_s, None, u, *bwd_args, torch.float32), device), 12)

    def fwd_bwd():
        _, u, _ = lif_triton.forward(x, None, *args, True)
        lif_triton.backward(grad_s, None, u, *bwd_args, torch.float32)

    add(f"fused forward+backward (BLOCK={lif_triton.BLOCK})", bench(fwd_bwd, device), 24)
    default_block = lif_triton.BLOCK
    for block in (256, 512, 2048):
        lif_triton.BLOCK = block
        add(f"fused forward+backward (BLOCK={block})", bench(fwd_bwd, device), 24)
    lif_triton.BLOCK = default_block
    xb = x.to(torch.bfloat16)
    add("fused forward, training, bf16 drive", bench(lambda: lif_triton.forward(xb, None, *args, True), device), 8,
        "; bf16 spikes, float32 u")

    try:
        from snntrain.neurons.dynamics.lif import lif_multistep
    except ImportError as err:  # the reference module needs hydra-core; the kernels do not
        rows.append(row(PIECE, "torch reference forward+backward", note=f"skipped: {err}"))
        return rows
    xr = x.requires_grad_()

    def reference():
        spikes, _ = lif_multistep(xr, None, *bwd_args)
        spikes.backward(grad_s)
        xr.grad = None

    add("torch reference forward+backward", bench(reference, device), 24, "; bytes counted as for fused", targeted=False)
    return rows


def main() -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--T", type=int, default=32)
    p.add_argument("--neurons", type=int, default=8 * 2**20)
    args = p.parse_args()
    if args.cpu_dry_run:
        rows = measure(4, 3000, torch.device("cpu"))
        return emit([{**r, "note": f"CPU dry run, not a measurement; {r['note']}"} for r in rows], args.json)
    if not torch.cuda.is_available():
        return emit(skipped("no CUDA device"), args.json)
    try:
        import triton  # noqa: F401
    except ImportError as err:
        return emit(skipped(f"triton is not importable ({err})"), args.json)
    return emit(measure(args.T, args.neurons, torch.device("cuda")), args.json)


if __name__ == "__main__":
    sys.exit(main())
