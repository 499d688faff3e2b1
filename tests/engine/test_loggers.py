"""The loggers (engine/logger.py, sinks.py, tracking.py) and the per-run plots (engine/plots.py):
the tags TensorBoard gets, the CSV files, the HParams view, and the optional trackers, which never
contact anything here (W&B offline, MLflow on a file store in the test's folder)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest

from snntrain.app import train
from snntrain.cli import plugins
from snntrain.core.errors import SnntrainError
from tests.conftest import compose_config

TINY = ["T=4", "model.hidden=[32]", "trainer.limit_batches=2", "trainer.limit_eval_batches=1", "trainer.progress=false"]
PLOTS = ["curves", "firing_rates", "saved_bytes", "raster"]
PNG = b"\x89PNG\r\n\x1a\n"


def rows(path) -> list[dict[str, str]]:
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


def tensorboard(folder):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    return EventAccumulator(str(folder), size_guidance={"images": 0, "scalars": 0}).Reload()


def test_tensorboard_and_csv_get_the_usual_tags_and_the_step_curve(tmp_path):
    overrides = [*TINY, "trainer.max_epochs=2", "logger=tensorboard", "logger.csv=true", "logger.log_every_n_steps=1"]
    metrics = train(compose_config(overrides), tmp_path)
    events = tensorboard(tmp_path / "tensorboard")
    tags = set(events.Tags()["scalars"])
    assert {"train/loss", "train/acc", "val/acc", "test/acc", "lr", "train/loss_step", "epoch/saved_bytes_per_sample"} <= tags, tags
    assert any(t.startswith("firing_rate/") for t in tags) and any(t.startswith("saved_bytes_per_sample_per_layer/") for t in tags)
    assert [e.step for e in events.Scalars("train/loss")] == [1, 2]
    assert [e.step for e in events.Scalars("train/loss_step")] == [1, 2, 3, 4]
    epochs = rows(tmp_path / "metrics.csv")
    assert list(epochs[0])[:6] == ["epoch", "train/loss", "train/acc", "train/samples_per_s", "val/acc", "test/acc"]
    assert [float(r["train/loss"]) for r in epochs] == [h["train_loss"] for h in metrics["history"]]
    assert [r["step"] for r in rows(tmp_path / "steps.csv")] == ["1", "2", "3", "4"]
    if plugins.installed("matplotlib"):  # make test installs it (the report extra)
        assert {f"plots/{name}" for name in PLOTS} <= set(events.Tags()["images"])
        for name in PLOTS:
            assert (tmp_path / "plots" / f"{name}.png").read_bytes()[:8] == PNG, name


def test_logger_csv_alone_and_plots_off(tmp_path):
    train(compose_config([*TINY, "trainer.max_epochs=1", "logger=csv", "logger.plots=false", "logger.log_every_n_steps=2"]), tmp_path)
    assert [r["epoch"] for r in rows(tmp_path / "metrics.csv")] == ["1"]
    assert [r["step"] for r in rows(tmp_path / "steps.csv")] == ["2"]
    assert not (tmp_path / "tensorboard").exists() and not (tmp_path / "plots").exists()


def test_a_resumed_run_replaces_the_csv_rows_it_trains_again(tmp_path):
    # A run killed after logging epoch 2 but before its checkpoint: resuming from epoch 1 trains epoch 2 again.
    run = [*TINY, "logger=csv", "logger.plots=false", "logger.log_every_n_steps=1", "trainer.keep_checkpoints=2", "scheduler=step"]
    train(compose_config([*run, "trainer.max_epochs=2"]), tmp_path)
    resume = f"trainer.resume={tmp_path / 'checkpoints' / 'epoch_0001.pt'}"
    train(compose_config([*run, "trainer.max_epochs=3", resume]), tmp_path)
    assert [r["epoch"] for r in rows(tmp_path / "metrics.csv")] == ["1", "2", "3"]
    assert [r["step"] for r in rows(tmp_path / "steps.csv")] == [str(s) for s in range(1, 7)]


def test_plots_are_skipped_in_one_line_without_matplotlib(tmp_path, monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    with caplog.at_level("INFO", logger="snntrain"):
        train(compose_config([*TINY, "trainer.max_epochs=1", "logger=csv"]), tmp_path)
    skipped = [r.getMessage() for r in caplog.records if "plots" in r.getMessage()]
    assert skipped == ["plots skipped: matplotlib is not installed (pip install -e .[report]; logger.plots=false turns them off)."]
    assert not (tmp_path / "plots").exists() and (tmp_path / "metrics.json").is_file()


@pytest.mark.parametrize("name", ["wandb", "mlflow"])
def test_a_tracker_without_its_package_is_one_error_naming_the_extra(name, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, name, None)  # as if not installed, whether it is or not
    with pytest.raises(SnntrainError, match=rf"`logger={name}` needs the {name} package, which is not installed\. Install it with: pip install -e \.\[{name}\]"):
        train(compose_config([*TINY, "trainer.max_epochs=1", f"logger={name}"]), tmp_path)
    monkeypatch.setattr(plugins, "installed", lambda module: False)
    with pytest.raises(SnntrainError, match=rf"pip install -e \.\[{name}\]"):  # the command line, before Hydra composes
        plugins.require_plugins(["T=4", f"logger={name}"])


def test_wandb_offline_keeps_the_run_in_the_run_dir(tmp_path, monkeypatch):
    pytest.importorskip("wandb", reason="optional: pip install -e .[wandb]")
    monkeypatch.setenv("WANDB_SILENT", "true")
    train(compose_config([*TINY, "trainer.max_epochs=2", "logger=wandb", "logger.mode=offline", "logger.log_every_n_steps=1"]), tmp_path)
    (offline,) = (tmp_path / "wandb").glob("offline-run-*")
    assert list(offline.glob("run-*.wandb"))


def test_mlflow_on_a_file_store_gets_the_tags_params_and_plots(tmp_path, monkeypatch):
    mlflow = pytest.importorskip("mlflow", reason="optional: pip install -e .[mlflow]")
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 refuses a file store without it
    uri = (tmp_path / "mlruns").as_uri()
    train(compose_config([*TINY, "trainer.max_epochs=2", "logger=mlflow", f"logger.tracking_uri={uri}", "logger.log_every_n_steps=1"]), tmp_path / "run")
    client = mlflow.MlflowClient(tracking_uri=uri)
    (run,) = client.search_runs([client.get_experiment_by_name("snntrain").experiment_id])
    assert run.info.status == "FINISHED" and run.data.params["T"] == "4"
    assert [m.step for m in client.get_metric_history(run.info.run_id, "train/loss")] == [1, 2]
    assert len(client.get_metric_history(run.info.run_id, "train/loss_step")) == 4
    assert "hparams/test_acc" in run.data.metrics
    if plugins.installed("matplotlib"):
        assert {f"{name}.png" for name in PLOTS} <= {a.path.split("/")[-1] for a in client.list_artifacts(run.info.run_id, "plots")}


@pytest.mark.slow
def test_the_hparams_view_holds_the_command_line_overrides_and_final_metrics(tmp_path):
    from tensorboard.plugins.hparams import plugin_data_pb2

    args = ["hydra.run.dir=run", *TINY, "optimizer.lr=0.002", "trainer.max_epochs=1", "logger.plots=false"]
    done = subprocess.run([sys.executable, "-m", "snntrain", *args], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    events = tensorboard(tmp_path / "run" / "tensorboard")
    start = plugin_data_pb2.HParamsPluginData.FromString(events.PluginTagToContent("hparams")["_hparams_/session_start_info"])
    params = {key: value.WhichOneof("kind") and getattr(value, value.WhichOneof("kind")) for key, value in start.session_start_info.hparams.items()}
    assert params["optimizer.lr"] == pytest.approx(0.002) and params["T"] == 4 and params["model.hidden"] == "[32]"
    assert "logger.plots" not in params and "hydra.run.dir" not in params
    final = json.loads((tmp_path / "run" / "metrics.json").read_text())["test_acc"]
    assert events.Scalars("hparams/test_acc")[0].value == pytest.approx(final)
