"""The spike-train-level PSP (S-PSP) of HM2-BP in matrix form (METHODS.md §5).

The effect of presynaptic train j on neuron i, summed over i's spikes and honouring i's resets,

    e_{i|j} = sum_f sum_{g: t_i^f - W <= t_j^g < t_i^f} kappa(s_f, t_i^f - t_j^g)
    kappa(s, tau) = exp(-max(tau - s, 0)/tau_s) * eps(min(s, tau)),
    eps(x) = (exp(-x/tau_m) - exp(-x/tau_s)) / (1 - tau_s/tau_m),
    s_f = t_i^f - (t_i^{f-1} + t_ref)   (time since i's last refractory period ended;
                                          before i's first spike the "last reset" is t = 0),

is linear in j's train: ``e_{i|j} = sum_t P[t, i] s_j[t]``, where the kernel P depends on i's own
output train only. ``psp_matrix`` computes P for every neuron at once. W is the window
(4 tau_m in every published config).

Presynaptic delay d (``PSPKernel.delay``). The formula above is the paper's (d = 0). The official
kernels count an input spike d = t_ref steps late (``pre_time = t_pre + T_REFRAC``, layers/Spiking.cu
``d_Spiking_accumulate_effect``): tau = t_i^f - t_j^g - d, for the spikes with
t_i^f - W <= t_j^g <= t_i^f - d. That is the paper's kernel with window W - d read d steps later,
P_d[t] = P_0^{W-d}[t + d] (0 for the last d steps), which is how it is computed.

How P is computed. For a time t, the spikes f of i after t split in two regimes: while
t >= r_f = t_i^{f-1} + t_ref a presynaptic spike at t meets no reset before t_i^f and
contributes eps(t_i^f - t) (only the *next* spike of i can be in this regime); before r_f it
meets the reset at r_f and contributes eps(s_f) exp(-(r_f - t)/tau_s). A forward pass records
the steps since each neuron's last spike (which gives r of the next spike); a reverse scan
carries exp(-gap/tau_m), exp(-gap/tau_s) of the gap to the next spike and the sum Q of the second
regime,

    Q[t] = exp(-1/tau_s) (Q[t+1] + entering[t] - leaving[t]),

where a spike enters when t drops below its r and leaves when it falls out of the window.
Both loops work on one step [B, ...] at a time with float arithmetic only: on CPUs, passes over
whole [T, B, ...] tensors and ops that produce or consume bool masks cost many times more
than a multiply on a cache-resident slice.
"""

from __future__ import annotations

import math

import torch

from snntrain.methods.hm2bp.psp_kernel import NEVER, PSPKernel


def steps_since_spike(spikes: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """K[t] [T, ...]: steps since the last spike at or before t (0 at a spike, large before any)."""
    out = torch.empty(spikes.shape, dtype=dtype, device=spikes.device)
    since = torch.full(spikes.shape[1:], NEVER, dtype=dtype, device=spikes.device)
    fired = torch.empty_like(since)
    for t in range(spikes.shape[0]):
        fired.copy_(spikes[t])
        since.add_(1.0).addcmul_(since, fired, value=-1.0)
        out[t] = since
    return out


def psp_matrix(spikes: torch.Tensor, kernel: PSPKernel, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """P [T, ...] of output trains ``spikes`` [T, ...] (bool), every trailing index one neuron.

    Assumes what every CUBA train satisfies: at least ``t_ref`` silent steps after each spike.
    """
    if spikes.is_cuda and dtype == torch.float32 and spikes.dtype == torch.bool:
        fused = _fused_impl()
        if fused is not None:
            return fused(spikes, kernel)
    steps, t_ref, delay = spikes.shape[0], kernel.t_ref, kernel.delay
    window = kernel.window - delay
    spikes = spikes.view(torch.uint8) if spikes.dtype == torch.bool else spikes  # uint8 -> float is vectorised
    since = steps_since_spike(spikes, dtype)
    step_m, step_s = math.exp(-1.0 / kernel.tau_m), math.exp(-1.0 / kernel.tau_s)
    scale = 1.0 / (1.0 - kernel.tau_s / kernel.tau_m)
    # mem = exp(-gap/tau_m) is above this exactly when the next spike is within the window (the
    # margin, ~1% of mem, is far above rounding), so no integer gap counter is needed.
    edge = math.exp(-(window + 0.5) / kernel.tau_m)
    psp = torch.empty(spikes.shape, dtype=dtype, device=spikes.device)
    psp[max(steps - delay, 0) :] = 0.0
    mem, syn, decaying = (torch.zeros(spikes.shape[1:], dtype=dtype, device=spikes.device) for _ in range(3))
    fired, near, free, now, direct, entering, leaving = (torch.empty_like(mem) for _ in range(7))
    for t in range(steps - 1, delay - 1, -1):
        if t + 1 < steps:
            fired.copy_(spikes[t + 1])
            mem.mul_(step_m).addcmul_(mem, fired, value=-1.0).add_(fired, alpha=step_m)
            syn.mul_(step_s).addcmul_(syn, fired, value=-1.0).add_(fired, alpha=step_s)
        torch.sub(mem, edge, out=near).mul_(1.0e9).clamp_(0, 1)
        torch.sub(since[t], t_ref - 1, out=free).clamp_(0, 1)  # r <= t: no reset before the next spike
        torch.sub(since[t], t_ref - 2, out=now).clamp_(0, 1).sub_(free)  # r == t + 1: it enters Q now
        torch.sub(mem, syn, out=direct).mul_(near).mul_(free)
        torch.mul(mem, 1.0 / step_m, out=entering).add_(syn, alpha=-1.0 / step_s).mul_(near).mul_(now)  # eps(gap - 1)
        decaying.add_(entering, alpha=scale)
        if t + window + 1 < steps:
            _leaving(spikes[t + window + 1], since[t + window], kernel, window, out=leaving)
            decaying.sub_(leaving)
        decaying.mul_(step_s)
        torch.add(decaying, direct, alpha=scale, out=psp[t - delay])
    return psp


def _fused_impl():
    """The Triton kernel's entry point when Triton imports, else None."""
    try:
        from snntrain.methods.hm2bp.psp_triton import psp_matrix_triton
    except ImportError:
        return None
    return psp_matrix_triton


def _leaving(spike: torch.Tensor, since_before: torch.Tensor, kernel: PSPKernel, window: int, out: torch.Tensor) -> torch.Tensor:
    """The term a spike at u = t + W + 1 takes out of Q at t, given K[u - 1] = ``since_before``.

    That spike's r is (u - 1) - K[u - 1] + t_ref; it is in Q while r > t + 1, i.e. when
    K[u - 1] < W + t_ref - 1, and its term there is eps(K[u - 1] + 1 - t_ref) exp(-(r - t - 1)/tau_s).
    """
    lag = (window + kernel.t_ref - 1 - since_before).clamp_(min=0)  # r - t - 1 where it counts
    in_q = lag.clamp(0, 1)
    value = kernel.epsilon(since_before + 1 - kernel.t_ref) * torch.exp(-lag / kernel.tau_s)
    return torch.mul(value, in_q, out=out).mul_(spike)
