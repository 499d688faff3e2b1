"""Gradient methods: training-step time and memory of bptt, ratebp, onestep as T grows.

The network (``--model``) is the conv SNN of the issue, ``model=cnn model.spec=32C3-P2-64C3-P2``
(conv 2->32, LIF, pool, conv 32->64, LIF, pool, FC->10) on random 2x34x34 event frames, or
``model=resnet19`` on random CIFAR-shaped 3x32x32 spike inputs, laid out as the trainer lays it out
(NHWC on the CPU). A step is
what the trainer does: reset the neurons, ``method.step`` inside the saved-tensor meter, an SGD
step. Each (method, T) runs in a fresh process. ``peak_mem_bytes``: CUDA's max allocated during a
step, or on the CPU the growth of the process's peak resident set during a step after a warm-up
step, with every block above 256 KiB mapped and unmapped on its own so that the resident set follows
what is live (measured before the trainer's malloc policy is set: with it the process keeps what it
freed and the resident set no longer shows a step's own peak). ``ratebp`` and
``onestep`` run their graph-free pass in time chunks (methods/time_chunks.py); ``--one-call``
adds rows ``ratebp/one-call`` and ``onestep/one-call`` with it in one call over all T steps, the
way it ran before (their memory), and ``time_vs_one_call``: the chunked row's step time over the
one-call pass's, both timed in the chunked row's process, step for step in turn.
``*_vs_bptt`` divide by BPTT's figure at the same T; ``peak_vs_first_T`` by the method's own peak
at the smallest T measured. Goals (issue): peak <= 0.25x BPTT at T=32 and peak(T=64)/peak(T=4)
<= 1.2 for ratebp and onestep; their step time at most 1.1x the one-call pass's.
Command: python scripts/bench.py methods [--model cnn|resnet19] [--T 4 8 16 32 64] [--batch 32] [--one-call] [--threads 1]
"""

from __future__ import annotations

import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

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
    parser.add_argument("--one-call", action="store_true", help="also ratebp/onestep with the graph-free pass in one call")
    parser.add_argument("--threads", type=int, help="torch.set_num_threads in each process (default: torch's)")


def measure(method: str, T: int, batch: int, steps: int, warmup: int, device_name: str, model_name: str = "cnn",
            one_call: bool = False, threads: int | None = None, compare_one_call: bool = False) -> dict:
    """One (method, T) configuration, in this (fresh) process. Memory first, with malloc set so that
    the resident set follows what is live (engine/host_memory.py): after ``warmup`` steps, the growth
    of the peak resident set during one step (VmHWM reset by /proc/self/clear_refs), or CUDA's max allocated.
    Then the trainer's malloc policy (engine/host_memory.py) and the timed steps, after ``warmup``
    more. ``one_call``: the graph-free pass of ratebp/onestep over all T steps at once;
    ``compare_one_call``: also time the one-call pass, in turn with the chunked one."""
    import torch
    from hydra import compose, initialize_config_module
    from hydra.core.global_hydra import GlobalHydra

    from snntrain.core.registry import register_schemas
    register_schemas()  # before Hydra composes
    from snntrain.compress import SavedTensorMeter, saving
    from snntrain.core.registry import build
    from snntrain.core.spiking import reset_states
    from snntrain.engine.device import resolve_device
    from snntrain.engine.host_memory import resident_set_follows_live_memory, retain_freed_memory
    from snntrain.engine.layout import conv_memory_format
    from snntrain.engine.training_memory import status_bytes
    from snntrain.methods import time_chunks

    if threads:
        torch.set_num_threads(threads)
    if one_call:
        time_chunks.CHUNK_STEPS = T
    GlobalHydra.instance().clear()
    with initialize_config_module(config_module="snntrain.configs", version_base="1.3"):
        cfg = compose("train", [*MODELS[model_name][0], f"method={method}", f"T={T}", "optimizer=sgd"])
    shape = MODELS[model_name][1]
    device = resolve_device(device_name)
    torch.manual_seed(0)
    model = build("model", cfg.model, shape, CLASSES, build("neuron", cfg.neuron))
    model = model.to(device, memory_format=conv_memory_format(model, device, None))
    grad_method = build("method", cfg.method, T)
    optimizer = build("optimizer", cfg.optimizer, model)
    codec = build("compression", cfg.compression)
    x = (torch.rand(T, batch, *shape, device=device) < 0.1).float()
    y = torch.randint(0, CLASSES, (batch,), device=device)

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    def step() -> SavedTensorMeter:
        meter = SavedTensorMeter(samples=batch)
        reset_states(model)
        optimizer.zero_grad(set_to_none=True)
        with saving(codec, meter, model):
            grad_method.step(model, x, y)
        optimizer.step()
        sync()
        return meter

    resident_set_follows_live_memory()
    for _ in range(warmup):
        step()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        step()
        peak = torch.cuda.max_memory_allocated(device)
    else:
        before = status_bytes("VmRSS")
        Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
        step()
        peak = status_bytes("VmHWM") - before
    retain_freed_memory()
    # Against the one-call pass, timed in this process too, step for step in turn with the chunked
    # one: a ratio of two processes run minutes apart would weigh the machine's load, not the chunks.
    chunk_steps = {"chunked": time_chunks.CHUNK_STEPS, "one call": T}
    turns = list(chunk_steps) if compare_one_call else ["chunked"]
    times: dict[str, list[float]] = {turn: [] for turn in turns}
    for i in range(warmup + steps):
        for turn in turns:
            time_chunks.CHUNK_STEPS = chunk_steps[turn]
            sync()
            start = time.perf_counter()
            meter = step()
            if i >= warmup:
                times[turn].append(time.perf_counter() - start)
    time_chunks.CHUNK_STEPS = chunk_steps["chunked"]
    step_time = statistics.median(times["chunked"])
    ratio = {"time_vs_one_call": step_time / statistics.median(times["one call"])} if compare_one_call else {}
    return {
        **ratio,
        "suite": "methods",
        "framework": "snntrain",
        "method": f"{method}/one-call" if one_call else method,
        "model": " ".join(MODELS[model_name][0]),
        "threads": torch.get_num_threads(),
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
    variants = [(m, False) for m in args.methods]
    if args.one_call:
        variants += [(m, True) for m in args.methods if m in ("ratebp", "onestep")]
    for T in args.T:
        for method, one_call in variants:
            with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
                compare = args.one_call and not one_call and method in ("ratebp", "onestep")
                rows.append(pool.submit(measure, method, T, args.batch, args.steps, args.warmup, args.device, args.model, one_call, args.threads, compare).result())
    bptt = {row["T"]: row for row in rows if row["method"] == "bptt"}
    first = {}
    for row in rows:
        first.setdefault(row["method"], row)
        row["peak_vs_first_T"] = row["peak_mem_bytes"] / max(first[row["method"]]["peak_mem_bytes"], 1)
        base = bptt.get(row["T"])
        if base is not None:
            row["time_vs_bptt"] = row["step_time_s"] / base["step_time_s"]
            row["saved_vs_bptt"] = row["saved_bytes_per_sample"] / base["saved_bytes_per_sample"]
            row["peak_vs_bptt"] = row["peak_mem_bytes"] / max(base["peak_mem_bytes"], 1)
    report_goals(rows)
    return rows


def report_goals(rows: list[dict]) -> None:
    """One line per memory-saving method: its peak against BPTT's at T=32, over T, and its step time
    against its one-call pass."""
    for method in ("ratebp", "onestep"):
        mine = sorted((r for r in rows if r["method"] == method), key=lambda r: r["T"])
        if not mine:
            continue
        at32 = next((r for r in mine if r["T"] == 32 and "peak_vs_bptt" in r), None)
        flat = mine[-1]["peak_mem_bytes"] / max(mine[0]["peak_mem_bytes"], 1)
        parts = [f"peak {at32['peak_vs_bptt']:.3f}x BPTT at T=32 (<= 0.25)" if at32 else "T=32 not measured",
                 f"peak T={mine[-1]['T']} / T={mine[0]['T']} = {flat:.2f} (<= 1.2 from T=4 to 64)"]
        parts += [f"step {r['time_vs_one_call']:.2f}x the one-call pass at T={r['T']} (<= 1.1)" for r in mine if "time_vs_one_call" in r]
        print(f"goal {method}: " + "; ".join(parts))
