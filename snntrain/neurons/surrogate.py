"""Heaviside spike functions whose backward pass uses a surrogate derivative.

Every surrogate integrates to 1 over the real line, so ``alpha`` only changes its width.
"""

from __future__ import annotations

import math

import torch


def sigmoid_grad(x: torch.Tensor, alpha: float) -> torch.Tensor:
    """alpha * sigma(alpha x) * (1 - sigma(alpha x))."""
    sig = torch.sigmoid(alpha * x)
    return alpha * sig * (1.0 - sig)


def atan_grad(x: torch.Tensor, alpha: float) -> torch.Tensor:
    """(alpha / 2) / (1 + (pi/2 * alpha * x)^2), the derivative of atan(pi/2 alpha x)/pi + 1/2."""
    return (alpha / 2.0) / (1.0 + (math.pi / 2.0 * alpha * x) ** 2)


def triangle_grad(x: torch.Tensor, alpha: float) -> torch.Tensor:
    """alpha * max(0, 1 - alpha |x|): a triangle of half-width 1/alpha."""
    return alpha * torch.clamp(1.0 - alpha * x.abs(), min=0.0)


SURROGATES = {"sigmoid": sigmoid_grad, "atan": atan_grad, "triangle": triangle_grad}


class _SpikeFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, surrogate: str, alpha: float) -> torch.Tensor:
        ctx.save_for_backward(x)
        ctx.surrogate, ctx.alpha = surrogate, alpha
        return (x >= 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        (x,) = ctx.saved_tensors
        return grad_out * SURROGATES[ctx.surrogate](x, ctx.alpha), None, None


def spike(x: torch.Tensor, surrogate: str = "sigmoid", alpha: float = 4.0) -> torch.Tensor:
    """H(x) forward (1 where x >= 0), surrogate derivative backward."""
    if surrogate not in SURROGATES:
        raise ValueError(f"unknown surrogate {surrogate!r}; choose one of {sorted(SURROGATES)}")
    return _SpikeFunction.apply(x, surrogate, alpha)
