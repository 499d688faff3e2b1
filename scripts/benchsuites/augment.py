"""Training-batch augmentation (dataset.augment.*): time per batch beside the same input path without it.

Batches as the trainer sees them after the loader: CIFAR uint8 images [B,3,32,32] through the
dataset's transform (to float, normalise) and the direct encoder, with the rate-BP CIFAR recipe
without AutoAugment (crop_padding=4, flip, cutout=16) and with it (+ autoaugment=cifar10, the
official recipe); and CIFAR10-DVS-sized uint8 event frames [B,10,2,48,48] with its recipe (flip,
roll=5) and the events encoder. Each repetition times the input path without augmentation, then
with it, interleaved; medians reported.
Command: python scripts/bench.py augment [--batch 128] [--reps 30] [--device cpu]
"""

from __future__ import annotations

import statistics
import time

import torch

from snntrain.data import ENCODERS
from snntrain.data.augment import AugmentConfig, augment, batch_generator
from snntrain.data.vision import CIFAR10_SPEC, ImageScaling

CIFAR_SCALING = ImageScaling(CIFAR10_SPEC.mean, CIFAR10_SPEC.std)
CIFAR_RECIPE = {"flip": True, "crop_padding": 4, "cutout": 16}
WORKLOADS = {  # shape, stored dtype, the dataset's transform, encoder, T, augmentation
    "cifar": ((3, 32, 32), torch.uint8, CIFAR_SCALING, "direct", 4, AugmentConfig(**CIFAR_RECIPE)),
    "cifar_autoaugment": ((3, 32, 32), torch.uint8, CIFAR_SCALING, "direct", 4, AugmentConfig(**CIFAR_RECIPE, autoaugment="cifar10")),
    "dvs": ((10, 2, 48, 48), torch.uint8, None, "events", 10, AugmentConfig(flip=True, roll=5)),
}


def add_arguments(parser) -> None:
    parser.add_argument("--workloads", nargs="+", default=list(WORKLOADS), choices=list(WORKLOADS))
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--reps", type=int, default=30, help="timed repetitions; the median is reported")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])


def elapsed(fn, device: torch.device) -> float:
    """Seconds one call of ``fn`` takes (CUDA work waited for)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start


def input_path(transform, encoder: str):
    """The trainer's way from a stored batch to model input: the dataset's transform if any, then the encoder."""
    encode = ENCODERS[encoder]
    if transform is None:
        return encode
    return lambda x, T: encode(transform(x), T)


def run(args) -> list[dict]:
    device = torch.device(args.device)
    rows = []
    for name in args.workloads:
        shape, dtype, transform, encoder, T, cfg = WORKLOADS[name]
        x = (torch.rand(args.batch, *shape) * 255).to(dtype).to(device)
        encode = input_path(transform, encoder)
        times: dict[str, list[float]] = {"none": [], "augment": []}
        for step in range(args.reps + 1):  # the first repetition warms up and is dropped
            generator = batch_generator(0, 0, step, 0)
            plain = elapsed(lambda: encode(x, T), device)  # noqa: B023  (called at once)
            augmented = elapsed(lambda: encode(augment(x, cfg, generator), T), device)  # noqa: B023
            if step:
                times["none"].append(plain)
                times["augment"].append(augmented)
        none_ms, aug_ms = (1e3 * statistics.median(times[key]) for key in ("none", "augment"))
        rows.append({
            "workload": name, "shape": str([args.batch, *shape]), "dtype": str(dtype).removeprefix("torch."),
            "augment": ",".join(f"{k}={getattr(cfg, k)}" for k in cfg.enabled()),
            "input_path": f"{'to float, normalise, ' if transform else ''}{encoder} encoder",
            "none_ms": none_ms, "augment_ms": aug_ms, "overhead_ms": aug_ms - none_ms,
            "overhead_us_per_sample": 1e3 * (aug_ms - none_ms) / args.batch,
            "device": str(device), "threads": torch.get_num_threads(),
        })
    return rows
