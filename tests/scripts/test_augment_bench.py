"""The augmentation benchmark suite (scripts/bench.py augment) on tiny batches."""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from benchsuites import augment  # noqa: E402


def test_augment_suite_times_the_recipes_beside_no_augmentation():
    parser = argparse.ArgumentParser()
    augment.add_arguments(parser)
    rows = augment.run(parser.parse_args(["--batch", "2", "--reps", "2"]))
    assert [r["workload"] for r in rows] == ["cifar", "cifar_autoaugment", "dvs"]
    cifar = "flip=True,crop_padding=4,cutout=16"
    assert [r["augment"] for r in rows] == [cifar, cifar + ",autoaugment=cifar10", "flip=True,roll=5"]
    for row in rows:
        assert row["none_ms"] > 0 and row["augment_ms"] > 0
        assert row["overhead_ms"] == row["augment_ms"] - row["none_ms"]
