"""Multiruns: one run dir per job and a comparison report; Optuna, joblib and Slurm plugins."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml
from hydra import compose, initialize_config_module
from hydra.core.global_hydra import GlobalHydra

from snntrain.cli import plugins as extras
from tests.conftest import SMOKE


def snntrain(args: list[str], cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "snntrain", *args], cwd=cwd, capture_output=True, text=True, check=False)


@pytest.mark.slow
def test_multirun_writes_one_run_dir_per_job_and_the_report_compares_them(tmp_path):
    sweep = tmp_path / "sweep"
    done = snntrain(["-m", "method=bptt", "T=4,8", "dataset=digits", *SMOKE, f"hydra.sweep.dir={sweep}"], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    jobs = sorted(p.parent for p in sweep.rglob("metrics.json"))
    assert [j.name for j in jobs] == ["0", "1"]
    assert [yaml.safe_load((j / ".hydra" / "config.yaml").read_text())["T"] for j in jobs] == [4, 8]
    report = subprocess.run([sys.executable, "-m", "snntrain.report", str(sweep)], capture_output=True, text=True, check=False)
    assert report.returncode == 0, report.stderr
    md = (sweep / "report.md").read_text()
    # SMOKE's batch limits make the jobs partial runs: compared with each other, apart from any paper row.
    assert "## Partial runs" in md and "## Reproductions" not in md and "## Method comparisons" not in md
    assert "| digits/mlp T=4 | bptt |" in md and "| digits/mlp T=8 | bptt |" in md


@pytest.mark.slow
def test_optuna_sweep_of_lr_and_tau_maximises_validation_accuracy_and_the_report_shows_it(tmp_path):
    pytest.importorskip("hydra_plugins.hydra_optuna_sweeper", reason="optional: pip install -e .[sweep]")
    sweep = tmp_path / "optuna"
    done = snntrain(["hparams_search=optuna_lr_tau", "hydra.sweeper.n_trials=2", *SMOKE, f"hydra.sweep.dir={sweep}"], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    result = yaml.safe_load((sweep / "optimization_results.yaml").read_text())
    assert set(result["best_params"]) == {"optimizer.lr", "neuron.tau"}
    trials = {int(p.parent.name): json.loads(p.read_text())["best_val_acc"] for p in sweep.rglob("metrics.json")}
    assert result["best_value"] == pytest.approx(max(trials.values()))
    assert len(trials) == 2
    report = subprocess.run([sys.executable, "-m", "snntrain.report", str(sweep)], capture_output=True, text=True, check=False)
    assert report.returncode == 0, report.stderr
    md = (sweep / "report.md").read_text()
    assert "## Method comparisons" not in md and f"## Optuna sweep {sweep} (study lr_tau)" in md
    assert "Objective: maximize RunMetrics.selection_score(): the best validation accuracy." in md
    best = max(trials, key=trials.get)
    assert f"Best trial: {best}, {100 * trials[best]:.2f} % with optimizer.lr=" in md and "(optimization_results.yaml)" in md
    assert f"| {best} (best) |" in md and f"| {1 - best} |" in md
    assert "Partial trials (train 2/" in md  # SMOKE's batch limits


def hydra_config(overrides: list[str]):
    GlobalHydra.instance().clear()
    with initialize_config_module(config_module="snntrain.configs", version_base="1.3"):
        return compose(config_name="train", overrides=overrides, return_hydra_config=True).hydra


def test_slurm_launcher_exposes_partition_gpus_and_time():
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher", reason="optional: pip install -e .[slurm]")
    launcher = hydra_config(["hydra/launcher=slurm", "hydra.launcher.partition=gpu", "hydra.launcher.gpus_per_node=4", "hydra.launcher.timeout_min=90"]).launcher
    assert (launcher.partition, launcher.gpus_per_node, launcher.timeout_min) == ("gpu", 4, 90)
    assert launcher._target_.endswith("SlurmLauncher")


def test_joblib_launcher_composes():
    pytest.importorskip("hydra_plugins.hydra_joblib_launcher", reason="optional: pip install -e .[sweep]")
    assert hydra_config(["hydra/launcher=joblib"]).launcher._target_.endswith("JoblibLauncher")


@pytest.mark.parametrize(
    ("override", "extra"),
    [("hparams_search=optuna_lr_tau", "sweep"), ("hydra/sweeper=optuna", "sweep"), ("hydra/launcher=joblib", "sweep"), ("hydra/launcher=slurm", "slurm")],
)
def test_a_missing_plugin_names_the_extra_to_install(monkeypatch, override, extra):
    monkeypatch.setattr(extras, "installed", lambda module: False)
    with pytest.raises(extras.SnntrainError, match=rf"pip install -e \.\[{extra}\]"):
        extras.require_plugins(["T=4", override])
    extras.require_plugins(["T=4", "method=bptt"])  # nothing optional asked for: no error


def test_cli_prints_the_missing_plugin_message_with_its_brackets(tmp_path):
    # A plugin module name that cannot exist stands in for an uninstalled one.
    code = (
        "import sys; from snntrain.cli import plugins as extras, train as cli;"
        "extras.PLUGINS['hydra/launcher=slurm'] = ('hydra_plugins.not_installed_plugin', 'slurm');"
        "sys.argv = ['snntrain', '-m', 'hydra/launcher=slurm']; cli.main()"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "pip install -e .[slurm]" in " ".join(done.stderr.split())
