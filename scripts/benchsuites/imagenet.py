"""ImageNet input pipeline: images/s of dataset=imagenet's loader decoding and transforming JPEGs.

Generated 500x375 JPEGs (ImageNet's most common size; smooth colour fields plus noise, ~85 KB
each) are written to a temporary ImageFolder tree, then read as the trainer reads them:
BatchLoader over the training split (RandomResizedCrop + flip) and over the test split
(Resize + CenterCrop), each a decoded, transformed uint8 batch per step (normalised later, on the device).
Command: python scripts/bench.py imagenet [--images 512] [--workers 2] [--batch-size 64]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository, for the test helper's writer

from snntrain.data import BatchLoader  # noqa: E402
from snntrain.data.imagenet import ImageNet, ImageNetConfig  # noqa: E402
from tests.data.imagenet_writer import wnids, write_tree  # noqa: E402

CLASSES = 4


def add_arguments(parser) -> None:
    parser.add_argument("--images", type=int, default=512, help="JPEGs per split (over 4 classes)")
    parser.add_argument("--workers", type=int, default=2, help="decoding threads (dataset.workers)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--width", type=int, default=500)
    parser.add_argument("--height", type=int, default=375)


def run(args) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        per_split = max(1, args.images // CLASSES)
        write_tree(Path(tmp), {"train": per_split, "val": per_split}, wnids(CLASSES), (args.width, args.height))
        cfg = ImageNetConfig(root=tmp, num_classes=CLASSES, image_size=args.image_size, workers=args.workers)
        data = ImageNet(cfg, seed=0).load()
        rows = []
        for view, split in [("train (RandomResizedCrop + flip)", data.train), ("eval (Resize + CenterCrop)", data.test)]:
            loader = BatchLoader(split, args.batch_size, shuffle=True, seed=0)
            start, cpu = time.perf_counter(), time.process_time()
            seen = sum(len(y) for _, y in loader)
            wall = time.perf_counter() - start
            rows.append({
                "measure": f"loader, {view}", "value": seen / wall, "unit": "images/s",
                "per_cpu_s": seen / (time.process_time() - cpu), "images": seen, "source": f"{args.width}x{args.height} JPEG",
                "image_size": args.image_size, "workers": args.workers, "batch_size": args.batch_size,
            })
    return rows
