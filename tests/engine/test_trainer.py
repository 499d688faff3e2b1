"""The trainer: smoke runs, exact resume, interruption and non-finite values (checkpoint safety: test_checkpoint.py)."""

import hashlib
import json
import signal

import pytest
import torch

from snntrain.app import train
from snntrain.engine import checkpoint
from snntrain.engine.signals import StopSignal, TrainingInterrupted
from snntrain.engine.trainer import NonFiniteError
from snntrain.methods.bptt import BPTT
from tests.conftest import SMOKE, compose_config

SMALL = ["model.hidden=[32]", "T=4", "trainer.progress=false", "logger=none"]
TIMINGS = {"time_per_epoch_s", "train_samples_per_s", "peak_mem_bytes", "train_mem_growth_bytes", "codec_seconds_per_epoch"}


def strip_timings(metrics):
    out = {k: v for k, v in metrics.items() if k not in TIMINGS}
    out["history"] = [{k: v for k, v in h.items() if k not in {"epoch_time_s", "train_samples_per_s", "peak_mem_bytes", "train_mem_growth_bytes", "codec_seconds"}} for h in metrics["history"]]
    return out


def weights(run_dir, name="last.pt"):
    return checkpoint.load(run_dir / "checkpoints" / name)["model"]


@pytest.mark.parametrize("model", [["model=mlp"], ["model=cnn"]])
def test_one_epoch_smoke_writes_the_run_files(model, tmp_path):
    cfg = compose_config(model + SMOKE + ["logger=tensorboard"])
    metrics = train(cfg, tmp_path)
    on_disk = json.loads((tmp_path / "metrics.json").read_text())
    for key in ["test_acc", "best_val_acc", "test_acc_at_best_val", "best_test_acc", "epochs", "time_per_epoch_s", "train_samples_per_s", "peak_mem_bytes", "saved_bytes_per_sample"]:
        assert key in on_disk, key
    assert on_disk["epochs"] == 1 and metrics["saved_bytes_per_sample"] > 0 and metrics["peak_mem_bytes"] > 0
    assert (tmp_path / "checkpoints" / "last.pt").is_file() and (tmp_path / "checkpoints" / "best.pt").is_file()
    assert any((tmp_path / "tensorboard").iterdir())


def test_saved_bytes_grow_linearly_with_T_for_bptt(tmp_path):
    small = train(compose_config(SMOKE + SMALL + ["T=2"]), tmp_path / "a")["saved_bytes_per_sample"]
    large = train(compose_config(SMOKE + SMALL + ["T=8"]), tmp_path / "b")["saved_bytes_per_sample"]
    assert large / small == pytest.approx(4.0, rel=0.15)


def test_resume_gives_identical_weights_and_metrics(tmp_path):
    # A schedule that does not depend on max_epochs (cosine's does, so it would differ by design).
    fixed = SMALL + ["scheduler=step"]
    straight = train(compose_config(fixed + ["trainer.max_epochs=2"]), tmp_path / "straight")
    train(compose_config(fixed + ["trainer.max_epochs=1"]), tmp_path / "split")
    resumed = train(compose_config(fixed + ["trainer.max_epochs=2", "trainer.resume=auto"]), tmp_path / "split")
    assert strip_timings(straight) == strip_timings(resumed)
    for key, value in weights(tmp_path / "straight").items():
        assert torch.equal(value, weights(tmp_path / "split")[key]), key


def test_same_seed_same_metrics(tmp_path):
    a = train(compose_config(SMALL + ["trainer.max_epochs=2", "dataset.encoder=poisson"]), tmp_path / "a")
    b = train(compose_config(SMALL + ["trainer.max_epochs=2", "dataset.encoder=poisson"]), tmp_path / "b")
    assert strip_timings(a) == strip_timings(b)


def signal_at_step(monkeypatch, at: int, *signums: int) -> dict[str, int]:
    """Make BPTT.step deliver ``signums`` to this process, one after the other, during its ``at``-th
    call; returns the count of calls made."""
    calls = {"n": 0}
    original = BPTT.step

    def step(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == at:
            for signum in signums:
                signal.raise_signal(signum)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(BPTT, "step", step)
    return calls


AUGMENT = ["dataset.augment.flip=true", "dataset.augment.roll=1", "dataset.augment.crop_padding=1", "dataset.augment.cutout=3"]


# The second case also resumes the per-batch augmentation draws mid-epoch.
@pytest.mark.parametrize("signum, code, extra", [(signal.SIGINT, 130, []), (signal.SIGTERM, 143, AUGMENT)])
def test_signal_mid_epoch_saves_and_resume_matches_uninterrupted(signum, code, extra, tmp_path, monkeypatch):
    run = SMALL + extra + ["trainer.max_epochs=2"]
    straight = train(compose_config(run), tmp_path / "straight")
    signal_at_step(monkeypatch, 50, signum)  # epoch 2 (digits: 41 batches per epoch)
    with pytest.raises(TrainingInterrupted, match="trainer.resume") as info:
        train(compose_config(run), tmp_path / "cut")
    assert info.value.exit_code == code
    monkeypatch.undo()
    state = checkpoint.load(tmp_path / "cut" / "checkpoints" / "last.pt")
    assert state["epoch"] == 1 and state["partial_epoch"]["batch"] == 9
    resumed = train(compose_config(run + ["trainer.resume=auto"]), tmp_path / "cut")
    assert strip_timings(resumed) == strip_timings(straight)


def test_a_second_sigint_stops_at_once_as_a_stop_signal_the_command_reports_in_one_line(tmp_path, monkeypatch):
    # The first SIGINT asks to finish the batch, save and stop; the second, before the batch is done, stops now.
    calls = signal_at_step(monkeypatch, 3, signal.SIGINT, signal.SIGINT)
    with pytest.raises(StopSignal):
        train(compose_config(SMALL + ["trainer.max_epochs=1"]), tmp_path)
    assert calls["n"] == 3 and not (tmp_path / "checkpoints" / "last.pt").exists()


def test_nonfinite_loss_stops_with_step_and_layer_and_keeps_checkpoint(tmp_path, monkeypatch):
    train(compose_config(SMALL + ["trainer.max_epochs=1"]), tmp_path)
    before = hashlib.sha256((tmp_path / "checkpoints" / "last.pt").read_bytes()).hexdigest()
    original = BPTT.step

    def poisoned(self, model, x, y, backward):
        x = x.clone()
        x[0, 0] = float("nan")
        return original(self, model, x, y, backward)

    monkeypatch.setattr(BPTT, "step", poisoned)
    with pytest.raises(NonFiniteError, match=r"epoch 2, step 0: first in body.1.weight"):
        train(compose_config(SMALL + ["trainer.max_epochs=2", "trainer.resume=auto"]), tmp_path)
    assert hashlib.sha256((tmp_path / "checkpoints" / "last.pt").read_bytes()).hexdigest() == before


def test_skip_batch_on_nonfinite_keeps_training(tmp_path, monkeypatch):
    original = BPTT.step
    calls = {"n": 0}

    def sometimes_poisoned(self, model, x, y, backward):
        calls["n"] += 1
        if calls["n"] == 3:
            x = x.clone()
            x[:] = float("inf")
        return original(self, model, x, y, backward)

    monkeypatch.setattr(BPTT, "step", sometimes_poisoned)
    metrics = train(compose_config(SMALL + ["trainer.max_epochs=1", "trainer.on_nonfinite=skip_batch"]), tmp_path)
    assert metrics["epochs"] == 1 and calls["n"] > 3  # training went on past the bad batch
    assert all(torch.isfinite(v).all() for v in weights(tmp_path).values())


def write_idx(path, array):
    """Write ``array`` (uint8) as a gzipped IDX file, the MNIST format."""
    import gzip

    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    path.write_bytes(gzip.compress(header + array.tobytes()))


@pytest.mark.parametrize("dataset, folder", [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST")])
@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_one_epoch_on_idx_datasets(dataset, folder, model, shared_data, tmp_path):
    """mnist/fashion_mnist read a torchvision-style root; here it is built from the real test set."""
    from snntrain.data.vision import read_idx

    raw = shared_data / "mnist" / "raw"
    images, labels = read_idx(raw / "t10k-images-idx3-ubyte.gz"), read_idx(raw / "t10k-labels-idx1-ubyte.gz")
    root = tmp_path / "data" / folder / "raw"
    root.mkdir(parents=True)
    for split, (lo, hi) in {"train": (0, 600), "t10k": (9000, 9200)}.items():
        write_idx(root / f"{split}-images-idx3-ubyte.gz", images[lo:hi])
        write_idx(root / f"{split}-labels-idx1-ubyte.gz", labels[lo:hi])
    cfg = compose_config([f"dataset={dataset}", f"dataset.root={tmp_path / 'data'}", f"model={model}", "T=2"] + SMOKE)
    metrics = train(cfg, tmp_path / "run")
    assert metrics["epochs"] == 1 and 0 <= metrics["test_acc"] <= 1
