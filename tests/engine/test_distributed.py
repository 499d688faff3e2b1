"""Data-parallel training: gradient reduction, equal steps per rank, and 2 Gloo processes vs 1."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

from snntrain.data import BatchLoader, Split
from snntrain.engine import checkpoint, distributed
from tests.engine.test_trainer import strip_timings
from tests.processes import descendants, kill_all, wait_for, wait_until_gone


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _sync_worker(rank: int, port: int, queue) -> None:
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    for p in model.parameters():
        p.grad = torch.full_like(p, float(rank + 1))  # rank 0: 1.0, rank 1: 2.0
    model[1].running_mean.fill_(float(rank + 10))
    n_samples = [3, 1][rank]
    distributed.synchronize(model, 2, n_samples)
    queue.put((rank, model[0].weight.grad.tolist(), model[1].running_mean.tolist()))
    dist.destroy_process_group()


def two_ranks(target) -> list:
    """Run ``target(rank, port, queue)`` in two spawned processes; the one result each puts on the queue.
    Both processes are ended and reaped whatever happens."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    port = free_port()
    procs = [ctx.Process(target=target, args=(r, port, queue)) for r in range(2)]
    for p in procs:
        p.start()
    try:
        return [queue.get(timeout=120) for _ in procs]
    finally:
        for p in procs:
            p.join(timeout=5)
            p.kill()
            p.join()


def test_synchronize_weights_each_rank_by_its_samples():
    expected = (3 * 1.0 + 1 * 2.0) / 4
    for _, grad, running_mean in sorted(two_ranks(_sync_worker)):
        assert np.allclose(grad, expected)
        assert running_mean == [10.0, 10.0]  # rank 0's buffers everywhere


def test_synchronize_is_a_no_op_with_one_process():
    model = nn.Linear(2, 2)
    model.weight.grad = torch.ones_like(model.weight)
    distributed.synchronize(model, 1, 5)
    assert torch.equal(model.weight.grad, torch.ones_like(model.weight))


@pytest.mark.parametrize("n", [40, 41, 45, 47])
def test_equal_steps_gives_every_rank_the_same_steps_and_covers_the_global_batches(n):
    split = Split(torch.arange(n).float().unsqueeze(1), torch.zeros(n, dtype=torch.long))
    loaders = [BatchLoader(split, 4, True, seed=1, rank=r, world_size=3, equal_steps=True) for r in range(3)]
    steps = [list(loader) for loader in loaders]
    assert len({len(s) for s in steps}) == 1 and all(len(s) == len(loader) for s, loader in zip(steps, loaders))
    single = [x.squeeze(1).long().tolist() for x, _ in BatchLoader(split, 12, True, seed=1)]
    for i, batches in enumerate(zip(*steps)):
        assert sorted(v for x, _ in batches for v in x.squeeze(1).long().tolist()) == sorted(single[i])
    # Only a last global batch smaller than the number of ranks is dropped.
    assert sum(len(x) for s in steps for x, _ in s) == (n if n % 12 == 0 or n % 12 >= 3 else n - n % 12)


def test_eval_loader_keeps_every_sample():
    split = Split(torch.arange(25).float().unsqueeze(1), torch.zeros(25, dtype=torch.long))
    seen = [v for r in range(2) for x, _ in BatchLoader(split, 4, False, rank=r, world_size=2) for v in x.squeeze(1).long().tolist()]
    assert sorted(seen) == list(range(25))


def launch(args: list[str], cwd, nproc: int | None) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    prefix = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}"] if nproc else [sys.executable]
    return subprocess.run([*prefix, "-m", "snntrain", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False)


# bptt: a full epoch of digits: 1,295 training samples in global batches of 32 end with a batch of
# 15, split 8/7 between the ranks, so the sample-weighted reduction is exercised too. hm2bp: its
# gradient is the batch mean of the data terms plus a regulariser that does not depend on the batch,
# which the sample-weighted average must count once; two steps, before float-order differences
# (1e-7) can move a spike.
@pytest.mark.slow
@pytest.mark.parametrize("method", [[], ["method=hm2bp", "T=30", "trainer.limit_batches=2"]], ids=["bptt", "hm2bp"])
def test_two_gloo_processes_match_one_process_with_the_same_global_batch(tmp_path, method):
    common = ["trainer.max_epochs=1", "trainer.progress=false", "logger=none", "trainer.device=cpu", "model.hidden=[64]", "optimizer=sgd", "optimizer.lr=0.05", *method]
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    two = launch([*common, "dataset.batch_size=16", f"hydra.run.dir={tmp_path / 'two'}"], cwd, nproc=2)
    assert two.returncode == 0, two.stderr[-4000:]
    one = launch([*common, "dataset.batch_size=32", f"hydra.run.dir={tmp_path / 'one'}"], cwd, nproc=None)
    assert one.returncode == 0, one.stderr[-4000:]
    a = torch.load(tmp_path / "two" / "checkpoints" / "last.pt", weights_only=True)["model"]
    b = torch.load(tmp_path / "one" / "checkpoints" / "last.pt", weights_only=True)["model"]
    # Tolerance: the same arithmetic in a different order of float32 sums (per-rank partial sums,
    # then the all-reduce); after one epoch of SGD the weights differ by ~1e-7.
    for key in b:
        assert torch.allclose(a[key], b[key], atol=1e-5, rtol=0), key
    ma, mb = (json.loads((tmp_path / d / "metrics.json").read_text()) for d in ("two", "one"))
    for key in ("test_acc", "best_val_acc", "test_acc_at_best_val", "best_test_acc", "epochs"):
        assert ma[key] == mb[key], key  # evaluation is sharded and its counts summed: same accuracy
    assert ma["final_train_loss"] == pytest.approx(mb["final_train_loss"], rel=1e-5)
    # Only rank 0 writes: one set of checkpoints, one .hydra, nothing in the working dir.
    assert sorted(p.name for p in (tmp_path / "two" / "checkpoints").iterdir()) == ["best.pt", "epoch_0001.pt", "last.pt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cwd", "one", "two"]
    assert list(cwd.iterdir()) == []


# Poisson encoding draws from each rank's own generator (seed + rank), every step and evaluation:
# the resumed run matches the uninterrupted one only if each rank gets its own state back.
@pytest.mark.slow
def test_a_resumed_two_process_run_gives_each_rank_its_own_random_state_back(tmp_path):
    common = [
        "trainer.max_epochs=2", "trainer.keep_checkpoints=2", "trainer.progress=false", "logger=none", "trainer.device=cpu",
        "model.hidden=[32]", "T=4", "dataset.encoder=poisson", "dataset.batch_size=16", "trainer.limit_batches=4", "trainer.limit_eval_batches=1",
    ]
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    straight = launch([*common, f"hydra.run.dir={tmp_path / 'straight'}"], cwd, nproc=2)
    assert straight.returncode == 0, straight.stderr[-4000:]
    after_one = tmp_path / "straight" / "checkpoints" / "epoch_0001.pt"
    rng = checkpoint.load(after_one)["rng"]
    assert len(rng) == 2 and not torch.equal(rng[0]["torch"], rng[1]["torch"])
    resumed = launch([*common, f"hydra.run.dir={tmp_path / 'resumed'}", f"trainer.resume={after_one}"], cwd, nproc=2)
    assert resumed.returncode == 0, resumed.stderr[-4000:]
    a, b = (checkpoint.load(tmp_path / run / "checkpoints" / "last.pt") for run in ("straight", "resumed"))
    for key, value in a["model"].items():
        assert torch.equal(value, b["model"][key]), key
    assert strip_timings(json.loads((tmp_path / "straight" / "metrics.json").read_text())) == strip_timings(json.loads((tmp_path / "resumed" / "metrics.json").read_text()))


def _hung_peer_worker(rank: int, port: int, queue) -> None:
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE="2", MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    with distributed.session("cpu", "unused", timeout_s=2.0):
        if rank == 1:
            queue.put("joined")
            time.sleep(120)  # alive but never joins the collective: a hung rank
        start = time.monotonic()
        try:
            distributed.sum_over_ranks(2, 1.0)
        except distributed.RankFailure as err:
            queue.put((str(err), time.monotonic() - start))


def test_a_rank_that_stops_answering_fails_the_others_collective_after_the_timeout():
    (message, waited), = [r for r in two_ranks(_hung_peer_worker) if r != "joined"]
    assert message.startswith("rank 0: summing counts over ranks failed (") and "trainer.dist_timeout_s" in message
    assert "\n" not in message and 1.5 < waited < 30


def _any_rank_worker(rank: int, port: int, queue) -> None:
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE="2", MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    with distributed.session("cpu", "unused", timeout_s=60.0):
        queue.put((rank, distributed.any_rank(2, rank == 1), distributed.any_rank(2, False)))


def test_a_batch_one_rank_finds_non_finite_is_skipped_by_every_rank():
    """trainer.on_nonfinite=skip_batch: the decision is shared, so that no rank steps while another skips."""
    assert sorted(two_ranks(_any_rank_worker)) == [(0, True, False), (1, True, False)]


def rank_pids(torchrun: int) -> dict[int, int]:
    """The worker processes torchrun started: rank -> pid (read from their environment)."""
    ranks = {}
    for pid in descendants(torchrun):
        try:
            env = dict(item.split("=", 1) for item in open(f"/proc/{pid}/environ").read().split("\0") if "=" in item)
        except OSError:
            continue
        if "RANK" in env and "TORCHELASTIC_RUN_ID" in env:
            ranks[int(env["RANK"])] = pid
    return ranks


# The rank killed is rank 1 (the other's collective fails on its closed connection); torchrun notices
# the death, stops the rest and returns. Bounded: torchrun gives workers 30 s after its SIGTERM before
# SIGKILL, so returning well within that means the survivor stopped on its own.
@pytest.mark.slow
def test_a_rank_killed_mid_training_stops_the_other_with_one_line_and_torchrun_returns(tmp_path):
    run, logs = tmp_path / "run", tmp_path / "logs"
    args = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", f"--log-dir={logs}", "--redirects=3",
            "-m", "snntrain", "trainer.max_epochs=100000", "trainer.progress=false", "logger=none", "trainer.device=cpu", "T=4",
            "model.hidden=[32]", f"hydra.run.dir={run}"]
    proc = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    tree: dict[int, int] = {}
    try:
        wait_for(run / "checkpoints" / "last.pt", proc, timeout=180)  # both ranks are training
        tree = descendants(proc.pid)
        ranks = rank_pids(proc.pid)
        assert sorted(ranks) == [0, 1]
        killed = time.monotonic()
        os.kill(ranks[1], signal.SIGKILL)
        _, err = proc.communicate(timeout=60)
        took = time.monotonic() - killed
    finally:
        proc.kill()
        kill_all(tree)
        proc.communicate()
    assert proc.returncode != 0 and "ChildFailedError" in err
    assert took < 20, f"torchrun took {took:.1f} s to return"
    assert wait_until_gone(tree, timeout=10) == []
    (survivor_log,) = logs.rglob("attempt_0/0/stderr.log")
    lines = survivor_log.read_text().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("snntrain error: rank 0: "), lines
    assert "Another process of this torchrun job has died" in lines[0] and "trainer.resume=auto" in lines[0]
