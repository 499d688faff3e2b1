"""Data-parallel training: gradient reduction, equal steps per rank, and 2 Gloo processes vs 1."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

from snntrain.data import BatchLoader, Split
from snntrain.engine import distributed


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


def test_synchronize_weights_each_rank_by_its_samples():
    expected = (3 * 1.0 + 1 * 2.0) / 4
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    port = free_port()
    procs = [ctx.Process(target=_sync_worker, args=(r, port, queue)) for r in range(2)]
    for p in procs:
        p.start()
    results = sorted(queue.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(timeout=60)
    for _, grad, running_mean in results:
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
