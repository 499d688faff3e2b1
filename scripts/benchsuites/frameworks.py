"""Frameworks side by side: snntrain (each LIF backend), SpikingJelly, snnTorch and a FLOP floor.

Every framework trains the same network with the same hyperparameters (Adam, lr 1e-3,
cross-entropy on the time-averaged output, BPTT) on the same random batch, in one process:

* ``mlp``:  784-800-10, input spikes [T, B, 784] (Bernoulli, p = 0.2)
* ``conv``: 2x34x34 event frames [T, B, 2, 34, 34] (p = 0.1) -> conv 2->32 3x3, LIF, avg-pool 2,
  conv 32->64 3x3, LIF, avg-pool 2, FC 4096->10
* ``floor``: the same convolutions and matmuls as a plain ANN (ReLU) over the merged T*B batch,
  once with contiguous (NCHW) and once with channels_last tensors: the machine's limit for this
  arithmetic. ``x_floor`` divides by the faster of the two.

LIF everywhere: decay 0.5 (tau 2, input not decayed), threshold 1, soft reset, detached reset,
sigmoid surrogate with alpha 4. SpikingJelly (``LIFNode(decay_input=False, v_reset=None)``,
multi-step mode, its device-dispatched op) computes exactly this. snnTorch (``Leaky(beta=0.5,
reset_delay=False)``, ``surrogate.sigmoid(slope=4)``, one step at a time, as its API runs) fires
on u > theta instead of u >= theta and lets the gradient through the reset. snntrain's model is
laid out as its trainer lays it out by default (``trainer.channels_last=null``: NHWC for a conv
model on the CPU, engine/layout.py).

Threads: ``--threads 1 2`` repeats the whole comparison once per thread count, each in a fresh
process (inductor specialises its compiled loops on the thread count), and every row records the
1-minute load average before and after its process (``load_before``, ``load_after``): figures
taken under a load above zero understate the frameworks that run many small ops the most.
Every measuring process first sets snntrain's malloc policy (engine/host_memory.py: freed memory
is reused, not unmapped), which every framework in the process shares.

Timing: every runner is warmed up (compilation happens there), then the runners take turns,
one training step each, ``--steps`` times; ``samples_per_s`` is batch / the median step time.
Taking turns spreads background load evenly over the frameworks. ``page_faults_per_step``: the
median minor page faults of a step (kernel time that grows with the load). ``gflop_per_step``
and ``gflops``: the floor's convolution and matmul FLOPs per step (torch.utils.flop_counter,
forward and backward), and each row's rate of that same arithmetic. ``vs_peers``: samples_per_s
over the faster of SpikingJelly and snnTorch. ``saved_bytes_per_sample``: the bytes autograd saves
for backward (parameters excluded) in one step, divided by the batch. ``peak_mem_bytes``: CUDA
max_memory_allocated during one step (on the CPU, where the process keeps freed memory, the
per-process figures are those of ``scripts/bench.py methods``).
Goals (conv suite, every T and thread count): snntrain/auto >= 1.5x each peer, >= 0.85 x_floor.
Command: python scripts/bench.py frameworks --suites conv --T 8 32 --threads 1 2
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

# Only the registrations the suite needs (methods, models, the LIF): a GPU box with torch and
# hydra-core runs it without the data and logging stack.
import snntrain.methods  # noqa: F401
import snntrain.models  # noqa: F401
import snntrain.neurons.lif  # noqa: F401
from snntrain.compress import Codec, SavedTensorMeter, saving
from snntrain.core.registry import build
from snntrain.core.spiking import reset_states
from snntrain.engine.host_memory import retain_freed_memory
from snntrain.engine.layout import conv_memory_format

DECAY, THRESHOLD, ALPHA, LR = 0.5, 1.0, 4.0, 1e-3
MODELS = {"mlp": "784-800-10", "conv": "2x34x34 32C3-P2-64C3-P2-10"}
FRAMEWORKS = ["snntrain", "spikingjelly", "snntorch", "floor"]
PEERS = ["spikingjelly", "snntorch"]
FLOOR = "floor (ANN, merged T*B)"
LAYOUTS = {"NCHW": torch.contiguous_format, "channels_last": torch.channels_last}
GOAL_VS_PEERS, GOAL_X_FLOOR = 1.5, 0.85


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--suites", nargs="+", default=["mlp", "conv"], choices=sorted(MODELS))
    parser.add_argument("--T", nargs="+", type=int, default=[8, 32])
    parser.add_argument("--batch", type=int, help="batch size (default: 64 for mlp, 32 for conv)")
    parser.add_argument("--frameworks", nargs="+", default=FRAMEWORKS, choices=FRAMEWORKS)
    parser.add_argument("--backends", nargs="+", default=["torch", "compile", "triton", "auto"],
                        help="snntrain neuron backends (triton needs CUDA tensors)")
    parser.add_argument("--methods", nargs="+", default=["bptt"], help="snntrain methods (conv suite)")
    parser.add_argument("--precision", default="32", choices=["32", "bf16"], help="autocast for every framework")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--threads", nargs="+", type=int, default=sorted({1, os.cpu_count() or 1}),
                        help="torch thread counts, one fresh process each (default: 1 and every core)")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)


class Skip(Exception):
    """A runner that cannot run here; the message says why."""


@dataclass
class Case:
    suite: str
    T: int
    batch: int
    device: torch.device
    x: torch.Tensor
    y: torch.Tensor
    precision: str


@dataclass
class Runner:
    framework: str
    method: str
    step: Callable[[], None] | None = None
    model: nn.Module | None = None
    note: str = ""
    times: list[float] = field(default_factory=list)
    faults: list[int] = field(default_factory=list)


def make_case(suite: str, T: int, batch: int, device: torch.device, precision: str, seed: int) -> Case:
    gen = torch.Generator().manual_seed(seed)
    shape, p = ((T, batch, 784), 0.2) if suite == "mlp" else ((T, batch, 2, 34, 34), 0.1)
    x = (torch.rand(shape, generator=gen) < p).float().to(device)
    y = torch.randint(0, 10, (batch,), generator=gen).to(device)
    return Case(suite, T, batch, device, x, y, precision)


def autocast(case: Case):
    enabled = case.precision == "bf16"
    return torch.autocast(case.device.type, dtype=torch.bfloat16, enabled=enabled)


def train_step(model: nn.Module, forward: Callable[[torch.Tensor], torch.Tensor], case: Case, after=None):
    """One optimiser step of cross-entropy on ``forward(x)`` (class scores [B, 10])."""
    opt = torch.optim.Adam(model.parameters(), lr=LR)

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        with autocast(case):
            loss = F.cross_entropy(forward(case.x).float(), case.y)
        loss.backward()
        opt.step()
        if after is not None:
            after()

    return step


# ----- the frameworks ---------------------------------------------------------------------------
def snntrain_runner(case: Case, backend: str, method: str) -> Runner:
    """snntrain's model, method and the trainer's default layout for it."""
    if backend == "triton" and case.device.type != "cuda" and os.environ.get("TRITON_INTERPRET") != "1":
        raise Skip("triton runs CUDA tensors (CPU only under TRITON_INTERPRET=1)")
    neuron = build("neuron", {"name": "lif", "tau": 1 / (1 - DECAY), "backend": backend})
    if case.suite == "mlp":
        model = build("model", {"name": "mlp", "hidden": [800]}, (784,), 10, neuron)
    else:
        model = build("model", {"name": "cnn", "spec": "32C3-P2-64C3-P2", "pool": "avg"}, (2, 34, 34), 10, neuron)
    model = model.to(case.device, memory_format=conv_memory_format(model, case.device, None))
    gradient = build("method", {"name": method}, case.T)
    opt = torch.optim.Adam(model.parameters(), lr=LR)

    def step() -> None:
        model.train()
        reset_states(model)
        opt.zero_grad(set_to_none=True)
        with autocast(case):
            gradient.step(model, case.x, case.y)
        opt.step()

    return Runner(f"snntrain/{backend}", method, step, model)


def spikingjelly_runner(case: Case) -> Runner:
    if importlib.util.find_spec("spikingjelly") is None:
        raise Skip("spikingjelly is not installed (pip install -e .[bench])")
    from spikingjelly.activation_based import functional, layer, neuron, surrogate

    def lif():
        return neuron.LIFNode(tau=1 / (1 - DECAY), decay_input=False, v_threshold=THRESHOLD, v_reset=None,
                              detach_reset=True, surrogate_function=surrogate.Sigmoid(alpha=ALPHA))

    if case.suite == "mlp":
        net = nn.Sequential(layer.Linear(784, 800), lif(), layer.Linear(800, 10))
    else:
        net = nn.Sequential(
            layer.Conv2d(2, 32, 3, padding=1), lif(), layer.AvgPool2d(2),
            layer.Conv2d(32, 64, 3, padding=1), lif(), layer.AvgPool2d(2),
            layer.Flatten(), layer.Linear(64 * 8 * 8, 10),
        )
    functional.set_step_mode(net, "m")
    net = net.to(case.device)
    return Runner("spikingjelly", "bptt", train_step(net, lambda x: net(x).mean(0), case, lambda: functional.reset_net(net)), net)


def snntorch_runner(case: Case) -> Runner:
    if importlib.util.find_spec("snntorch") is None:
        raise Skip("snntorch is not installed (pip install -e .[bench])")
    import snntorch as snn
    from snntorch import surrogate

    def lif():
        return snn.Leaky(beta=DECAY, threshold=THRESHOLD, spike_grad=surrogate.sigmoid(slope=ALPHA), reset_delay=False)

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            if case.suite == "mlp":
                self.layers = nn.ModuleList([nn.Linear(784, 800), lif(), nn.Linear(800, 10)])
            else:
                self.layers = nn.ModuleList([
                    nn.Conv2d(2, 32, 3, padding=1), lif(), nn.AvgPool2d(2),
                    nn.Conv2d(32, 64, 3, padding=1), lif(), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(64 * 8 * 8, 10),
                ])

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            mems = {i: m.init_leaky() for i, m in enumerate(self.layers) if isinstance(m, snn.Leaky)}
            outputs = []
            for t in range(x.shape[0]):
                h = x[t]
                for i, m in enumerate(self.layers):
                    if i in mems:
                        h, mems[i] = m(h, mems[i])
                    else:
                        h = m(h)
                outputs.append(h)
            return torch.stack(outputs).mean(0)

    net = Net().to(case.device)
    return Runner("snntorch", "bptt", train_step(net, net, case), net)


def floor_runner(case: Case, layout: str = "NCHW") -> Runner:
    """The floor network as an ANN over the merged T*B batch, its tensors in ``layout`` (a key of LAYOUTS)."""
    if case.suite == "mlp":
        net = nn.Sequential(nn.Linear(784, 800), nn.ReLU(), nn.Linear(800, 10))
    else:
        net = nn.Sequential(
            nn.Conv2d(2, 32, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(64 * 8 * 8, 10),
        )
    net = net.to(case.device, memory_format=LAYOUTS[layout])
    forward = lambda x: net(x.flatten(0, 1)).unflatten(0, x.shape[:2]).mean(0)  # noqa: E731
    return Runner(f"{FLOOR} {layout}", "-", train_step(net, forward, case), net)


def runners(case: Case, args) -> list[Runner]:
    specs: list[tuple[str, str, Callable[[], Runner]]] = []
    for name in args.frameworks:
        if name == "snntrain":
            methods = args.methods if case.suite == "conv" else ["bptt"]
            for method in methods:
                for backend in args.backends:
                    specs.append((f"snntrain/{backend}", method, lambda b=backend, m=method: snntrain_runner(case, b, m)))
        elif name == "floor":
            layouts = list(LAYOUTS) if case.suite == "conv" else ["NCHW"]
            specs += [(f"{FLOOR} {layout}", "-", lambda lay=layout: floor_runner(case, lay)) for layout in layouts]
        else:
            builder = {"spikingjelly": spikingjelly_runner, "snntorch": snntorch_runner}[name]
            specs.append((name, "bptt", lambda b=builder: b(case)))
    built = []
    for label, method, make in specs:
        try:
            built.append(make())
        except Skip as why:
            built.append(Runner(label, method, note=f"skipped: {why}"))
        except Exception as err:  # e.g. a method that needs another neuron or readout: reported, not fatal
            built.append(Runner(label, method, note=f"skipped: {type(err).__name__}: {str(err)[:120]}"))
    return built


# ----- measuring --------------------------------------------------------------------------------
def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def peak_memory(step: Callable[[], None], device: torch.device) -> int | None:
    """CUDA max_memory_allocated during one step; None on the CPU (see the module docstring)."""
    if device.type != "cuda":
        return None
    torch.cuda.reset_peak_memory_stats(device)
    step()
    synchronize(device)
    return int(torch.cuda.max_memory_allocated(device))


def saved_bytes(runner: Runner, batch: int) -> float:
    meter = SavedTensorMeter()
    with saving(Codec(), meter, runner.model):
        runner.step()
    return meter.stored_bytes / batch


def step_flops(runner: Runner) -> int:
    """Convolution and matmul FLOPs of one step of ``runner`` (forward and backward)."""
    with FlopCounterMode(display=False) as counter:
        runner.step()
    return counter.get_total_flops()


def minor_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def measure(case: Case, group: list[Runner], warmup: int, steps: int) -> list[dict]:
    live = []
    for r in group:
        if r.step is None:
            continue
        try:
            for _ in range(warmup):
                r.step()
            live.append(r)
        except Exception as err:  # a framework that breaks here is reported, the others still run
            r.note, r.step = f"skipped: {type(err).__name__}: {str(err)[:120]}", None
    for _ in range(steps):
        for r in live:
            synchronize(case.device)
            faults, start = minor_faults(), time.perf_counter()
            r.step()
            synchronize(case.device)
            r.times.append(time.perf_counter() - start)
            r.faults.append(minor_faults() - faults)
    floors = [r for r in live if r.framework.startswith(FLOOR)]
    flops = step_flops(floors[0]) if floors else None
    rows = []
    for r in group:
        row = {"suite": case.suite, "framework": r.framework, "method": r.method, "model": MODELS[case.suite],
               "T": case.T, "batch": case.batch, "device": str(case.device), "threads": torch.get_num_threads()}
        if r.step is not None:
            rate = case.batch / statistics.median(r.times)
            row.update(samples_per_s=rate, page_faults_per_step=statistics.median(r.faults),
                       peak_mem_bytes=peak_memory(r.step, case.device), saved_bytes_per_sample=saved_bytes(r, case.batch))
            if flops:
                row.update(gflop_per_step=flops / 1e9, gflops=flops / 1e9 * rate / case.batch)
        row["note"] = r.note
        rows.append(row)
    return with_ratios(rows)


def with_ratios(rows: list[dict]) -> list[dict]:
    """``x_floor`` (over the faster floor layout) and ``vs_peers`` (over the faster peer) for every timed row."""
    speed = {row["framework"]: row["samples_per_s"] for row in rows if "samples_per_s" in row}
    floor = max((v for k, v in speed.items() if k.startswith(FLOOR)), default=None)
    peer = max((speed[k] for k in PEERS if k in speed), default=None)
    for row in rows:
        if "samples_per_s" in row:
            if floor:
                row["x_floor"] = row["samples_per_s"] / floor
            if peer and row["framework"] not in PEERS:
                row["vs_peers"] = row["samples_per_s"] / peer
    return rows


def measure_at(args: argparse.Namespace, threads: int) -> list[dict]:
    """Every suite and T with ``threads`` torch threads, in this (fresh) process."""
    retain_freed_memory()
    torch.set_num_threads(threads)
    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available() else
                          "cpu" if args.device == "auto" else args.device)
    rows: list[dict] = []
    for suite in args.suites:
        for T in args.T:
            batch = args.batch or (64 if suite == "mlp" else 32)
            case = make_case(suite, T, batch, device, args.precision, args.seed)
            torch.manual_seed(args.seed)
            rows += measure(case, runners(case, args), args.warmup, args.steps)
    return rows


def run(args) -> list[dict]:
    rows: list[dict] = []
    for threads in args.threads:
        before = os.getloadavg()[0]
        with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
            measured = pool.submit(measure_at, args, threads).result()
        after = os.getloadavg()[0]
        rows += [{**row, "load_before": before, "load_after": after} for row in measured]
    report_goals(rows)
    return rows


def report_goals(rows: list[dict]) -> None:
    """One line per conv (T, threads): snntrain/auto against each peer and the floor."""
    for row in rows:
        if row["suite"] != "conv" or row["framework"] != "snntrain/auto" or "samples_per_s" not in row:
            continue
        same = {r["framework"]: r.get("samples_per_s") for r in rows if (r["suite"], r["T"], r["batch"], r["threads"]) == ("conv", row["T"], row["batch"], row["threads"])}
        ratios = {peer: row["samples_per_s"] / same[peer] for peer in PEERS if same.get(peer)}
        met = all(v >= GOAL_VS_PEERS for v in ratios.values()) and row.get("x_floor", 0) >= GOAL_X_FLOOR
        vs = ", ".join(f"{v:.2f}x {peer}" for peer, v in ratios.items())
        print(f"goal conv T={row['T']} threads={row['threads']} (load {row['load_before']:.2f} -> {row['load_after']:.2f}): "
              f"{'met' if met else 'NOT met'}: {vs}, {row.get('x_floor', float('nan')):.2f} of the floor "
              f"(>= {GOAL_VS_PEERS}x each peer, >= {GOAL_X_FLOOR} of the floor)")
