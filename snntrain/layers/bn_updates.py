"""One update of BatchNorm's running statistics for a batch that a method runs in several calls.

One-step differentiation runs the first T−k steps and the last k steps of a batch as two calls;
time-major BatchNorm in training mode would update its running statistics once per call (and count
two batches). Inside ``updated_once(model)`` each call's batch mean and variance are recorded and
the running statistics restored; on exit they are updated once, with the mean and unbiased
variance of all the calls' inputs together, as one call over all T steps (BPTT) would update them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from snntrain.layers.rate_bn import channel_stats


def _tracking(model: nn.Module) -> list[_BatchNorm]:
    return [m for m in model.modules() if isinstance(m, _BatchNorm) and m.training and m.track_running_stats]


def pooled(calls: list[tuple[int, torch.Tensor, torch.Tensor]]) -> tuple[int, torch.Tensor, torch.Tensor]:
    """(n, mean, biased variance) of the union of samples given per call as (n_i, mean_i, biased var_i)."""
    n = sum(c[0] for c in calls)
    mean = sum(c[0] * c[1] for c in calls) / n
    var = sum(c[0] * (c[2] + (c[1] - mean) ** 2) for c in calls) / n
    return n, mean, var


@contextmanager
def updated_once(model: nn.Module) -> Iterator[None]:
    """Within the block, BatchNorm layers of ``model`` normalise each call as usual; their running
    statistics move once, on exit, by the pooled statistics of every call (see the module docstring)."""
    norms = _tracking(model)
    saved = {m: (m.running_mean.clone(), m.running_var.clone(), m.num_batches_tracked.clone()) for m in norms}
    calls: dict[_BatchNorm, list[tuple[int, torch.Tensor, torch.Tensor]]] = {m: [] for m in norms}

    def record(module, args, output):
        (x,) = args
        var, mean = channel_stats(x.detach())
        calls[module].append((x.numel() // x.shape[2], mean, var))

    handles = [m.register_forward_hook(record) for m in norms]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()
    # New tensors, not in-place updates: the calls' graphs saved the buffers for their backward.
    with torch.no_grad():
        for m in norms:
            mean0, var0, count0 = saved[m]
            m.running_mean, m.running_var, m.num_batches_tracked = mean0, var0, count0
            if not calls[m]:
                continue
            n, mean, var = pooled(calls[m])
            m.num_batches_tracked = count0 + 1
            factor = m.momentum if m.momentum is not None else 1.0 / float(m.num_batches_tracked)
            m.running_mean = (1 - factor) * mean0 + factor * mean.to(mean0.dtype)
            m.running_var = (1 - factor) * var0 + factor * (var * n / max(n - 1, 1)).to(var0.dtype)
