"""Data-parallel training over ``torch.distributed``, the same for every gradient method.

``torchrun --nproc_per_node=N -m snntrain ...`` starts N processes; each reads its rank from the
environment (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``), joins the process group (NCCL on GPU, Gloo
on CPU), trains on its shard of every global batch (``BatchLoader`` hands rank r every N-th sample
of the same seeded permutation) and keeps an identical copy of the model.

Why an explicit all-reduce after ``method.step`` and not ``DistributedDataParallel``:

* DDP synchronises gradients from autograd hooks during ``backward``. HM2-BP writes ``.grad`` by
  hand, without autograd, so DDP would silently leave its gradients unsynchronised. One all-reduce
  of every parameter's ``.grad`` after the step serves autograd methods and hand-written ones alike.
* The model stays the plain module: state-dict keys, checkpoints and methods that walk
  ``model.body`` are the same with one process or N.
* The reduction is weighted by each rank's sample count, so an unequal last batch still yields the
  gradient of the global batch (DDP averages ranks equally).
The price is that communication does not overlap the backward pass, as DDP's bucketed hooks do; an
SNN step is dominated by its T-step forward and backward, so this costs little.

Gradients equal those of one process with batch ``batch_size x N``, up to the order of float sums
(about 1e-7 relative): every method's gradient is the batch mean of a per-sample term plus terms
that do not depend on the batch (HM2-BP's weight regulariser), so rank r contributes
``n_r * g_r`` and the sum is divided by ``N_total = sum n_r``: the per-sample terms average over the
global batch and the batch-free terms come out once. Every step is a
collective, so every rank must take the same number of steps: a last global batch with fewer samples
than ranks (at most N-1 samples an epoch) is dropped in training. A parameter whose
``.grad`` is None is None on every rank (same model, same method), so it is left out everywhere.
BatchNorm running statistics are broadcast from rank 0 after each step (as DDP's
``broadcast_buffers`` does), so every rank evaluates the same model.

Evaluation is sharded the same way; the counts of correct and seen samples are summed over ranks,
so every rank gets the same accuracy, and the same best-checkpoint decision. Rank 0 alone writes:
console, TensorBoard, checkpoints, ``metrics.json``; ``ranks.rank_overrides`` keeps Hydra's ``.hydra/``
and ``train.log`` to rank 0 as well. Each rank draws its own random numbers (Poisson encoding,
dropout) from ``seed + rank``; a checkpoint holds every rank's generator state (gathered to rank 0
when it saves), and a resumed run gives each rank its own back.

When a rank dies, the others must not wait for it forever. A rank that is killed or crashes closes
its connections, and Gloo fails the collective the others are in at once; a rank that hangs is given
up on after ``trainer.dist_timeout_s`` (the process group's timeout, which NCCL's watchdog enforces
too). Either way the failed collective becomes one ``RankFailure`` line and a non-zero exit. torchrun
itself notices a dead worker within its monitor interval (0.1 s), sends SIGTERM to the others (SIGKILL
30 s later) and exits non-zero with its failure summary, so the job never hangs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from snntrain.core.errors import SnntrainError
from snntrain.engine.ranks import env_rank

BUCKET_BYTES = 25 * 2**20


class RankFailure(SnntrainError):
    """Another rank of the job died or stopped answering, so this one stopped too."""

    exit_code = 1


@contextmanager
def peers_answering(what: str) -> Iterator[None]:
    """Run the collective ``what``; its failure (a peer's closed connection, the group's timeout)
    becomes RankFailure naming this rank and what to do."""
    try:
        yield
    except RuntimeError as err:  # Gloo/NCCL errors (torch.distributed.DistError is a RuntimeError)
        detail = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise RankFailure(
            f"rank {env_rank()[0]}: {what} failed ({detail}). Another process of this torchrun job has died or "
            "stopped answering (one that hangs is given up on after trainer.dist_timeout_s); its own output says why. "
            "Resume the job with trainer.resume=auto and the same hydra.run.dir."
        ) from None


@contextmanager
def session(device: str, run_dir: Path, timeout_s: float) -> Iterator[tuple[int, int]]:
    """Join the process group torchrun describes (if any) and yield ``(rank, world_size)``.

    NCCL when a GPU is used (each process on GPU ``LOCAL_RANK``), Gloo on the CPU; a collective
    that waits longer than ``timeout_s`` for another rank fails (RankFailure). On exit the
    group is destroyed, and a rank > 0 removes ``run_dir`` if it left it empty (its clock may have
    named a different second than rank 0's when Hydra made the dir).
    """
    rank, local_rank, world_size = env_rank()
    if world_size == 1:
        yield 0, 1
        return
    use_cuda = device != "cpu" and torch.cuda.is_available()
    if use_cuda:
        torch.cuda.set_device(local_rank)
    with peers_answering("joining the process group"):
        dist.init_process_group(backend="nccl" if use_cuda else "gloo", timeout=timedelta(seconds=timeout_s))
    try:
        yield rank, world_size
    finally:
        dist.destroy_process_group()
        if rank > 0 and Path(run_dir).is_dir() and not any(Path(run_dir).iterdir()):
            Path(run_dir).rmdir()


def seed_rank(seed: int, rank: int) -> None:
    """Give rank r > 0 its own random stream (``seed + rank``), so ranks draw independent noise."""
    if rank > 0:
        torch.manual_seed(seed + rank)


def synchronize(model: nn.Module, world_size: int, n_samples: int) -> None:
    """Make every rank's ``.grad`` the global batch's gradient and its buffers rank 0's.

    ``n_samples`` is this rank's batch size (see the module docstring). No-op with one process.
    """
    if world_size == 1:
        return
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    (total,) = sum_over_ranks(world_size, n_samples)
    for g in grads:
        g.mul_(n_samples / total)
    _flat_collective(grads, dist.all_reduce)
    _flat_collective(list(model.buffers()), lambda flat: dist.broadcast(flat, src=0))


def _flat_collective(tensors: list[torch.Tensor], collective: Callable[[torch.Tensor], object]) -> None:
    """Run ``collective`` in place on ``tensors``, flattened into buckets of one dtype and device."""
    for bucket in _buckets(tensors):
        flat = torch.cat([t.reshape(-1) for t in bucket])
        with peers_answering("synchronising gradients and buffers"):
            collective(flat)
        for t, part in zip(bucket, flat.split([t.numel() for t in bucket])):
            t.copy_(part.view_as(t))


def _buckets(tensors: list[torch.Tensor]) -> Iterator[list[torch.Tensor]]:
    """Consecutive groups of ``tensors`` of one dtype and device, each about ``BUCKET_BYTES``."""
    bucket: list[torch.Tensor] = []
    size = 0
    for t in tensors:
        nbytes = t.numel() * t.element_size()
        if bucket and (size + nbytes > BUCKET_BYTES or t.dtype != bucket[0].dtype or t.device != bucket[0].device):
            yield bucket
            bucket, size = [], 0
        bucket.append(t)
        size += nbytes
    if bucket:
        yield bucket


def sum_over_ranks(world_size: int, *values: float) -> tuple[float, ...]:
    """The element-wise sum of ``values`` over all ranks (the values themselves with one process)."""
    if world_size == 1:
        return values
    total = torch.tensor(values, dtype=torch.float64, device=_collective_device())
    with peers_answering("summing counts over ranks"):
        dist.all_reduce(total)
    return tuple(total.tolist())


def gather(world_size: int, value: Any) -> list[Any]:
    """Every rank's ``value`` (any picklable object), in rank order, on every rank; ``[value]`` with one process."""
    if world_size == 1:
        return [value]
    values: list[Any] = [None] * world_size
    with peers_answering("gathering every rank's state"):
        dist.all_gather_object(values, value)
    return values


def any_rank(world_size: int, flag: bool) -> bool:
    """Whether ``flag`` holds on any rank (``flag`` itself with one process): a decision every rank
    must take alike, e.g. skipping a batch whose loss was non-finite on one of them."""
    return sum_over_ranks(world_size, float(flag))[0] > 0


def agreed_stop(world_size: int, signum: int | None) -> int | None:
    """The stop signal any rank has received (the highest number if several), or None: ranks must
    stop at the same batch, since each step and each save is a collective."""
    if world_size == 1:
        return signum
    flag = torch.tensor([signum or 0], device=_collective_device())
    with peers_answering("agreeing on a stop signal"):
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
    return int(flag.item()) or None


def _collective_device() -> str:
    """Where the tensors of a collective live: NCCL reduces CUDA tensors, Gloo CPU ones."""
    return "cuda" if dist.get_backend() == "nccl" else "cpu"
