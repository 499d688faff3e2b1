"""Event data: frame-cache build (files/s) and the training input pipeline from it (samples/s).

Synthetic recordings are written to a temporary folder (``--dataset nmnist``: N-MNIST-like .bin
files, random events over 300 ms; ``--dataset cifar10_dvs``: CIFAR10-DVS-like AEDAT 2.0 files,
random events over 1.3 s on the 128 x 128 sensor, framed into 10 equal-count bins at 48 x 48),
framed into a cache exactly as the dataset does, then read back batch by batch as the trainer
does (BatchLoader, one sorted fancy-index read per shuffled batch, then the events encoder).
Targets (issue 3, N-MNIST, 2 CPU cores): >= 1,000 files/s to build, >= 20,000 samples/s at T=32.
CIFAR10-DVS has no target; its rows say what a 10,000-recording build costs.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository, for the test helper's writer

from snntrain.data import ENCODERS, BatchLoader, Split  # noqa: E402
from snntrain.data.events import convert  # noqa: E402
from snntrain.data.events.aedat import read_recording  # noqa: E402
from snntrain.data.events.framing import FrameSpec, FramingConfig  # noqa: E402
from snntrain.data.events.nmnist_writer import write_split  # noqa: E402
from snntrain.data.events.reader import read_events  # noqa: E402
from tests.data.dvs_writer import write_dataset  # noqa: E402

BUILD_TARGET_FILES_S = 1_000
PIPELINE_TARGET_SAMPLES_S = 20_000


def add_arguments(parser) -> None:
    parser.add_argument("--dataset", default="nmnist", choices=["nmnist", "cifar10_dvs"], help="which recordings to imitate")
    parser.add_argument("--files", type=int, default=2000, help="synthetic recordings (split over 10 classes)")
    parser.add_argument("--events", type=int, default=4000, help="events per recording (CIFAR10-DVS has ~10^5)")
    parser.add_argument("--T", type=int, default=32, help="frames per sample")
    parser.add_argument("--values", default="count", choices=["count", "binary"])
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--batches", type=int, default=100, help="batches timed per pipeline measurement")
    parser.add_argument("--workers", type=int, default=os.cpu_count(), help="cache build processes")


def run(args) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files, labels, spec, reader = recordings(args, root)
        dvs = args.dataset == "cifar10_dvs"
        common = {"dataset": args.dataset, "files": len(files), "events": args.events, "T": args.T, "values": args.values}
        rows = []
        # The first parallel build pays for starting the worker processes (they import numpy, torch
        # and Tonic); the second shows the steady rate of a 70,000-file build. The in-process build
        # gives the CPU cost per file, which does not depend on what else the machine is running.
        for attempt, workers in [("1 process", 1), ("cold workers", args.workers), ("warm workers", args.workers)]:
            path = root / "cache" / attempt.replace(" ", "-") / "train.frames"
            wall, cpu = time.perf_counter(), time.process_time()
            report = convert.build(path, files, labels, spec, {}, workers, "error", progress=False, reader=reader)
            rate, cpu_rate = len(files) / (time.perf_counter() - wall), len(files) / (time.process_time() - cpu)
            rows.append({
                "measure": f"cache build ({attempt})", "value": rate, "unit": "files/s",
                "per_cpu_s": cpu_rate if workers == 1 else None,
                "target": None if dvs else BUILD_TARGET_FILES_S, "ok": dvs or rate >= BUILD_TARGET_FILES_S, "form": report.form,
                "bytes_per_sample": path.stat().st_size / len(files), **common, "workers": workers,
            })
        frames, labels, _ = convert.open_cache(path, spec, None)
        split = Split(frames, torch.from_numpy(labels))
        encode = ENCODERS["events"]
        for name, step in [("loader", lambda x: x), ("loader + events encoder", lambda x: encode(x, args.T))]:
            rate, cpu_rate = pipeline_rate(split, args.batch_size, args.batches, step)
            rows.append({
                "measure": f"input pipeline ({name})", "value": rate, "unit": "samples/s", "per_cpu_s": cpu_rate,
                "target": None if dvs else PIPELINE_TARGET_SAMPLES_S, "ok": dvs or rate >= PIPELINE_TARGET_SAMPLES_S, "form": report.form,
                "batch_size": args.batch_size, **common,
            })
    return rows


def recordings(args, root: Path) -> tuple[list[Path], np.ndarray, FrameSpec, convert.Reader]:
    """Write ``args.files`` synthetic recordings of ``args.dataset``; their paths, labels, frame spec and reader."""
    rng, per_class = np.random.default_rng(0), args.files // 10
    if args.dataset == "nmnist":
        files = write_split(root / "Train", per_class, rng, args.events)
        labels = np.array([int(p.parent.name) for p in files])
        return files, labels, FrameSpec.from_config(FramingConfig(values=args.values), args.T, False), read_events
    by_class = write_dataset(root, per_class, rng, args.events)
    files = [path for paths in by_class.values() for path in paths]
    labels = np.repeat(np.arange(len(by_class)), per_class)
    framing = FramingConfig(mode="n_event_bins", values=args.values)  # dataset=cifar10_dvs's framing
    return files, labels, FrameSpec.from_config(framing, args.T, False, (128, 128), (48, 48)), read_recording


def pipeline_rate(split: Split, batch_size: int, batches: int, step) -> tuple[float, float]:
    """Samples per second and per CPU-second (all threads) of shuffled epochs over ``split``, read as
    the trainer reads them, ``step`` applied to each batch."""
    loader, seen, epoch = BatchLoader(split, batch_size, shuffle=True, seed=0), 0, 0
    for x, _ in loader:  # one untimed batch: page the cache in, as any epoch after the first finds it
        step(x)
    start, cpu = time.perf_counter(), time.process_time()
    while seen < batches * batch_size:
        epoch += 1
        loader.set_epoch(epoch)
        for x, _ in loader:
            step(x)
            seen += len(x)
            if seen >= batches * batch_size:
                break
    return seen / (time.perf_counter() - start), seen / (time.process_time() - cpu)
