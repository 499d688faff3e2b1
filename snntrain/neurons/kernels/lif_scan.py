"""The LIF forward and backward passes as explicit time scans, in plain torch.

These are the equations every fused engine implements (the Triton kernels line by line, the
``compile`` backend by compiling these very functions). They give the same values and
gradients as ``dynamics.lif.lif_multistep`` without building a T-step autograd graph, so even run
eagerly in one autograd Function (backend ``scan``, which ``auto`` uses for small CPU
tensors) they are several times faster than the reference.

forward, per step:   u = decay v + x[t];  h = u - threshold;  s = [h >= 0];
                     v = u - threshold s  (soft)   or   u (1 - s)  (hard)
backward, reverse:   dv is dL/dv[t] (from step t+1, or the caller for the last step)
                     g   = grad_s[t] + dv dv/ds      (dv/ds = -threshold soft, -u hard; 0 if detach_reset)
                     du  = dv dv/du + g sg(h)        (dv/du = 1 soft, 1 - s hard)
                     grad_x[t] = du;   dv = decay du;   grad_v0 = dv after step 0
"""

from __future__ import annotations

import torch

from snntrain.neurons.dynamics.lif import state_dtype
from snntrain.neurons.kernels.fused import Engine, fused_lif
from snntrain.neurons.surrogate import SURROGATES


def forward_scan(
    x: torch.Tensor, v0: torch.Tensor | None, decay: float, threshold: float, soft_reset: bool, save_u: bool
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """Run T steps; return spikes (dtype of x), u per step (state dtype, if ``save_u``) and the last v."""
    dtype = state_dtype(x)
    v = torch.zeros_like(x[0], dtype=dtype) if v0 is None else v0.to(dtype)
    spikes, us = [], []
    for t in range(x.shape[0]):
        u = decay * v + x[t]
        s = (u - threshold >= 0).to(dtype)
        v = u - threshold * s if soft_reset else u * (1.0 - s)
        spikes.append(s)
        if save_u:
            us.append(u)
    return torch.stack(spikes).to(x.dtype), torch.stack(us) if save_u else None, v


def backward_scan(
    grad_s: torch.Tensor | None,
    grad_v: torch.Tensor | None,
    u: torch.Tensor,
    decay: float,
    threshold: float,
    soft_reset: bool,
    detach_reset: bool,
    surrogate: str,
    alpha: float,
    grad_dtype: torch.dtype,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Reverse-time scan: gradients for the drive (in ``grad_dtype``) and the initial membrane."""
    sg_fn = SURROGATES[surrogate]
    dv = torch.zeros_like(u[0]) if grad_v is None else grad_v.to(u.dtype)
    grads = []
    for t in range(u.shape[0] - 1, -1, -1):
        h = u[t] - threshold
        g = torch.zeros_like(h) if grad_s is None else grad_s[t].to(u.dtype)
        if not detach_reset:
            g = g - dv * (threshold if soft_reset else u[t])
        du = (dv if soft_reset else dv * (h < 0).to(u.dtype)) + g * sg_fn(h, alpha)
        grads.append(du)
        dv = decay * du
    return torch.stack(grads[::-1]).to(grad_dtype), dv


ENGINE = Engine("scan", forward_scan, backward_scan)


def lif_scan(x, v0, decay, threshold, soft_reset, detach_reset, surrogate, alpha):
    """``lif_multistep`` by the eager scans."""
    return fused_lif(ENGINE, x, v0, decay, threshold, soft_reset, detach_reset, surrogate, alpha)
