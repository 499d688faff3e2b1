"""The ImageNet loader benchmark (scripts/bench.py imagenet) on a few small JPEGs."""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from benchsuites import imagenet  # noqa: E402


def test_imagenet_suite_times_the_train_and_eval_views():
    parser = argparse.ArgumentParser()
    imagenet.add_arguments(parser)
    rows = imagenet.run(parser.parse_args(["--images", "8", "--batch-size", "4", "--image-size", "16", "--width", "40", "--height", "30"]))
    assert [r["measure"].split(",")[1].split()[0] for r in rows] == ["train", "eval"]
    assert all(r["images"] == 8 and r["value"] > 0 and r["unit"] == "images/s" for r in rows)
