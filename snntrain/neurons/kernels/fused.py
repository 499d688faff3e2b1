"""One autograd Function for every fused LIF engine, and the memory layout they see.

An engine supplies ``forward(x, v0, decay, threshold, soft_reset, save_u)`` and
``backward(grad_s, grad_v, u, decay, threshold, soft_reset, detach_reset, surrogate, alpha,
grad_dtype)`` with the contracts of ``lif_scan.forward_scan`` / ``backward_scan``, on
contiguous [T, N] drives and [N] states. The Function keeps only the membrane u (state dtype)
for backward: spikes are recomputed from it, whatever the reset or surrogate.

Layout: a drive whose steps are dense blocks of memory in any order (channels_last conv
output, say) is scanned in place as [T, N], and the spikes come back with the drive's strides;
anything else is copied to contiguous first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch.autograd.function import once_differentiable


@dataclass(frozen=True)
class Engine:
    name: str
    forward: Callable
    backward: Callable


def _dense(t: torch.Tensor) -> bool:
    """Whether ``t`` covers a gap-free block of memory (any dimension order)."""
    expected = 1
    for stride, size in sorted((s, n) for s, n in zip(t.stride(), t.shape) if n != 1):
        if stride != expected:
            return False
        expected *= size
    return True


def _scannable(x: torch.Tensor) -> torch.Tensor:
    """``x`` itself when each step is a dense block following the previous one, else a copy."""
    n = x[0].numel()
    ok = (x.shape[0] == 1 or x.stride(0) == n) and _dense(x[0])
    return x if ok else x.contiguous()


def _rows(t: torch.Tensor, steps: int, n: int) -> torch.Tensor:
    """The memory of a scannable ``t`` as [steps, n] (steps=0: as [n])."""
    if steps == 0:
        return t.as_strided((n,), (1,), t.storage_offset())
    return t.as_strided((steps, n), (n, 1), t.storage_offset())


def _in_layout(t: torch.Tensor, shape: torch.Size, stride: tuple[int, ...]) -> torch.Tensor:
    """``t`` with exactly ``stride`` (a copy only if it has another layout)."""
    if t.stride() == stride or t.numel() <= 1:
        return t
    return torch.empty_strided(shape, stride, dtype=t.dtype, device=t.device).copy_(t)


class _FusedLIF(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, v0, decay, threshold, soft_reset, detach_reset, surrogate, alpha, engine):
        spikes, u, v_last = _forward(engine, x, v0, decay, threshold, soft_reset, True)
        ctx.save_for_backward(u)
        ctx.args = (decay, threshold, soft_reset, detach_reset, surrogate, alpha, x.dtype)
        ctx.engine = engine
        ctx.v0_dtype = None if v0 is None else v0.dtype
        ctx.set_materialize_grads(False)
        return spikes, v_last

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_s, grad_v):
        (u,) = ctx.saved_tensors
        T, n = u.shape[0], u[0].numel()
        if grad_s is not None:
            grad_s = _rows(_in_layout(grad_s, u.shape, u.stride()), T, n)
        if grad_v is not None:
            grad_v = _rows(_in_layout(grad_v, u[0].shape, u[0].stride()), 0, n)
        grad_x, grad_v0 = ctx.engine.backward(grad_s, grad_v, _rows(u, T, n), *ctx.args)
        grad_x = grad_x.as_strided(u.shape, u.stride())
        grad_v0 = grad_v0.as_strided(u[0].shape, u[0].stride()).to(ctx.v0_dtype) if ctx.needs_input_grad[1] else None
        return grad_x, grad_v0, None, None, None, None, None, None, None


def _forward(engine, x, v0, decay, threshold, soft_reset, save_u):
    """Run ``engine.forward`` on the memory of ``x``; outputs take x's layout."""
    x = _scannable(x)
    T, n = x.shape[0], x[0].numel()
    if v0 is not None:
        v0 = _rows(_in_layout(v0, x[0].shape, x[0].stride()), 0, n)
    spikes, u, v_last = engine.forward(_rows(x, T, n), v0, decay, threshold, soft_reset, save_u)
    spikes = spikes.as_strided(x.shape, x.stride())
    u = None if u is None else u.as_strided(x.shape, x.stride())
    return spikes, u, v_last.as_strided(x[0].shape, x[0].stride())


def fused_lif(
    engine: Engine,
    x: torch.Tensor,
    v0: torch.Tensor | None,
    decay: float,
    threshold: float,
    soft_reset: bool,
    detach_reset: bool,
    surrogate: str,
    alpha: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``lif_multistep`` computed by ``engine``; without a graph to build, u is never stored."""
    needs_graph = torch.is_grad_enabled() and (x.requires_grad or (v0 is not None and v0.requires_grad))
    if not needs_graph:
        spikes, _, v_last = _forward(engine, x, v0, decay, threshold, soft_reset, False)
        return spikes, v_last
    return _FusedLIF.apply(x, v0, decay, threshold, soft_reset, detach_reset, surrogate, alpha, engine)
