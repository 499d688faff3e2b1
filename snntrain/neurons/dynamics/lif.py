"""LIF dynamics: the torch reference ``lif_multistep`` and the membrane dtype every backend keeps.

Per step (METHODS.md §1, decay_input=False form, lambda = 1 - 1/tau):

    u[t] = lambda v[t-1] + c[t]
    s[t] = H(u[t] - theta)
    v[t] = u[t] - theta s[t]   (soft reset)   or   u[t] (1 - s[t])   (hard reset to 0)
"""

from __future__ import annotations

import torch

from snntrain.neurons.surrogate import spike


def state_dtype(x: torch.Tensor) -> torch.dtype:
    """The membrane's dtype for drive ``x``: float32, or float64 for float64 drive."""
    return torch.promote_types(x.dtype, torch.float32)


def lif_multistep(
    x: torch.Tensor,
    v0: torch.Tensor | None,
    decay: float,
    threshold: float,
    soft_reset: bool,
    detach_reset: bool,
    surrogate: str,
    alpha: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Reference implementation: run T LIF steps on drive ``x`` [T, ...] from membrane ``v0``.

    Returns the spikes [T, ...] (dtype of x) and the membrane after the last step. The membrane
    is float32 even when x is half precision (AMP), so the state does not drift in bf16. This is
    the readable definition every fused backend is tested against.
    """
    state = state_dtype(x)
    v = torch.zeros_like(x[0], dtype=state) if v0 is None else v0.to(state)
    spikes = []
    for t in range(x.shape[0]):
        u = decay * v + x[t]
        s = spike(u - threshold, surrogate, alpha)
        r = s.detach() if detach_reset else s
        v = u - threshold * r if soft_reset else u * (1.0 - r)
        spikes.append(s)
    return torch.stack(spikes).to(x.dtype), v
