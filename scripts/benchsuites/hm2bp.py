"""HM2-BP vs BPTT on the CPU: step time against the FLOP floor of the step's matmuls, saved bytes.

Both train inputs-hidden-10 with a spiking output layer on random input spikes (default: the
N-MNIST row's 2312-800-10 at batch 16, T = 100 and 540); each method uses its own neuron (HM2-BP
the CUBA neuron with output inhibition, BPTT the LIF neuron). A step is ``method.step`` (forward
and backward; the optimiser step is the same for both and left out). Steps of the two methods
alternate and the medians are reported, with process CPU time beside wall time.

``matmul_floor_ms``: the step's own matrix products (recorded from one step: every mm, addmm and
bmm with its shapes) replayed alone on random tensors at the same thread count, the machine's
limit for the arithmetic a step must do; ``x_floor`` = floor / step time. ``gflop_per_step``: their
FLOPs (torch.utils.flop_counter). ``nmnist_epoch_h``: hours of one 60,000-sample epoch at the
measured rate. Each row records the torch threads and the 1-minute load average before and after.
Targets (issue 4): HM2-BP step <= 2x BPTT step; HM2-BP saved bytes <= every layer's spike trains
at 1 byte per neuron and step (input included), plus one float per neuron (its gain) and the
loss's few floats per output neuron, bounded here by 8 bytes per neuron.
Command: python scripts/bench.py hm2bp [--T 100 540] [--threads 1]
"""

from __future__ import annotations

import os
import statistics
import time

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode

from snntrain.compress import Codec, SavedTensorMeter, saving
from snntrain.core.registry import build, register_schemas
from snntrain.core.spiking import reset_states

register_schemas()  # the schemas the configs extend, before anything composes

TIME_RATIO_TARGET = 2.0
NMNIST_TRAIN = 60_000
MATMULS = {torch.ops.aten.mm.default, torch.ops.aten.addmm.default, torch.ops.aten.bmm.default}


def add_arguments(parser) -> None:
    parser.add_argument("--T", nargs="+", type=int, default=[100, 540], help="time steps")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--inputs", type=int, default=2312)
    parser.add_argument("--hidden", type=int, default=800)
    parser.add_argument("--rate", type=float, default=0.05, help="input spike probability per step")
    parser.add_argument("--steps", type=int, default=3, help="timed steps per method")
    parser.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's)")


def make(method: str, args, T: int):
    """Model and method of ``method`` on the shared architecture."""
    model_cfg = {"name": "mlp", "hidden": [args.hidden], "bias": False, "readout": "spikes"}
    if method == "hm2bp":
        neuron = build("neuron", {"name": "cuba", "threshold": [20.0, 8.0], "output_inhibition": 1.0})
        model_cfg["init"] = "uniform"
    else:
        neuron = build("neuron", {"name": "lif"})
    model = build("model", model_cfg, (args.inputs,), 10, neuron)
    return model, build("method", {"name": method}, T)


def timed_step(model, method, x, y, meter: SavedTensorMeter) -> tuple[float, float]:
    """Wall and CPU seconds of one training step; saved bytes go to ``meter``."""
    reset_states(model)
    model.zero_grad(set_to_none=True)
    meter.samples += len(y)
    wall, cpu = time.perf_counter(), time.process_time()
    with saving(Codec(), meter, model):
        method.step(model, x, y)
    return time.perf_counter() - wall, time.process_time() - cpu


class MatmulRecorder(TorchDispatchMode):
    """Records the op and argument shapes of every matrix product run inside it."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func in MATMULS:
            self.calls.append((func, [(a.shape, a.dtype) for a in args if isinstance(a, torch.Tensor)]))
        return func(*args, **(kwargs or {}))


def matmul_floor_s(model, method, x, y) -> tuple[float, int]:
    """Seconds to replay one step's matrix products on random tensors (median of 3), and their FLOPs."""
    recorder = MatmulRecorder()
    with recorder:
        timed_step(model, method, x, y, SavedTensorMeter())
    with FlopCounterMode(display=False) as counter:
        timed_step(model, method, x, y, SavedTensorMeter())
    operands = [(func, [torch.randn(shape, dtype=dtype) for shape, dtype in shapes]) for func, shapes in recorder.calls]
    times = []
    for _ in range(3):
        start = time.perf_counter()
        for func, tensors in operands:
            func(*tensors)
        times.append(time.perf_counter() - start)
    return statistics.median(times), counter.get_total_flops()


def measure(args, T: int) -> list[dict]:
    torch.manual_seed(0)
    x = (torch.rand(T, args.batch_size, args.inputs) < args.rate).float()
    y = torch.randint(0, 10, (args.batch_size,))
    methods = {name: make(name, args, T) for name in ("bptt", "hm2bp")}
    meters = {name: SavedTensorMeter() for name in methods}
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in methods}
    for name, (model, method) in methods.items():  # warm-up, and the byte count of one step
        timed_step(model, method, x, y, meters[name])
    for _ in range(args.steps):
        for name, (model, method) in methods.items():
            times[name].append(timed_step(model, method, x, y, SavedTensorMeter()))
    neurons = args.hidden + 10
    trains_bytes = T * (args.inputs + neurons)
    common = {"T": T, "batch": args.batch_size, "mlp": f"{args.inputs}-{args.hidden}-10", "threads": torch.get_num_threads()}
    rows = []
    for name, (model, method) in methods.items():
        step_s = statistics.median(w for w, _ in times[name])
        floor_s, flops = matmul_floor_s(model, method, x, y)
        rate = args.batch_size / step_s
        rows.append({
            "method": name,
            "step_wall_ms": 1e3 * step_s,
            "step_cpu_ms": 1e3 * statistics.median(c for _, c in times[name]),
            "samples_per_s": rate,
            "nmnist_epoch_h": NMNIST_TRAIN / rate / 3600,
            "matmul_floor_ms": 1e3 * floor_s,
            "x_floor": floor_s / step_s,
            "gflop_per_step": flops / 1e9,
            "saved_bytes_per_sample": meters[name].saved_bytes_per_sample,
            **common,
        })
    bptt, hm2bp = rows
    ratio = hm2bp["step_wall_ms"] / bptt["step_wall_ms"]
    hm2bp.update(
        time_vs_bptt=ratio, cpu_time_vs_bptt=hm2bp["step_cpu_ms"] / bptt["step_cpu_ms"], time_ok=ratio <= TIME_RATIO_TARGET,
        compact_trains_bytes=trains_bytes, bytes_vs_trains=hm2bp["saved_bytes_per_sample"] / trains_bytes,
        bytes_ok=hm2bp["saved_bytes_per_sample"] <= trains_bytes + 8 * neurons,
        bytes_vs_bptt=hm2bp["saved_bytes_per_sample"] / bptt["saved_bytes_per_sample"],
    )
    return rows


def run(args) -> list[dict]:
    if args.threads:
        torch.set_num_threads(args.threads)
    rows = []
    for T in args.T:
        before = os.getloadavg()[0]
        measured = measure(args, T)
        after = os.getloadavg()[0]
        rows += [{**row, "load_before": before, "load_after": after} for row in measured]
    return rows
