"""Checkpoints: format version and checksum, damaged files, resume=auto's fallback, and real write
faults during training (a full disk, a file-size limit, an unwritable or vanished folder)."""

from __future__ import annotations

import logging
import pickle
import shutil
import subprocess

import pytest
import torch

from snntrain.app import train
from snntrain.core.errors import CheckpointError, StorageError
from snntrain.engine import checkpoint
from snntrain.methods.bptt import BPTT
from tests.conftest import compose_config
from tests.faults import in_child, small_tmpfs, unwritable
from tests.test_storage import dead_pid, temp_of

RUN = ["model.hidden=[32]", "T=4", "trainer.progress=false", "logger=none", "trainer.limit_batches=3", "trainer.limit_eval_batches=1"]


def run(overrides, run_dir):
    return train(compose_config(RUN + overrides), run_dir)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A two-epoch run that kept both epoch checkpoints."""
    run_dir = tmp_path_factory.mktemp("trained")
    run(["trainer.max_epochs=2", "trainer.keep_checkpoints=2"], run_dir)
    return run_dir


@pytest.fixture
def run_dir(trained, tmp_path):
    return shutil.copytree(trained, tmp_path / "run")


def raw(path):
    return torch.load(path, weights_only=True)


def foreign(path):
    torch.save({"weight": torch.ones(2)}, path)


def pickled_code(path):
    class Boom:
        def __reduce__(self):
            return (print, ("executed",))

    path.write_bytes(pickle.dumps({"model": Boom()}))


def other_format(path):
    torch.save({**raw(path), checkpoint.FORMAT_KEY: 3}, path)


def altered(path):
    state = raw(path)
    next(iter(state["model"].values())).add_(1)  # the checksum stays the old one
    torch.save(state, path)


@pytest.mark.parametrize(
    "damage, words",
    [
        (lambda p: p.write_bytes(b""), r"is empty \(0 bytes\)"),
        (lambda p: p.write_bytes(p.read_bytes()[:100]), r"cannot be read \(.+\); it is truncated"),
        (lambda p: p.write_bytes(b"not a checkpoint"), "cannot be read"),
        (foreign, r"is not a snntrain checkpoint \(no 'model' entry\)"),
        (pickled_code, "cannot be read"),
        (other_format, "has format 3; this snntrain reads formats 1 and 2"),
        (altered, "does not match its checksum"),
    ],
    ids=["empty", "truncated", "garbage", "foreign", "pickled-code", "other-format", "altered"],
)
def test_a_bad_checkpoint_is_named_with_its_problem_and_left_as_it_is(run_dir, damage, words):
    path = run_dir / "checkpoints" / "last.pt"
    damage(path)
    before = path.read_bytes()
    with pytest.raises(CheckpointError, match=words):
        checkpoint.load(path)
    with pytest.raises(CheckpointError, match=words):
        run(["trainer.max_epochs=3", f"trainer.resume={path}"], run_dir)
    assert path.read_bytes() == before


def test_resume_auto_skips_unreadable_checkpoints_for_the_newest_readable_one(run_dir, caplog):
    ckpts = run_dir / "checkpoints"
    (ckpts / "last.pt").write_bytes(b"")
    (ckpts / "epoch_0002.pt").write_bytes((ckpts / "epoch_0002.pt").read_bytes()[:100])
    with caplog.at_level(logging.WARNING, logger="snntrain"):
        metrics = run(["trainer.max_epochs=3", "trainer.resume=auto"], run_dir)
    assert [h["epoch"] for h in metrics["history"]] == [1, 2, 3]  # epoch 1 from epoch_0001.pt, 2 and 3 trained
    assert "last.pt is empty" in caplog.text and "epoch_0002.pt cannot be read" in caplog.text


def test_resume_auto_takes_the_checkpoint_that_got_furthest(run_dir, caplog):
    ckpts = run_dir / "checkpoints"
    shutil.copy(ckpts / "epoch_0001.pt", ckpts / "last.pt")  # as when killed between writing epoch_0002.pt and last.pt
    with caplog.at_level(logging.INFO, logger="snntrain"):
        run(["trainer.max_epochs=3", "trainer.resume=auto"], run_dir)
    assert f"resumed from {ckpts / 'epoch_0002.pt'} at the end of epoch 2" in caplog.text


def test_a_format_1_checkpoint_of_main_before_checksums_is_resumed(run_dir):
    path = run_dir / "checkpoints" / "last.pt"
    state = raw(path)
    for key in (checkpoint.FORMAT_KEY, checkpoint.CHECKSUM_KEY, "world_size"):
        del state[key]
    state["rng"] = state["rng"][0]  # format 1 held one RNG state, not a list per rank
    torch.save(state, path)
    metrics = run(["trainer.max_epochs=3", f"trainer.resume={path}"], run_dir)
    assert [h["epoch"] for h in metrics["history"]] == [1, 2, 3]


def test_a_full_disk_stops_training_with_every_checkpoint_whole_and_resume_continues(tmp_path):
    with small_tmpfs(tmp_path / "disk", size="160k") as disk:
        with pytest.raises(StorageError, match=rf"cannot write the checkpoint {disk}/checkpoints/\S+\.pt: the disk is full \(ENOSPC\)"):
            run(["trainer.max_epochs=50"], disk)
        names = sorted(p.name for p in (disk / "checkpoints").iterdir())
        assert names and all(not n.endswith(".partial") for n in names), names
        done = [checkpoint.load(disk / "checkpoints" / n)["epoch"] for n in names]  # every file present loads
        subprocess.run(["mount", "-o", "remount,size=4m", str(disk)], check=True)
        metrics = run([f"trainer.max_epochs={max(done) + 1}", "trainer.resume=auto"], disk)
        assert [h["epoch"] for h in metrics["history"]] == list(range(1, max(done) + 2))


def test_a_file_size_limit_stops_the_first_checkpoint_and_leaves_no_temp_file(tmp_path):
    assert in_child(run, ["trainer.max_epochs=1"], tmp_path, file_size_limit=20_000) == (
        "StorageError",
        f"cannot write the checkpoint {tmp_path}/checkpoints/epoch_0001.pt: the file-size limit was reached (EFBIG); "
        f"raise the limit (ulimit -f unlimited). The checkpoints already in {tmp_path}/checkpoints are unchanged: once "
        "that is fixed, the same command with trainer.resume=auto continues from the newest of them.",
    )
    assert list((tmp_path / "checkpoints").iterdir()) == []


def test_a_full_disk_while_writing_metrics_keeps_the_old_file(run_dir):
    before = (run_dir / "metrics.json").read_text()
    outcome = in_child(run, ["trainer.max_epochs=2", "trainer.resume=auto"], run_dir, file_size_limit=500)
    assert outcome == ("StorageError", (
        f"cannot write the metrics {run_dir}/metrics.json: the file-size limit was reached (EFBIG); raise the limit "
        "(ulimit -f unlimited). Training is done and its checkpoints are written: once that is fixed, the same "
        "command with trainer.resume=auto writes metrics.json without training again."
    ))
    assert (run_dir / "metrics.json").read_text() == before
    assert not list(run_dir.glob(".*.partial"))


def test_an_unwritable_checkpoint_folder_is_named(run_dir):
    ckpts = run_dir / "checkpoints"
    before = {p.name: p.read_bytes() for p in ckpts.iterdir()}
    with unwritable(ckpts):
        with pytest.raises(StorageError, match=rf"cannot write the checkpoint {ckpts}/epoch_0003.pt: .*\((EACCES|EROFS|EPERM)\); .*{ckpts}"):
            run(["trainer.max_epochs=3", "trainer.resume=auto"], run_dir)
    assert {p.name: p.read_bytes() for p in ckpts.iterdir()} == before


def test_a_checkpoint_folder_deleted_during_training_is_named(tmp_path, monkeypatch):
    ckpts = tmp_path / "checkpoints"
    original = BPTT.step

    def step_then_delete(self, *args, **kwargs):
        shutil.rmtree(ckpts, ignore_errors=True)  # a real deletion, as by a user or a cleanup job
        return original(self, *args, **kwargs)

    monkeypatch.setattr(BPTT, "step", step_then_delete)
    with pytest.raises(StorageError, match=rf"cannot write the checkpoint {ckpts}/epoch_0001.pt: the folder {ckpts} no longer exists"):
        run(["trainer.max_epochs=1"], tmp_path)
    assert not ckpts.exists()


def test_temp_files_of_killed_runs_are_swept_when_a_run_starts(run_dir):
    dead = dead_pid()
    stale = [temp_of(run_dir / "checkpoints" / "last.pt", dead), temp_of(run_dir / "metrics.json", dead)]
    for path in stale:
        path.write_bytes(b"half")
    run(["trainer.max_epochs=2", "trainer.resume=auto"], run_dir)
    assert not any(path.exists() for path in stale)
