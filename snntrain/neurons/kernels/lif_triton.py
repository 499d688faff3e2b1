"""``neuron.backend=triton``: fused multi-step LIF forward and backward kernels.

Each program owns BLOCK neurons and keeps their membrane in registers for all T steps. The
forward reads the drive once and writes the spikes (dtype of the drive) and, for training, u
(float32) once; the backward is one reverse-time scan that reads grad_s and u once and writes
grad_x once. The equations are those of ``lif_scan`` line by line. Importing this module needs
triton; CUDA tensors run compiled, CPU tensors only under ``TRITON_INTERPRET=1`` (tests).
"""

from __future__ import annotations

import contextlib

import torch
import triton
import triton.language as tl

from snntrain.neurons.dynamics.lif import state_dtype
from snntrain.neurons.kernels import EXACT_ROUNDING, require_triton_device
from snntrain.neurons.kernels.fused import Engine, fused_lif

BLOCK = 1024  # neurons per program; scripts/device/lif_bandwidth.py compares other sizes
SURROGATE_IDS = {"sigmoid": 0, "atan": 1, "triangle": 2}


@triton.jit
def _surrogate_grad(h, alpha, SURROGATE: tl.constexpr):
    """The closed forms of ``surrogate.SURROGATES`` (sigmoid 0, atan 1, triangle 2)."""
    if SURROGATE == 0:
        sig = 1.0 / (1.0 + tl.exp(-alpha * h))
        grad = alpha * sig * (1.0 - sig)
    elif SURROGATE == 1:
        z = 1.5707963267948966 * alpha * h
        grad = (alpha / 2.0) / (1.0 + z * z)
    else:
        grad = alpha * tl.maximum(1.0 - alpha * tl.abs(h), 0.0)
    return grad


@triton.jit
def _lif_forward(
    x_ptr, v0_ptr, s_ptr, u_ptr, v_last_ptr, N, T, decay, threshold,
    HAS_V0: tl.constexpr, SOFT: tl.constexpr, SAVE_U: tl.constexpr, BLOCK: tl.constexpr,
):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < N
    state = v_last_ptr.dtype.element_ty
    if HAS_V0:
        v = tl.load(v0_ptr + offs, mask=mask, other=0.0).to(state)
    else:
        v = tl.zeros([BLOCK], dtype=state)
    # Pointers advance by N per step: 64-bit arithmetic, so T*N may exceed 2**31.
    x_p, s_p, u_p = x_ptr + offs, s_ptr + offs, u_ptr + offs
    for _ in range(T):
        u = decay * v + tl.load(x_p, mask=mask, other=0.0).to(state)
        # tl.where, not a bool cast: the interpreter mis-casts int1 to half types.
        s = tl.where(u - threshold >= 0, 1.0, 0.0).to(state)
        if SOFT:
            v = u - threshold * s
        else:
            v = u * (1.0 - s)
        tl.store(s_p, s.to(s_ptr.dtype.element_ty), mask=mask)
        if SAVE_U:
            tl.store(u_p, u, mask=mask)
        x_p += N
        s_p += N
        u_p += N
    tl.store(v_last_ptr + offs, v, mask=mask)


@triton.jit
def _lif_backward(
    gs_ptr, gv_ptr, u_ptr, gx_ptr, gv0_ptr, N, T, last, decay, threshold, alpha,
    HAS_GV: tl.constexpr, SOFT: tl.constexpr, DETACH: tl.constexpr, SURROGATE: tl.constexpr,
    BLOCK: tl.constexpr,
):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < N
    state = u_ptr.dtype.element_ty
    if HAS_GV:
        dv = tl.load(gv_ptr + offs, mask=mask, other=0.0).to(state)
    else:
        dv = tl.zeros([BLOCK], dtype=state)
    gs_p, u_p, gx_p = gs_ptr + last + offs, u_ptr + last + offs, gx_ptr + last + offs
    for _ in range(T):
        u = tl.load(u_p, mask=mask, other=0.0)
        h = u - threshold
        g = tl.load(gs_p, mask=mask, other=0.0).to(state)
        if not DETACH:
            if SOFT:
                g = g - dv * threshold
            else:
                g = g - dv * u
        sg = _surrogate_grad(h, alpha, SURROGATE)
        if SOFT:
            du = dv + g * sg
        else:
            du = dv * tl.where(h < 0, 1.0, 0.0).to(state) + g * sg
        tl.store(gx_p, du.to(gx_ptr.dtype.element_ty), mask=mask)
        dv = decay * du
        gs_p -= N
        u_p -= N
        gx_p -= N
    tl.store(gv0_ptr + offs, dv, mask=mask)


def _grid(n: int) -> tuple[int]:
    return (triton.cdiv(n, BLOCK),)


def _on_device(t: torch.Tensor):
    """Launch on ``t``'s GPU, whichever is current (no-op for CPU tensors under the interpreter)."""
    return torch.cuda.device(t.device) if t.is_cuda else contextlib.nullcontext()


def forward(x, v0, decay, threshold, soft_reset, save_u):
    """``lif_scan.forward_scan`` on [T, N] in one kernel launch."""
    T, n = x.shape
    dtype = state_dtype(x)
    spikes = torch.empty_like(x)
    u = torch.empty(x.shape, dtype=dtype, device=x.device) if save_u else None
    v_last = torch.empty(x.shape[1:], dtype=dtype, device=x.device)
    if n:
        with _on_device(x):
            _lif_forward[_grid(n)](
                x, x if v0 is None else v0, spikes, spikes if u is None else u, v_last,
                n, T, decay, threshold, HAS_V0=v0 is not None, SOFT=soft_reset, SAVE_U=save_u, BLOCK=BLOCK, **EXACT_ROUNDING,
            )
    return spikes, u, v_last


def backward(grad_s, grad_v, u, decay, threshold, soft_reset, detach_reset, surrogate, alpha, grad_dtype):
    """``lif_scan.backward_scan`` on [T, N] in one kernel launch."""
    T, n = u.shape
    grad_s = torch.zeros_like(u) if grad_s is None else grad_s
    grad_x = torch.empty_like(u, dtype=grad_dtype)
    grad_v0 = torch.empty_like(u[0])
    if n:
        with _on_device(u):
            _lif_backward[_grid(n)](
                grad_s, u if grad_v is None else grad_v, u, grad_x, grad_v0,
                n, T, (T - 1) * n, decay, threshold, alpha, HAS_GV=grad_v is not None, SOFT=soft_reset,
                DETACH=detach_reset, SURROGATE=SURROGATE_IDS[surrogate], BLOCK=BLOCK, **EXACT_ROUNDING,
            )
    return grad_x, grad_v0


ENGINE = Engine("triton", forward, backward)


def lif_triton(x, v0, decay, threshold, soft_reset, detach_reset, surrogate, alpha):
    """``lif_multistep`` by the fused kernels."""
    require_triton_device(x)
    return fused_lif(ENGINE, x, v0, decay, threshold, soft_reset, detach_reset, surrogate, alpha)
