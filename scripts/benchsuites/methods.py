"""Gradient methods: training-step time and memory of bptt, ratebp, onestep as T grows.

The network (``--model``) is the conv SNN of the issue, ``model=cnn model.spec=32C3-P2-64C3-P2``
(conv 2->32, LIF, pool, conv 32->64, LIF, pool, FC->10) on random 2x34x34 event frames, or
``model=resnet19`` on random CIFAR-shaped 3x32x32 spike inputs. A step is what the
trainer does: reset the neurons, ``method.step`` inside the saved-tensor meter, an SGD step.
Each (method, T) runs in a fresh process, so ``peak_mem_bytes`` is that run's own peak: CUDA's
max allocated, or on the CPU the peak resident set above the one before the first step.
``*_vs_bptt`` divide by BPTT's figure at the same T (targets: time <= 0.5, memory <= 0.25 at T=32).
Command: python scripts/bench.py methods [--model cnn|resnet19] [--T 4 8 16 32] [--batch 32] [--device auto]
"""

from __future__ import annotations

import resource
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

SPEC = "32C3-P2-64C3-P2"
CLASSES = 10
# name -> (overrides, input shape)
MODELS = {
    "cnn": (["model=cnn", f"model.spec={SPEC}"], (2, 34, 34)),
    "resnet19": (["model=resnet19"], (3, 32, 32)),
}


def add_arguments(parser) -> None:
    parser.add_argument("--model", default="cnn", choices=sorted(MODELS))
    parser.add_argument("--methods", nargs="+", default=["bptt", "ratebp", "onestep"])
    parser.add_argument("--T", nargs="+", type=int, default=[4, 8, 16, 32])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=5, help="timed steps; the median is reported")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])


def resident_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def measure(method: str, T: int, batch: int, steps: int, warmup: int, device_name: str, model_name: str = "cnn") -> dict:
    """One (method, T) configuration, in this process: peak memory is the process's on the CPU (run
    each in a fresh process there), CUDA's max allocated since this call on a GPU."""
    import torch
    from hydra import compose, initialize_config_module
    from hydra.core.global_hydra import GlobalHydra

    import snntrain.components  # noqa: F401  (registers the schemas)
    from snntrain.compress import SavedTensorMeter, saving
    from snntrain.engine.trainer import resolve_device
    from snntrain.neurons import reset_states
    from snntrain.registry import build

    GlobalHydra.instance().clear()
    with initialize_config_module(config_module="snntrain.configs", version_base="1.3"):
        cfg = compose("train", [*MODELS[model_name][0], f"method={method}", f"T={T}", "optimizer=sgd"])
    shape = MODELS[model_name][1]
    device = resolve_device(device_name)
    torch.manual_seed(0)
    model = build("model", cfg.model, shape, CLASSES, build("neuron", cfg.neuron)).to(device)
    grad_method = build("method", cfg.method, T)
    optimizer = build("optimizer", cfg.optimizer, model)
    codec = build("compression", cfg.compression)
    x = (torch.rand(T, batch, *shape, device=device) < 0.1).float()
    y = torch.randint(0, CLASSES, (batch,), device=device)

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    before = resident_bytes()
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    times, meter = [], SavedTensorMeter()
    for i in range(warmup + steps):
        meter = SavedTensorMeter(samples=batch)
        sync()
        start = time.perf_counter()
        reset_states(model)
        optimizer.zero_grad(set_to_none=True)
        with saving(codec, meter, model):
            grad_method.step(model, x, y)
        optimizer.step()
        sync()
        if i >= warmup:
            times.append(time.perf_counter() - start)
    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated(device)
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
    step_time = statistics.median(times)
    return {
        "suite": "methods",
        "framework": "snntrain",
        "method": method,
        "model": " ".join(MODELS[model_name][0]),
        "T": T,
        "batch": batch,
        "device": str(device),
        "step_time_s": step_time,
        "samples_per_s": batch / step_time,
        "peak_mem_bytes": peak,
        "saved_bytes_per_sample": meter.saved_bytes_per_sample,
    }


def run(args) -> list[dict]:
    rows = []
    context = get_context("spawn")
    for T in args.T:
        for method in args.methods:
            with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
                rows.append(pool.submit(measure, method, T, args.batch, args.steps, args.warmup, args.device, args.model).result())
    bptt = {row["T"]: row for row in rows if row["method"] == "bptt"}
    for row in rows:
        base = bptt.get(row["T"])
        if base is not None:
            row["time_vs_bptt"] = row["step_time_s"] / base["step_time_s"]
            row["saved_vs_bptt"] = row["saved_bytes_per_sample"] / base["saved_bytes_per_sample"]
            row["peak_vs_bptt"] = row["peak_mem_bytes"] / max(base["peak_mem_bytes"], 1)
    return rows
