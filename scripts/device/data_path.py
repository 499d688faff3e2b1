"""GPU check: does the data path keep the GPU busy? Training-step time with the trainer's real
input path against the same step on a batch already on the device.

Real path: the trainer's loader (torch DataLoader, data/loading.py) reads, decodes and augments
batches in ``dataset.loader_workers`` processes ahead of the step and pins them; the trainer copies
each to the device without blocking, transforms and encodes it, then ``train_step`` runs (the
trainer's loop, timed batch to batch). Staged: one batch from the same loader is kept on the
device and the same ``train_step`` runs on it. The ratio real/staged is the loader's cost the step
does not hide (1.0: the GPU never waits). Cases: CIFAR-shaped in-memory images with and without
the rate-BP CIFAR recipe's augmentation (ResNet-19, T=4, batch 64), and an ImageNet-layout JPEG
folder (generated 500x375 JPEGs; SEW-ResNet-34, T=4, batch 64); each row states its loader processes
and decoding threads.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from _common import dry_run_requested, emit, parser, row

DRY_RUN = dry_run_requested()

import torch  # noqa: E402
from benchsuites.data_path import CIFAR_RECIPE, step_times  # noqa: E402  (the CPU suite's measurement)

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # the test helpers' JPEG writer

from tests.data.imagenet_writer import wnids, write_tree  # noqa: E402

PIECE = "data_path"


def case_rows(name: str, overrides: list[str], run_dir: Path, batches: int) -> list[dict]:
    try:
        real, staged = step_times(overrides, run_dir, batches)
    except Exception as err:
        return [row(PIECE, name, note=f"failed: {type(err).__name__}: {str(err)[:160]}")]
    return [row(PIECE, f"{name}: real path / staged batch", round(real / staged, 2), "x", "<= 1.05x",
                f"real {real * 1e3:.1f} ms, staged {staged * 1e3:.1f} ms per step")]


def measure(device: str, batch: int, T: int, batches: int, images: int, loaders: int, threads: int, small: bool) -> list[dict]:
    model = ["model=cnn", "model.spec=8C3-P2"] if small else ["model=resnet19"]
    imagenet_model = ["model=cnn", "model.spec=8C3-P4"] if small else ["model=sew_resnet34"]
    with tempfile.TemporaryDirectory() as tmp:
        cifar = ["dataset=synthetic", "dataset.input_shape=[3,32,32]", f"dataset.train_size={batch * (batches + 3)}",
                 f"dataset.batch_size={batch}", f"trainer.device={device}", f"T={T}", *model]
        recipe = [*cifar, *CIFAR_RECIPE, f"dataset.loader_workers={loaders}"]
        rows = case_rows(f"CIFAR-shaped in memory + rate-BP recipe augmentation ({loaders} loader processes), T={T} B={batch}", recipe, Path(tmp) / "a", batches)
        rows += case_rows(f"CIFAR-shaped in memory, no augmentation (read in the training process), T={T} B={batch}", cifar, Path(tmp) / "b", batches)
        jpegs = Path(tmp) / "imagenet"
        write_tree(jpegs, {"train": images // 4, "val": 1}, wnids(4), (500, 375))
        imagenet = ["dataset=imagenet", f"dataset.root={jpegs}", "dataset.num_classes=4", f"dataset.workers={threads}",
                    f"dataset.loader_workers={loaders}", f"dataset.batch_size={batch}", f"trainer.device={device}", f"T={T}", *imagenet_model]
        if small:
            imagenet.append("dataset.image_size=32")
        rows += case_rows(f"ImageNet JPEG folder ({loaders} loader processes x {threads} decoding threads), T={T} B={batch}", imagenet, Path(tmp) / "c", batches)
    return rows


def main() -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--T", type=int, default=4)
    p.add_argument("--batches", type=int, default=6, help="timed steps per case (after 2 warm-up steps)")
    p.add_argument("--loader-workers", type=int, default=8, help="dataset.loader_workers: processes reading ahead")
    p.add_argument("--threads", type=int, default=2, help="dataset.workers of ImageNet: decoding threads per batch")
    args = p.parse_args()
    if args.cpu_dry_run:
        rows = measure("cpu", 4, 2, 2, 40, 1, 2, small=True)
        return emit([{**r, "note": f"CPU dry run, not a measurement; {r['note']}"} for r in rows], args.json)
    if not torch.cuda.is_available():
        return emit([row(PIECE, "data path vs staged batch", note="skipped: no CUDA device")], args.json)
    images = 4 * -(-args.batch * (args.batches + 3) // 4)
    return emit(measure("cuda", args.batch, args.T, args.batches, images, args.loader_workers, args.threads, small=False), args.json)


if __name__ == "__main__":
    sys.exit(main())
