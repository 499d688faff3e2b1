"""The S-PSP kernel P as one Triton kernel per call (GPU): the two scans of ``psp.psp_matrix``.

Each program owns BLOCK neurons (sample x neuron, flattened) and runs the forward scan (steps
since the last spike, kept in a scratch buffer) and then the reverse scan, with the same
arithmetic as the torch loops, which the device check holds it to. A presynaptic delay d shortens
the window by d and writes step t of the scan to row t - d, as the torch loop does.
"""

from __future__ import annotations

import math

import torch
import triton
import triton.language as tl

from snntrain.methods.hm2bp.psp_kernel import NEVER, PSPKernel
from snntrain.neurons.kernels import EXACT_ROUNDING


@triton.jit
def _eps(x, tau_m, tau_s, scale):
    return (tl.exp(-x / tau_m) - tl.exp(-x / tau_s)) * scale


@triton.jit
def _psp_kernel(
    spikes_ptr, since_ptr, psp_ptr, steps, width,
    tau_m, tau_s, t_ref, window, delay, step_m, step_s, scale, edge, never,
    BLOCK: tl.constexpr,
):
    cols = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = cols < width
    since = tl.full((BLOCK,), never, tl.float32)
    for t in range(steps):
        fired = tl.load(spikes_ptr + t * width + cols, mask=mask, other=0).to(tl.float32)
        since = (since + 1.0) * (1.0 - fired)
        tl.store(since_ptr + t * width + cols, since, mask=mask)
    mem = tl.zeros((BLOCK,), tl.float32)
    syn = tl.zeros((BLOCK,), tl.float32)
    decaying = tl.zeros((BLOCK,), tl.float32)
    for back in range(steps - delay):
        t = steps - 1 - back
        fired = tl.load(spikes_ptr + (t + 1) * width + cols, mask=mask & (t + 1 < steps), other=0).to(tl.float32)
        mem = tl.where(fired > 0, step_m, mem * step_m)
        syn = tl.where(fired > 0, step_s, syn * step_s)
        near = mem > edge
        since_t = tl.load(since_ptr + t * width + cols, mask=mask, other=never)
        free = since_t >= t_ref
        now = since_t == t_ref - 1.0
        direct = tl.where(near & free, mem - syn, 0.0)
        entering = tl.where(near & now, mem * (1.0 / step_m) - syn * (1.0 / step_s), 0.0)
        decaying = decaying + entering * scale
        far = mask & (t + window + 1 < steps)
        leaving_spike = tl.load(spikes_ptr + (t + window + 1) * width + cols, mask=far, other=0)
        since_before = tl.load(since_ptr + (t + window) * width + cols, mask=far, other=never)
        lag = tl.maximum(window + t_ref - 1.0 - since_before, 0.0)
        leaving = _eps(since_before + 1.0 - t_ref, tau_m, tau_s, scale) * tl.exp(-lag / tau_s)
        decaying = decaying - tl.where((leaving_spike > 0) & (lag > 0), leaving, 0.0)
        decaying = decaying * step_s
        tl.store(psp_ptr + (t - delay) * width + cols, decaying + direct * scale, mask=mask)


def psp_matrix_triton(spikes: torch.Tensor, kernel: PSPKernel) -> torch.Tensor:
    """``psp.psp_matrix`` in float32 on the GPU; ``spikes`` [T, ...] bool."""
    steps = spikes.shape[0]
    width = spikes[0].numel()
    flat = spikes.contiguous().view(torch.uint8)
    since = torch.empty(spikes.shape, dtype=torch.float32, device=spikes.device)
    psp = torch.empty(spikes.shape, dtype=torch.float32, device=spikes.device)
    psp[max(steps - kernel.delay, 0) :] = 0.0
    window = kernel.window - kernel.delay
    block = 128
    _psp_kernel[(triton.cdiv(width, block),)](
        flat, since, psp, steps, width,
        kernel.tau_m, kernel.tau_s, float(kernel.t_ref), int(window), int(kernel.delay),
        math.exp(-1.0 / kernel.tau_m), math.exp(-1.0 / kernel.tau_s), 1.0 / (1.0 - kernel.tau_s / kernel.tau_m),
        math.exp(-(window + 0.5) / kernel.tau_m), NEVER,
        BLOCK=block, **EXACT_ROUNDING,
    )
    return psp
