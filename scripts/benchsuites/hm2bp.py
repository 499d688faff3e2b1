"""HM2-BP vs BPTT on the CPU: training-step time and saved bytes per sample, same MLP and T.

Both train inputs-hidden-10 with a spiking output layer on random input spikes; each method uses
its own neuron (HM2-BP the CUBA neuron with output inhibition, BPTT the LIF neuron). A step is
``method.step`` (forward and backward; the optimiser step is the same for both and left out).
Steps of the two methods alternate and the medians are reported, with process CPU time beside
wall time (the 2-core box is shared). Saved bytes per sample are what autograd's saved-tensor
hooks hand the trainer's meter. Targets (issue 4): HM2-BP step <= 2x BPTT step; HM2-BP saved
bytes <= every layer's spike trains at 1 byte per neuron and step (input included), plus O(N)
terms: one float per neuron (the gain (1 + side) lat it keeps for its weight gradient) and
the loss's few floats per output neuron, bounded here by 8 bytes per neuron.
"""

from __future__ import annotations

import statistics
import time

import torch

import snntrain.components  # noqa: F401  (registers every component)
from snntrain.compress import Codec, SavedTensorMeter, saving
from snntrain.neurons import reset_states
from snntrain.registry import build

TIME_RATIO_TARGET = 2.0


def add_arguments(parser) -> None:
    parser.add_argument("--T", type=int, default=100, help="time steps")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--inputs", type=int, default=784)
    parser.add_argument("--hidden", type=int, default=800)
    parser.add_argument("--rate", type=float, default=0.05, help="input spike probability per step")
    parser.add_argument("--steps", type=int, default=6, help="timed steps per method")


def make(method: str, args):
    """Model and method of ``method`` on the shared architecture."""
    model_cfg = {"name": "mlp", "hidden": [args.hidden], "bias": False, "readout": "spikes"}
    if method == "hm2bp":
        neuron = build("neuron", {"name": "cuba", "threshold": [20.0, 8.0], "output_inhibition": 1.0})
        model_cfg["init"] = "uniform"
    else:
        neuron = build("neuron", {"name": "lif"})
    model = build("model", model_cfg, (args.inputs,), 10, neuron)
    return model, build("method", {"name": method}, args.T)


def timed_step(model, method, x, y, meter: SavedTensorMeter) -> tuple[float, float]:
    """Wall and CPU seconds of one training step; saved bytes go to ``meter``."""
    reset_states(model)
    model.zero_grad(set_to_none=True)
    meter.samples += len(y)
    wall, cpu = time.perf_counter(), time.process_time()
    with saving(Codec(), meter, model):
        method.step(model, x, y)
    return time.perf_counter() - wall, time.process_time() - cpu


def run(args) -> list[dict]:
    torch.manual_seed(0)
    x = (torch.rand(args.T, args.batch_size, args.inputs) < args.rate).float()
    y = torch.randint(0, 10, (args.batch_size,))
    methods = {name: make(name, args) for name in ("bptt", "hm2bp")}
    meters = {name: SavedTensorMeter() for name in methods}
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in methods}
    for name, (model, method) in methods.items():  # warm-up, and the byte count of one step
        timed_step(model, method, x, y, meters[name])
    for _ in range(args.steps):
        for name, (model, method) in methods.items():
            times[name].append(timed_step(model, method, x, y, SavedTensorMeter()))
    neurons = args.hidden + 10
    trains_bytes = args.T * (args.inputs + neurons)
    common = {"T": args.T, "batch": args.batch_size, "mlp": f"{args.inputs}-{args.hidden}-10", "threads": torch.get_num_threads()}
    rows = []
    for name in methods:
        rows.append({
            "method": name,
            "step_wall_ms": 1e3 * statistics.median(w for w, _ in times[name]),
            "step_cpu_ms": 1e3 * statistics.median(c for _, c in times[name]),
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
