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
             differences: list[str] | None = None, partial_splits: dict | None = None, hydra: dict | None = None,
             best_val: float | None = None) -> Path:
    """Write what a finished run leaves: metrics.json and .hydra/{config,hydra,overrides}.yaml
    (``hydra``: more of hydra.yaml's ``hydra`` keys)."""
    (run_dir / ".hydra").mkdir(parents=True)
    config = {"method": {"name": method}, "model": {"name": "mlp"}, "dataset": {"name": "digits"},
              "compression": {"name": compression}, "paper": {"value": paper, "source": "Some et al." if paper else None, "differences": differences or []}}
    (run_dir / ".hydra" / "config.yaml").write_text(yaml.safe_dump(config))
    (run_dir / ".hydra" / "hydra.yaml").write_text(yaml.safe_dump({"hydra": {"runtime": {"choices": {"experiment": experiment}}, **(hydra or {})}}, sort_keys=False))
    (run_dir / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides or []))
    metrics = {"test_acc": test, "test_acc_at_best_val": at_val, "best_test_acc": best, "epochs": 3,
               "time_per_epoch_s": 1.5, "train_samples_per_s": 1000.0, "peak_mem_bytes": 3 * 2**20,
               "train_mem_growth_bytes": 2**20, "saved_bytes_per_sample": 2048.0, "partial_splits": partial_splits or {},
               "best_val_acc": best_val, "selected_on": "test" if best_val is None else "val"}
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
    assert (a.epochs, a.time_per_epoch_s, a.samples_per_s, a.peak_mem_bytes, a.train_mem_growth_bytes, a.saved_bytes_per_sample) == (3, 1.5, 1000.0, 3 * 2**20, 2**20, 2048.0)


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
    for label in ("ours: final test %", "ours: test @ best val %", "ours: best test %", "Δ (ours − paper)", "peak memory", "memory growth in training", "saved bytes/sample"):
        assert label in md
    assert "| hm2bp_mnist_mlp | hm2bp | 98.84 | official | 98.00 | 98.50 | 99.00 | -0.34 | 3 | 1.50 s | 1,000 | 3.0 MiB | 1.0 MiB | 2.0 KiB |" in md
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


def test_partial_runs_get_their_own_section_without_paper_figure_or_delta(tmp_path):
    smoke = ["experiment=hm2bp_mnist_mlp", "trainer.limit_batches=2", "trainer.limit_eval_batches=1", "logger=none"]
    fake_run(tmp_path / "smoke", method="hm2bp", paper=98.84, test=0.125, at_val=0.125, best=0.125, experiment="hm2bp_mnist_mlp",
             overrides=smoke, partial_splits={"train": [2, 29], "test": [1, 4]})
    fake_run(tmp_path / "full", method="hm2bp", paper=98.84, test=0.98, at_val=0.985, best=0.99, experiment="hm2bp_mnist_cnn")
    rows = {r.experiment.split()[0]: r for r in report.collect([tmp_path])}
    smoked = rows["hm2bp_mnist_mlp"]
    assert smoked.partial == "train 2/29, test 1/4 batches" and smoked.delta is None
    assert rows["hm2bp_mnist_cnn"].partial is None and rows["hm2bp_mnist_cnn"].delta is not None
    md = report.markdown(list(rows.values()))
    reproductions, partial = md.split("## Partial runs")
    assert "hm2bp_mnist_cnn" in reproductions and "hm2bp_mnist_mlp" not in reproductions
    assert "| hm2bp_mnist_mlp trainer.limit_batches=2 trainer.limit_eval_batches=1 | hm2bp | train 2/29, test 1/4 batches | 12.50 | 12.50 | 12.50 | 3 |" in partial
    assert "Δ (ours − paper)" not in partial and "paper %" not in partial
    assert "hm2bp_mnist_mlp:" not in md.split("Sources:")[1]  # no paper source for a row not compared with it


def optuna_trial(sweep, number: int, lr: float, tau: float, best_val: float, direction: str = "maximize") -> Path:
    sweeper = {"_target_": "hydra_plugins.hydra_optuna_sweeper.optuna_sweeper.OptunaSweeper", "direction": direction,
               "study_name": "lr_tau", "n_trials": 3, "sampler": {"seed": "${seed}"},
               "params": {"optimizer.lr": "tag(log, interval(1.0e-4, 1.0e-1))", "neuron.tau": "interval(1.5, 10.0)"}}
    return fake_run(sweep / str(number), method="bptt", paper=None, test=best_val - 0.01, at_val=best_val - 0.01, best=best_val,
                    best_val=best_val, overrides=[f"optimizer.lr={lr}", f"neuron.tau={tau}", "hparams_search=optuna_lr_tau"],
                    hydra={"sweeper": sweeper, "job": {"num": number}})


def test_an_optuna_sweep_shows_its_objective_each_trials_value_and_the_best_trial(tmp_path):
    sweep = tmp_path / "optuna"
    for number, (lr, tau, val) in enumerate([(0.00443, 7.58, 0.29), (0.006431172050131994, 6.13, 0.31), (0.0018, 6.99, 0.16)]):
        optuna_trial(sweep, number, lr, tau, val)
    (sweep / "optimization_results.yaml").write_text(yaml.safe_dump(
        {"name": "optuna", "best_params": {"optimizer.lr": 0.006431172050131994, "neuron.tau": 6.13}, "best_value": 0.31}, sort_keys=False))
    fake_run(tmp_path / "other", method="bptt", paper=None, test=0.5, at_val=0.5, best=0.5)
    rows = report.collect([tmp_path])
    assert [r.sweep_dir for r in rows].count(str(sweep)) == 3
    md = report.markdown(rows)
    comparisons, swept = md.split("## Optuna sweep")
    assert "optimizer.lr" not in comparisons  # the trials are in their sweep's table only
    assert f"{sweep} (study lr_tau)" in swept
    assert "Objective: maximize RunMetrics.selection_score(): the best validation accuracy." in swept
    assert "Search space: optimizer.lr: tag(log, interval(1.0e-4, 1.0e-1)); neuron.tau: interval(1.5, 10.0) (3 of 3 trials finished)." in swept
    assert "Best trial: 1, 31.00 % with optimizer.lr=0.006431, neuron.tau=6.13 (optimization_results.yaml)." in swept
    assert "| trial | optimizer.lr | neuron.tau | objective % |" in swept
    assert "| 0 | 0.00443 | 7.58 | 29.00 | 28.00 | 28.00 | 3 |" in swept
    assert "| 1 (best) | 0.006431 | 6.13 | 31.00 |" in swept


def test_an_unfinished_optuna_sweep_names_its_best_trial_so_far_in_its_direction(tmp_path):
    for number, val in enumerate([0.4, 0.2, 0.3]):
        optuna_trial(tmp_path / "optuna", number, 0.001 * (number + 1), 2.0, val, direction="minimize")
    md = report.markdown(report.collect([tmp_path]))
    assert "Objective: minimize RunMetrics.selection_score()" in md
    assert "Best trial: 1, 20.00 % with optimizer.lr=0.002, neuron.tau=2 (the best finished trial: no optimization_results.yaml yet)." in md
