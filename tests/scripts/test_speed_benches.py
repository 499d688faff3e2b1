"""The speed suites run end to end at toy sizes and report what their goals are checked on."""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from benchsuites import frameworks, hm2bp  # noqa: E402


def parse(module, argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    module.add_arguments(parser)
    return parser.parse_args(argv)


def test_hm2bp_suite_sets_each_step_against_its_matmul_floor():
    rows = hm2bp.run(parse(hm2bp, ["--T", "6", "--inputs", "20", "--hidden", "8", "--batch-size", "2", "--steps", "1"]))
    assert [r["method"] for r in rows] == ["bptt", "hm2bp"]
    # mm/addmm of the 20-8-10 network: forward drives and weight gradients at least
    assert all(r["gflop_per_step"] * 1e9 >= 2 * 2 * 6 * 2 * (20 * 8 + 8 * 10) and r["x_floor"] > 0 for r in rows)
    assert all({"load_before", "load_after", "threads", "nmnist_epoch_h"} <= r.keys() for r in rows)


def test_frameworks_suite_measures_each_thread_count_in_its_own_process():
    args = parse(frameworks, ["--suites", "mlp", "--T", "2", "--batch", "2", "--frameworks", "snntrain", "floor",
                              "--backends", "torch", "--threads", "1", "2", "--warmup", "1", "--steps", "1"])
    rows = frameworks.run(args)
    assert [(r["framework"], r["threads"]) for r in rows] == [
        ("snntrain/torch", 1), ("floor (ANN, merged T*B) NCHW", 1), ("snntrain/torch", 2), ("floor (ANN, merged T*B) NCHW", 2)]
    assert all(r["x_floor"] > 0 and r["gflop_per_step"] > 0 and r["load_before"] >= 0 for r in rows)


def test_data_path_suite_sets_the_real_loader_against_a_staged_batch():
    from benchsuites import data_path

    rows = data_path.run(parse(data_path, ["--cases", "images", "events", "--small", "--batches", "1", "--loader-workers", "1", "--device", "cpu"]))
    assert [r["case"].split(",")[0] for r in rows] == ["in-memory images + rate-BP CIFAR recipe", "cached N-MNIST frames"]
    assert all(r["real_vs_staged"] > 0 and r["loader_workers"] == 1 for r in rows)
