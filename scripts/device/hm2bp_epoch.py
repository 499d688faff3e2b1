"""Time one synthetic N-MNIST-shaped HM2-BP training epoch and print one table row.

Target (issue 4): 60,000 samples, 2312-800-10, T = 540, batch 64 in <= 20 s on one H200 (the
official code: about 670 s per epoch at batch 1). The input is random spikes at N-MNIST's
average rate (about 4,000 events per sample over 2312 inputs and 540 bins of 600 us), drawn on
the device beforehand and cycled, so the time is the training step: forward, HM2-BP backward,
Adam. On CUDA it also checks the Triton kernels against the torch loops on one batch.
Timing stops after ``--max-seconds`` (default 60; 0: never) and the epoch is then extrapolated
from the batches done, which the row says.

    python scripts/device/hm2bp_epoch.py                               # the full epoch (GPU)
    python scripts/device/hm2bp_epoch.py --samples 8 --batch 4 --steps 60 --device cpu   # smoke

Without CUDA (and no ``--device cpu``) it prints a 'skipped' row, as every device-check piece does.
"""

from __future__ import annotations

import argparse
import time

import _common
import torch

from snntrain.core.registry import build, register_schemas
from snntrain.core.spiking import reset_states
from snntrain.methods.hm2bp.psp import psp_matrix
from snntrain.neurons.dynamics.cuba import cuba_multistep, initial_state

register_schemas()  # the schemas the configs extend, before anything composes

INPUT_SHAPE = (2, 34, 34)
RATE = 4000 / (2312 * 540)  # events per input per bin


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = _common.parser(__doc__)
    p.add_argument("--samples", type=int, default=60_000)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--steps", type=int, default=540, help="T")
    p.add_argument("--hidden", type=int, default=800)
    p.add_argument("--rate", type=float, default=RATE, help="input spike probability per input and step")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else None, help="default: cuda if present, else skip")
    p.add_argument("--pool", type=int, default=4, help="distinct random batches, cycled")
    p.add_argument("--tf32", action="store_true", help="allow TF32 matmuls (spike timing may change)")
    p.add_argument("--max-seconds", type=float, default=60.0,
                   help="stop timing after this long and extrapolate the epoch from the batches done (the row says so; 0: never)")
    return p.parse_args(argv)


def kernel_check(model, method, x: torch.Tensor) -> str:
    """Triton vs torch-loop agreement on one batch: spike mismatch fraction and max |dP| (the method's S-PSP)."""
    first, neuron = model.body[1], model.body[2]
    with torch.no_grad():
        drive = first(x.flatten(2))
        fused = neuron.simulate(drive)
        loop, _ = cuba_multistep(drive, initial_state(drive[0]), neuron.params)
        kernel = method.stages(model)[0].kernel
        diff = (psp_matrix(fused, kernel) - psp_matrix(fused.cpu(), kernel).to(fused.device)).abs().max()
    mismatch = (fused != loop).float().mean().item()
    return f"spike mismatch {mismatch:.2e}, max |dP| {diff.item():.2e}"


PIECE = "hm2bp_epoch"
MEASUREMENT = "HM2-BP N-MNIST epoch (2312-800-10)"


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.device is None:
        return _common.emit([_common.row(PIECE, MEASUREMENT, note="skipped: no CUDA device")], args.json)
    device = torch.device(args.device)
    torch.backends.cuda.matmul.allow_tf32 = args.tf32
    torch.manual_seed(0)
    neuron = build("neuron", {"name": "cuba", "threshold": [15.0, 15.0], "output_inhibition": 1.0})
    model_cfg = {"name": "mlp", "hidden": [args.hidden], "bias": False, "readout": "spikes", "init": "uniform"}
    model = build("model", model_cfg, INPUT_SHAPE, 10, neuron).to(device)
    method = build("method", {"name": "hm2bp", "reg_beta": 0.01}, args.steps)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    shape = (args.steps, args.batch, *INPUT_SHAPE)
    pool = [(torch.rand(shape, device=device) < args.rate) for _ in range(args.pool)]
    labels = [torch.randint(0, 10, (args.batch,), device=device) for _ in range(args.pool)]

    def train_step(i: int) -> None:
        reset_states(model)
        optimizer.zero_grad(set_to_none=True)
        method.step(model, pool[i % args.pool].float(), labels[i % args.pool])
        optimizer.step()

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    check = kernel_check(model, method, pool[0].float()) if device.type == "cuda" else "-"
    for i in range(2):  # compile the kernels, warm the allocator
        train_step(i)
    sync()
    batches = -(-args.samples // args.batch)
    start = time.perf_counter()
    done = 0
    while done < batches:
        train_step(done)
        done += 1
        if args.max_seconds and done % 10 == 0:
            sync()
            if time.perf_counter() - start > args.max_seconds:
                break
    sync()
    elapsed = time.perf_counter() - start
    samples = done * args.batch
    epoch = elapsed * batches / done
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    shape = f"{batches * args.batch} samples, T={args.steps}, batch {args.batch}, {name}"
    if done < batches:
        shape += f"; extrapolated from {done} of {batches} batches ({elapsed:.1f} s)"
    return _common.emit(
        [
            _common.row(PIECE, MEASUREMENT, round(epoch, 2), "s", "<= 20 s (60,000 samples, T=540, batch 64)", shape),
            _common.row(PIECE, "throughput", round(samples / elapsed), "samples/s", "", f"kernels (triton vs torch): {check}"),
        ],
        args.json,
    )


if __name__ == "__main__":
    raise SystemExit(main())
