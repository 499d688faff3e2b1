"""Fused multi-step CUBA neuron (Triton): one kernel runs all T steps.

Each program owns a [BLOCK_B, BLOCK_N] tile of (sample, neuron) and loops over time, reading
the drive once and writing spikes once (as uint8), so the time loop costs one launch instead of
about ten per step. With lateral inhibition a tile spans every neuron of its samples (the
inhibition sums over them). Same arithmetic and order as ``dynamics.cuba.cuba_multistep``, which the
device check holds it to.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from snntrain.neurons.dynamics.cuba import CUBAParams, CUBAState
from snntrain.neurons.kernels import EXACT_ROUNDING, require_triton_device


@triton.jit
def _cuba_kernel(
    drive_ptr, spikes_ptr, current_ptr, voltage_ptr, refractory_ptr, pending_ptr,
    steps, batch, width, decay_m, decay_s, inv_tau_s, threshold, t_ref, inhibition,
    LATERAL: tl.constexpr, BLOCK_B: tl.constexpr, BLOCK_N: tl.constexpr,
):
    rows = tl.program_id(0) * BLOCK_B + tl.arange(0, BLOCK_B)
    cols = tl.program_id(1) * BLOCK_N + tl.arange(0, BLOCK_N)
    mask = (rows[:, None] < batch) & (cols[None, :] < width)
    offsets = rows[:, None] * width + cols[None, :]
    current = tl.load(current_ptr + offsets, mask=mask, other=0.0)
    voltage = tl.load(voltage_ptr + offsets, mask=mask, other=0.0)
    refractory = tl.load(refractory_ptr + offsets, mask=mask, other=0.0)
    pending = tl.load(pending_ptr + offsets, mask=mask, other=0.0)
    stride = batch * width
    for t in range(steps):
        arriving = tl.load(drive_ptr + t * stride + offsets, mask=mask, other=0.0).to(tl.float32)
        current = current * decay_s + pending
        voltage = voltage * decay_m + current * inv_tau_s
        voltage = tl.where(refractory > 0, 0.0, voltage)
        refractory = tl.maximum(refractory - 1.0, 0.0)
        fired = voltage > threshold
        voltage = tl.where(fired, 0.0, voltage)
        refractory = tl.where(fired, t_ref, refractory)
        tl.store(spikes_ptr + t * stride + offsets, fired.to(tl.uint8), mask=mask)
        pending = arriving
        if LATERAL:
            spiked = tl.where(fired & mask, 1.0, 0.0)
            pending = pending - inhibition * (tl.sum(spiked, axis=1)[:, None] - spiked)
    tl.store(current_ptr + offsets, current, mask=mask)
    tl.store(voltage_ptr + offsets, voltage, mask=mask)
    tl.store(refractory_ptr + offsets, refractory, mask=mask)
    tl.store(pending_ptr + offsets, pending, mask=mask)


def cuba_multistep_triton(drive: torch.Tensor, state: CUBAState, p: CUBAParams) -> tuple[torch.Tensor, CUBAState]:
    """``dynamics.cuba.cuba_multistep`` as one kernel launch; same arguments and results."""
    require_triton_device(drive)
    steps, batch = drive.shape[:2]
    width = drive[0, 0].numel()
    drive = drive.contiguous()
    current, voltage, refractory, pending = (s.float().contiguous().clone() for s in (state.current, state.voltage, state.refractory, state.pending))
    spikes = torch.empty(drive.shape, dtype=torch.uint8, device=drive.device)
    lateral = bool(p.inhibition)
    if lateral:
        block_n = triton.next_power_of_2(width)
        block_b = max(1, min(triton.next_power_of_2(batch), 1024 // block_n))
    else:
        block_n = min(triton.next_power_of_2(width), 128)
        block_b = max(1, 128 // block_n)
    grid = (triton.cdiv(batch, block_b), triton.cdiv(width, block_n))
    _cuba_kernel[grid](
        drive, spikes, current, voltage, refractory, pending,
        steps, batch, width, p.decay_m, p.decay_s, 1.0 / p.tau_s, p.threshold, float(p.t_ref), p.inhibition,
        LATERAL=lateral, BLOCK_B=block_b, BLOCK_N=block_n, **EXACT_ROUNDING,
    )
    return spikes.view(torch.bool), CUBAState(current, voltage, refractory, pending)
