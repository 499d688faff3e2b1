"""Data path: training-step time through the trainer's real loader against the same step on a batch
already in memory, for each kind of dataset, at the batch sizes of the paper rows.

Real: the trainer's loop (data/loading.py's DataLoader, ``dataset.loader_workers`` processes reading,
decoding and augmenting ahead; transfer, transform, encoder, ``train_step``), timed batch to batch.
Staged: one batch from the same loader, kept on the device, and the same ``train_step`` on it. The
ratio real/staged is the loader's cost the step does not hide (goal: <= 1.05). Cases:
* ``images``: CIFAR-shaped images held in memory with the rate-BP CIFAR recipe's augmentation
  (crop 4, flip, AutoAugment, Cutout 16), batch 128 (the ``ratebp_cifar*`` rows), ResNet-19, T=4;
* ``events``: an N-MNIST frame cache (synthetic recordings, the HM2-BP row's 600 us binary frames),
  batch 16, the ``hm2bp_nmnist_mlp`` row (2312-800-10, T=540);
* ``jpeg``: an ImageNet-layout folder of 500x375 JPEGs, batch ``--jpeg-batch`` (the row's is 512
  per process; SEW-ResNet-34, T=4, RandomResizedCrop 224).
``--small`` swaps in small models and image sizes (a quick check: the ratio then weighs the loader
against a much cheaper step). Every row states its loader processes and decoding threads.
Command: python scripts/bench.py data_path [--cases images events jpeg] [--loader-workers 2] [--small]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository: test helpers' writers, configs

from snntrain.app import make_trainer  # noqa: E402
from snntrain.compress import SavedTensorMeter  # noqa: E402
from snntrain.data.events.nmnist_writer import write_split  # noqa: E402
from tests.conftest import compose_config  # noqa: E402
from tests.data.imagenet_writer import wnids, write_tree  # noqa: E402

QUIET = ["logger=none", "trainer.progress=false", "trainer.max_epochs=1"]
CIFAR_RECIPE = ["dataset.augment.crop_padding=4", "dataset.augment.flip=true", "dataset.augment.autoaugment=cifar10", "dataset.augment.cutout=16"]
GOAL = 1.05


def add_arguments(parser) -> None:
    parser.add_argument("--cases", nargs="+", default=["images", "events", "jpeg"], choices=["images", "events", "jpeg"])
    parser.add_argument("--loader-workers", type=int, default=2, help="dataset.loader_workers of every case")
    parser.add_argument("--threads", type=int, default=1, help="dataset.workers of the JPEG case: decoding threads per batch")
    parser.add_argument("--jpeg-batch", type=int, default=64)
    parser.add_argument("--batches", type=int, default=4, help="timed steps per case (after 2 warm-up steps)")
    parser.add_argument("--small", action="store_true", help="small models and images: a quick check, not the rows' steps")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def step_times(overrides: list[str], run_dir: Path, batches: int, warmup: int = 2) -> tuple[float, float]:
    """Median step time (s) through the real path, and on a staged device batch."""
    trainer = make_trainer(compose_config([*QUIET, f"trainer.limit_batches={warmup + batches}", *overrides]), run_dir)
    meter, device = SavedTensorMeter(), trainer.device
    real = []
    sync(device)
    start = time.perf_counter()
    for i, (x, y) in enumerate(trainer.train_loader.batches()):
        trainer.train_step(x, y, meter, i)
        sync(device)
        now = time.perf_counter()
        if i >= warmup:
            real.append(now - start)
        start = now
    x, y = next(iter(trainer.train_loader.batches()))
    x, y = x.to(device), y.to(device)
    staged = []
    for i in range(warmup + batches):
        sync(device)
        start = time.perf_counter()
        trainer.train_step(x, y, meter, i)
        sync(device)
        if i >= warmup:
            staged.append(time.perf_counter() - start)
    return statistics.median(real), statistics.median(staged)


def cases(root: Path, names: list[str], args) -> dict[str, list[str]]:
    """Overrides of each case, its data written under ``root``."""
    device = [f"trainer.device={args.device}"]
    found: dict[str, list[str]] = {}
    if "images" in names:
        batch = 16 if args.small else 128
        model = ["model=cnn", "model.spec=8C3-P2"] if args.small else ["model=resnet19"]
        found[f"in-memory images + rate-BP CIFAR recipe, ResNet-19 T=4 B={batch}"] = [
            "dataset=synthetic", "dataset.input_shape=[3,32,32]", f"dataset.train_size={batch * (args.batches + 4)}",
            f"dataset.batch_size={batch}", "T=4", *model, *CIFAR_RECIPE, *device]
    if "events" in names:
        files = 16 * (args.batches + 4) // 10 + 1
        write_split(root / "nmnist" / "Train", files, np.random.default_rng(0), 4000)
        write_split(root / "nmnist" / "Test", 1, np.random.default_rng(1), 4000)
        small = ["T=54", "dataset.framing.time_window_us=6000"] if args.small else []
        found["cached N-MNIST frames, hm2bp_nmnist_mlp row (T=540 B=16)"] = [
            "experiment=hm2bp_nmnist_mlp", f"dataset.root={root / 'nmnist'}", "dataset.val_fraction=0", "dataset.progress=false",
            *small, *device]
    if "jpeg" in names:
        batch = args.jpeg_batch
        write_tree(root / "imagenet", {"train": -(-batch * (args.batches + 4) // 4), "val": 1}, wnids(4), (500, 375))
        small = ["model=cnn", "model.spec=8C3-P4", "dataset.image_size=32"] if args.small else ["model=sew_resnet34"]
        found[f"ImageNet JPEG folder, SEW-ResNet-34 T=4 B={batch} ({args.threads} decoding threads per process)"] = [
            "dataset=imagenet", f"dataset.root={root / 'imagenet'}", "dataset.num_classes=4", f"dataset.workers={args.threads}",
            f"dataset.batch_size={batch}", "T=4", *small, *device]
    return found


def run(args) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, overrides in cases(Path(tmp), args.cases, args).items():
            before = os.getloadavg()[0]
            workers = [f"dataset.loader_workers={args.loader_workers}"]
            real, staged = step_times([*overrides, *workers], Path(tmp) / f"run{len(rows)}", args.batches)
            rows.append({
                "case": name + (" (--small)" if args.small else ""), "loader_workers": args.loader_workers,
                "real_step_ms": 1e3 * real, "staged_step_ms": 1e3 * staged, "real_vs_staged": real / staged,
                "goal_met": real / staged <= GOAL, "threads": torch.get_num_threads(), "load_before": before, "load_after": os.getloadavg()[0],
            })
    return rows
