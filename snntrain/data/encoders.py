"""Encoders: a batch from the loader [B, ...] becomes time-major input [T, B, ...]."""

from __future__ import annotations

import torch


def direct(x: torch.Tensor, T: int, scale: float = 1.0) -> torch.Tensor:
    """The analog input repeated at every step."""
    x = x.float()
    return x.unsqueeze(0).expand(T, *x.shape)


def poisson(x: torch.Tensor, T: int, scale: float = 1.0) -> torch.Tensor:
    """Bernoulli spikes with per-step probability ``scale * x`` (x in [0, 1])."""
    p = (x.float() * scale).clamp(0.0, 1.0)
    return (torch.rand((T, *x.shape), device=x.device, dtype=p.dtype) < p).to(p.dtype)


def events(x: torch.Tensor, T: int, scale: float = 1.0) -> torch.Tensor:
    """Pre-framed event data [B, T, ...] (any dtype) to float [T, B, ...]."""
    if x.shape[1] != T:
        raise ValueError(f"event frames have {x.shape[1]} time bins but T={T}")
    # One pass that converts and lays out time-major contiguously (a plain .float() of the
    # transposed view keeps the batch-major strides and costs a second copy later).
    return torch.empty((T, x.shape[0], *x.shape[2:]), device=x.device).copy_(x.transpose(0, 1))


ENCODERS = {"direct": direct, "poisson": poisson, "events": events}
