"""scripts/reproduce.py: table rows, smoke substitution of absent data, and a smoke run end to end."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "reproduce.py"
spec = importlib.util.spec_from_file_location("reproduce", SCRIPT)
reproduce = importlib.util.module_from_spec(spec)
spec.loader.exec_module(reproduce)


def run_script(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=cwd, capture_output=True, text=True, check=False)


def test_tables_are_the_experiment_files_with_their_prefix():
    assert "ratebp_cifar10_resnet19" in reproduce.table_rows("ratebp")
    assert all(n.startswith("onestep_") for n in reproduce.table_rows("onestep"))
    assert set(reproduce.table_rows("all")) >= set(reproduce.table_rows("hosvd")) | set(reproduce.table_rows("ratebp"))
    assert "digits_cnn" not in reproduce.table_rows("all")


def test_smoke_substitutes_synthetic_data_of_the_rows_shape_when_its_data_is_absent(tmp_path):
    cfg = reproduce.compose_row("digits_cnn", ["dataset=cifar100", f"dataset.root={tmp_path}"])
    extra = reproduce.smoke_overrides("digits_cnn", cfg, tmp_path)
    assert extra[:3] == ["dataset=synthetic", "dataset.input_shape=[3,32,32]", "dataset.num_classes=100"]
    assert "T=2" in extra and "trainer.limit_batches=2" in extra


def test_smoke_keeps_data_that_is_present(tmp_path):
    cfg = reproduce.compose_row("digits_cnn")
    assert "dataset=synthetic" not in reproduce.smoke_overrides("digits_cnn", cfg, tmp_path)


def test_rows_that_do_not_compose_are_skipped_with_the_reason(tmp_path):
    groups, skipped = reproduce.plan_rows(["digits_cnn", "no_such_row"], smoke=True, out=tmp_path)
    assert list(groups.values()) == [["digits_cnn"]]
    assert "no_such_row" in skipped["no_such_row"]


def test_a_composition_error_is_given_whole_not_only_its_first_line():
    reason = reproduce.compose_row("hm2bp_nmnist_mlp", ["dataset=synthetic"])
    assert "Key 'framing' not in 'SyntheticConfig'" in reason and "\n" not in reason


def test_an_nmnist_row_smokes_on_a_miniature_root_in_its_own_layout_when_nmnist_is_absent(tmp_path):
    groups, skipped = reproduce.plan_rows(["hm2bp_nmnist_mlp"], smoke=True, out=tmp_path)
    assert not skipped
    (extra,) = groups
    root = tmp_path / "smoke_data" / "nmnist"
    assert f"dataset.root={root}" in extra and "dataset.download=false" in extra and "dataset=synthetic" not in extra
    assert len(list((root / "Train").rglob("*.bin"))) == 30 and (root / "Test").is_dir()


@pytest.mark.slow
def test_every_row_of_every_table_is_planned_in_smoke_mode(tmp_path):
    names = reproduce.table_rows("all")
    groups, skipped = reproduce.plan_rows(names, smoke=True, out=tmp_path)
    assert skipped == {}
    assert sorted(n for group in groups.values() for n in group) == sorted(names)
    assert all(reproduce.table_rows(table) for table in reproduce.TABLES)


def test_the_imagenet_row_smokes_on_synthetic_224px_data_when_imagenet_is_absent(tmp_path):
    groups, skipped = reproduce.plan_rows(["ratebp_imagenet_sewresnet34"], smoke=True, out=tmp_path)
    assert not skipped
    (extra,) = groups
    assert extra[:3] == ("dataset=synthetic", "dataset.input_shape=[3,224,224]", "dataset.num_classes=1000")


def test_a_fine_tuning_row_smokes_from_its_own_fresh_weights(tmp_path):
    groups, skipped = reproduce.plan_rows(["hosvd_ratebp_cifar10_resnet19"], smoke=True, out=tmp_path)
    assert not skipped
    (extra,) = groups
    start = tmp_path / "starting_weights" / "hosvd_ratebp_cifar10_resnet19.pt"
    assert f"trainer.init_from={start}" in extra and start.is_file()


@pytest.mark.slow
def test_smoke_run_of_named_rows_ends_with_the_report(tmp_path):
    done = run_script(["--experiment", "digits_cnn", "--smoke", "--out", str(tmp_path / "out")], tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert (tmp_path / "out" / "digits_cnn" / "metrics.json").is_file()
    assert "digits_cnn" in (tmp_path / "out" / "report.md").read_text()


@pytest.mark.slow
@pytest.mark.parametrize("table", reproduce.TABLES)
def test_smoke_run_of_each_table(tmp_path, table):
    groups, skipped = reproduce.plan_rows(reproduce.table_rows(table), smoke=True, out=tmp_path / "plan")
    reasons = "; ".join(f"{k}: {v}" for k, v in skipped.items()) or f"no {table}_*.yaml experiment file"
    assert groups, f"no row of the {table} table runs: {reasons}"
    # Every row composes; the only row left out of a smoke run is one whose data is absent and whose
    # dataset keys synthetic data cannot stand in for (the N-MNIST rows' framing keys).
    assert all(reason.startswith("its data is absent") for reason in skipped.values()), reasons
    # Batches of 2 (after "--", every row's last word): the rate-BP table's 224 px SEW-ResNet-34 row at the
    # smoke's batch of 8 made this test a minute of CPU; the rows still build, train, evaluate and report.
    small = ["--", "dataset.batch_size=2", "dataset.eval_batch_size=2"]
    done = run_script(["--table", table, "--smoke", "--out", str(tmp_path / "out"), *small], tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for name in (n for group in groups.values() for n in group):
        assert (tmp_path / "out" / name / "metrics.json").is_file()
    report = (tmp_path / "out" / "report.md").read_text()
    # Smoke runs are partial (two batches): listed apart, never beside the papers' figures.
    assert "## Partial runs" in report and "## Reproductions" not in report
