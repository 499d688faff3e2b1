"""snntrain-report on fabricated run dirs: rows, Δ, sections, files written."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from snntrain.cli.report import main as report_main
from snntrain.repro import report


def fake_run(run_dir: Path, *, method: str, paper: float | None, test: float, at_val: float | None, best: float,
             experiment: str | None = None, overrides: list[str] | None = None, compression: str = "none",
             differences: list[str] | None = None) -> Path:
    """Write what a finished run leaves: metrics.json and .hydra/{config,hydra,overrides}.yaml."""
    (run_dir / ".hydra").mkdir(parents=True)
    config = {"method": {"name": method}, "model": {"name": "mlp"}, "dataset": {"name": "digits"},
              "compression": {"name": compression}, "paper": {"value": paper, "source": "Some et al." if paper else None, "differences": differences or []}}
    (run_dir / ".hydra" / "config.yaml").write_text(yaml.safe_dump(config))
    (run_dir / ".hydra" / "hydra.yaml").write_text(yaml.safe_dump({"hydra": {"runtime": {"choices": {"experiment": experiment}}}}))
    (run_dir / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides or []))
    metrics = {"test_acc": test, "test_acc_at_best_val": at_val, "best_test_acc": best, "epochs": 3,
               "time_per_epoch_s": 1.5, "train_samples_per_s": 1000.0, "peak_mem_bytes": 3 * 2**20,
               "saved_bytes_per_sample": 2048.0}
    (run_dir / "metrics.json").write_text(json.dumps(metrics))
    return run_dir


def test_rows_with_paper_values_get_delta_from_test_at_best_val(tmp_path):
    fake_run(tmp_path / "a", method="ratebp", paper=96.26, test=0.95, at_val=0.96, best=0.97, experiment="ratebp_cifar10_resnet19")
    fake_run(tmp_path / "b", method="ratebp", paper=80.0, test=0.70, at_val=None, best=0.75, experiment="x", compression="hosvd")
    rows = {r.experiment: r for r in report.collect([tmp_path])}
    a, b = rows["ratebp_cifar10_resnet19"], rows["x"]
    assert (a.paper, a.final_test, a.test_at_best_val, a.best_test) == pytest.approx((96.26, 95.0, 96.0, 97.0))
    assert a.delta == pytest.approx(96.0 - 96.26)
    # No validation split: Δ falls back to the final test accuracy.
    assert b.delta == pytest.approx(70.0 - 80.0)
    assert b.method == "ratebp+hosvd"
    assert (a.epochs, a.time_per_epoch_s, a.samples_per_s, a.peak_mem_bytes, a.saved_bytes_per_sample) == (3, 1.5, 1000.0, 3 * 2**20, 2048.0)


def test_rows_without_paper_value_are_method_comparisons_named_by_their_distinct_overrides(tmp_path):
    common = ["dataset=digits", "trainer.max_epochs=1"]
    fake_run(tmp_path / "sweep" / "0", method="bptt", paper=None, test=0.9, at_val=0.91, best=0.92, overrides=["method=bptt", "T=4", *common])
    fake_run(tmp_path / "sweep" / "1", method="bptt", paper=None, test=0.8, at_val=0.81, best=0.82, overrides=["method=bptt", "T=8", *common])
    fake_run(tmp_path / "paper", method="hm2bp", paper=98.84, test=0.98, at_val=0.985, best=0.99, experiment="hm2bp_mnist_mlp")
    rows = report.collect([tmp_path])
    assert [r.experiment for r in rows] == ["hm2bp_mnist_mlp", "digits/mlp T=4", "digits/mlp T=8"]
    assert [r.delta is None for r in rows] == [False, True, True]
    md = report.markdown(rows)
    assert md.index("## Reproductions") < md.index("hm2bp_mnist_mlp") < md.index("## Method comparisons") < md.index("digits/mlp T=4")
    for label in ("ours: final test %", "ours: test @ best val %", "ours: best test %", "Δ (ours − paper)", "saved bytes/sample"):
        assert label in md
    assert "| hm2bp_mnist_mlp | hm2bp | 98.84 | official | 98.00 | 98.50 | 99.00 | -0.34 | 3 | 1.50 s | 1,000 | 3.0 MiB | 2.0 KiB |" in md
    assert "| digits/mlp T=8 | bptt | — | — | 80.00 | 81.00 | 82.00 | — |" in md


def test_main_writes_markdown_and_csv_and_notes_a_missing_matplotlib(tmp_path, monkeypatch, capsys):
    fake_run(tmp_path / "runs" / "r", method="bptt", paper=None, test=0.5, at_val=0.5, best=0.5)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    assert report_main([str(tmp_path / "runs"), "--out", str(tmp_path / "out")]) == 0
    assert "matplotlib is not installed: report.png skipped (pip install -e .[report])" in capsys.readouterr().out
    assert not (tmp_path / "out" / "report.png").exists()
    with (tmp_path / "out" / "report.csv").open() as f:
        (row,) = list(csv.DictReader(f))
    assert float(row["final_test"]) == pytest.approx(50.0) and row["paper"] == ""


def test_png_is_written_when_matplotlib_is_installed(tmp_path):
    pytest.importorskip("matplotlib", reason="matplotlib is optional (pip install -e .[report])")
    fake_run(tmp_path / "r", method="bptt", paper=90.0, test=0.5, at_val=0.5, best=0.5, experiment="e")
    assert report_main([str(tmp_path)]) == 0
    assert (tmp_path / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_no_runs_is_an_error_that_says_what_a_run_dir_holds(tmp_path, capsys):
    assert report_main([str(tmp_path)]) == 2
    assert "metrics.json and .hydra/config.yaml" in capsys.readouterr().err


@pytest.mark.parametrize("module", ["snntrain.report", "snntrain.cli.report"])
def test_module_entry_points(tmp_path, module):
    fake_run(tmp_path / "r", method="bptt", paper=None, test=0.5, at_val=0.5, best=0.5)
    done = subprocess.run([sys.executable, "-m", module, str(tmp_path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "Method comparisons" in done.stdout and (tmp_path / "report.md").is_file()


def test_recipe_column_counts_the_rows_listed_differences_and_flags_training_overrides(tmp_path):
    fake_run(tmp_path / "a", method="ratebp", paper=96.26, test=0.9, at_val=0.9, best=0.9, experiment="official_row",
             overrides=["experiment=official_row", "dataset.root=/data", "trainer.device=cuda"])
    fake_run(tmp_path / "b", method="ratebp", paper=96.26, test=0.9, at_val=0.9, best=0.9, experiment="two_listed",
             differences=["val split held out", "AutoAugment fill"])
    fake_run(tmp_path / "c", method="ratebp", paper=96.26, test=0.9, at_val=0.9, best=0.9, experiment="changed",
             differences=["one"], overrides=["experiment=changed", "optimizer.lr=0.5"])
    fake_run(tmp_path / "d", method="bptt", paper=None, test=0.9, at_val=0.9, best=0.9, overrides=["T=4"])
    recipes = {r.experiment.split()[0]: r.recipe for r in report.collect([tmp_path])}
    assert recipes == {"official_row": "official", "two_listed": "2 differences", "changed": "1 difference + overrides", "digits/mlp": None}
    assert "| recipe |" in report.markdown(report.collect([tmp_path]))


def test_a_full_disk_while_writing_the_report_exits_74_and_leaves_no_partial_file(tmp_path):
    from tests.faults import in_child

    fake_run(tmp_path / "a", method="bptt", paper=None, test=0.9, at_val=0.91, best=0.92)
    out = tmp_path / "out"
    assert in_child(report_main, [str(tmp_path / "a"), "--out", str(out)], file_size_limit=100) == ("SystemExit", "74")
    assert list(out.iterdir()) == []
