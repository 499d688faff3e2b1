"""Frameworks side by side: snntrain (each LIF backend), SpikingJelly, snnTorch and a FLOP floor.

Every framework trains the same network with the same hyperparameters (Adam, lr 1e-3,
cross-entropy on the time-averaged output, BPTT) on the same random batch, in one process:

* ``mlp``:  784-800-10, input spikes [T, B, 784] (Bernoulli, p = 0.2)
* ``conv``: 2x34x34 event frames [T, B, 2, 34, 34] (p = 0.1) -> conv 2->32 3x3, LIF, avg-pool 2,
  conv 32->64 3x3, LIF, avg-pool 2, FC 4096->10
* ``floor``: the same convolutions and matmuls as a plain ANN (ReLU) over the merged T*B batch:
  the machine's limit for this arithmetic.

LIF everywhere: decay 0.5 (tau 2, input not decayed), threshold 1, soft reset, detached reset,
sigmoid surrogate with alpha 4. SpikingJelly (``LIFNode(decay_input=False, v_reset=None)``,
multi-step mode, its device-dispatched op) computes exactly this. snnTorch (``Leaky(beta=0.5,
reset_delay=False)``, ``surrogate.sigmoid(slope=4)``, one step at a time, as its API runs) fires
on u > theta instead of u >= theta and lets the gradient through the reset.

Timing: every runner is warmed up (compilation happens there), then the runners take turns,
one training step each, ``--steps`` times; ``samples_per_s`` is batch / the median step time.
Taking turns spreads background load evenly over the frameworks. ``saved_bytes_per_sample``:
the bytes autograd saves for backward (parameters excluded) in one step, divided by the batch.
``peak_mem_bytes``: CUDA max_memory_allocated during one step; CPU: the growth of the process's
peak resident set during one step (Linux /proc; the allocator's cached memory is not counted).
``x_floor``: samples_per_s / that of the (contiguous) floor row with the same suite, T and batch.
``--channels-last`` adds snntrain/auto and the floor with channels_last convolutions.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

# Only the registrations the suite needs (methods, models, the LIF): a GPU box with torch and
# hydra-core runs it without the data and logging stack.
import snntrain.methods  # noqa: F401
import snntrain.models  # noqa: F401
import snntrain.neurons.lif  # noqa: F401
from snntrain.compress import Codec, SavedTensorMeter, saving
from snntrain.neurons import reset_states
from snntrain.registry import build

DECAY, THRESHOLD, ALPHA, LR = 0.5, 1.0, 4.0, 1e-3
MODELS = {"mlp": "784-800-10", "conv": "2x34x34 32C3-P2-64C3-P2-10"}
FRAMEWORKS = ["snntrain", "spikingjelly", "snntorch", "floor"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--suites", nargs="+", default=["mlp", "conv"], choices=sorted(MODELS))
    parser.add_argument("--T", nargs="+", type=int, default=[8, 32])
    parser.add_argument("--batch", type=int, help="batch size (default: 64 for mlp, 32 for conv)")
    parser.add_argument("--frameworks", nargs="+", default=FRAMEWORKS, choices=FRAMEWORKS)
    parser.add_argument("--backends", nargs="+", default=["torch", "compile", "triton", "auto"],
                        help="snntrain neuron backends (triton needs CUDA tensors)")
    parser.add_argument("--methods", nargs="+", default=["bptt"], help="snntrain methods (conv suite)")
    parser.add_argument("--channels-last", action="store_true", help="also snntrain/auto with channels_last convs")
    parser.add_argument("--precision", default="32", choices=["32", "bf16"], help="autocast for every framework")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--threads", type=int, help="torch.set_num_threads")
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
def snntrain_runner(case: Case, backend: str, method: str, channels_last: bool) -> Runner:
    label = f"snntrain/{backend}" + ("+channels_last" if channels_last else "")
    if backend == "triton" and case.device.type != "cuda" and os.environ.get("TRITON_INTERPRET") != "1":
        raise Skip("triton runs CUDA tensors (CPU only under TRITON_INTERPRET=1)")
    neuron = build("neuron", {"name": "lif", "tau": 1 / (1 - DECAY), "backend": backend})
    if case.suite == "mlp":
        model = build("model", {"name": "mlp", "hidden": [800]}, (784,), 10, neuron)
    else:
        model = build("model", {"name": "cnn", "spec": "32C3-P2-64C3-P2", "pool": "avg"}, (2, 34, 34), 10, neuron)
    model = model.to(case.device, memory_format=torch.channels_last if channels_last else torch.preserve_format)
    gradient = build("method", {"name": method}, case.T)
    opt = torch.optim.Adam(model.parameters(), lr=LR)

    def step() -> None:
        model.train()
        reset_states(model)
        opt.zero_grad(set_to_none=True)
        with autocast(case):
            gradient.step(model, case.x, case.y)
        opt.step()

    return Runner(label, method, step, model)


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


def floor_runner(case: Case, channels_last: bool = False) -> Runner:
    if case.suite == "mlp":
        net = nn.Sequential(nn.Linear(784, 800), nn.ReLU(), nn.Linear(800, 10))
    else:
        net = nn.Sequential(
            nn.Conv2d(2, 32, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(64 * 8 * 8, 10),
        )
    net = net.to(case.device, memory_format=torch.channels_last if channels_last else torch.preserve_format)
    forward = lambda x: net(x.flatten(0, 1)).unflatten(0, x.shape[:2]).mean(0)  # noqa: E731
    label = "floor (ANN, merged T*B)" + ("+channels_last" if channels_last else "")
    return Runner(label, "-", train_step(net, forward, case), net)


def runners(case: Case, args) -> list[Runner]:
    specs: list[tuple[str, str, Callable[[], Runner]]] = []
    for name in args.frameworks:
        if name == "snntrain":
            methods = args.methods if case.suite == "conv" else ["bptt"]
            for method in methods:
                for backend in args.backends:
                    specs.append((f"snntrain/{backend}", method, lambda b=backend, m=method: snntrain_runner(case, b, m, False)))
            if args.channels_last and case.suite == "conv":
                specs.append(("snntrain/auto+channels_last", "bptt", lambda: snntrain_runner(case, "auto", "bptt", True)))
        else:
            builder = {"spikingjelly": spikingjelly_runner, "snntorch": snntorch_runner, "floor": floor_runner}[name]
            specs.append((name, "bptt", lambda b=builder: b(case)))
            if name == "floor" and args.channels_last and case.suite == "conv":
                specs.append(("floor+channels_last", "-", lambda: floor_runner(case, True)))
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


def _proc_status(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(key)


def peak_memory(step: Callable[[], None], device: torch.device) -> int | None:
    """Peak memory of one step (see the module docstring); None where it cannot be read."""
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        step()
        synchronize(device)
        return int(torch.cuda.max_memory_allocated(device))
    try:
        before = _proc_status("VmRSS")
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
        step()
        return max(_proc_status("VmHWM") - before, 0)
    except OSError:
        return None


def saved_bytes(runner: Runner, batch: int) -> float:
    meter = SavedTensorMeter()
    with saving(Codec(), meter, runner.model):
        runner.step()
    return meter.stored_bytes / batch


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
            start = time.perf_counter()
            r.step()
            synchronize(case.device)
            r.times.append(time.perf_counter() - start)
    rows = []
    for r in group:
        row = {"suite": case.suite, "framework": r.framework, "method": r.method, "model": MODELS[case.suite],
               "T": case.T, "batch": case.batch, "device": str(case.device)}
        if r.step is not None:
            row.update(samples_per_s=case.batch / statistics.median(r.times),
                       peak_mem_bytes=peak_memory(r.step, case.device),
                       saved_bytes_per_sample=saved_bytes(r, case.batch))
        row["note"] = r.note
        rows.append(row)
    floor = next((row.get("samples_per_s") for row in rows if row["framework"] == "floor (ANN, merged T*B)"), None)
    for row in rows:
        if floor and "samples_per_s" in row:
            row["x_floor"] = row["samples_per_s"] / floor
    return rows


def run(args) -> list[dict]:
    if args.threads:
        torch.set_num_threads(args.threads)
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
