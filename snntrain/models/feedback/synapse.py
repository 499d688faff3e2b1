"""The connections of a feedback network, built as the official IDE modules build them.

A ``Synapse`` is one connection (``SNNFC``, ``SNNConv`` or ``SNNConvTranspose`` in the official
code): its linear map, then BatchNorm and variational dropout when configured. The feedback
connection's weight can be re-parametrised by ``SpectralGain`` for the whole of training, the
official ``weight_spectral_norm``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize

from snntrain.models.feedback.spec import Connection

NORM_EPS = 1e-12  # the official normalize() eps of the power iteration
SPIKE_STATS_EPS = 1e-8  # the official variance eps of the spike-input BatchNorm statistics


def weight_matrix(weight: torch.Tensor) -> torch.Tensor:
    """The weight as the matrix whose spectral norm is constrained: [size of dim 0, everything else]."""
    return weight.reshape(weight.shape[0], -1)


class SpectralGain(nn.Module):
    """Parametrisation W = clamp(g, −1, 1) · w / σ(w) (official ``weight_spectral_norm``): ‖W‖ ≤ 1 through
    training, once the power iteration's σ has caught up with σ(w) (a few batches after initialisation).

    σ(w) = uᵀ w v for the weight as a [dim 0, rest] matrix (for a transposed convolution dim 0 is
    its input channels, as in the official code). u and v are buffers moved by one power iteration
    per ``power_iteration()`` call and constants for the gradient; g is a learnable scalar that
    starts at σ(w) estimated by 10 power iterations: training starts from w, scaled to norm 1 if larger.
    """

    def __init__(self, weight: torch.Tensor) -> None:
        super().__init__()
        matrix = weight_matrix(weight.detach())
        rows, cols = matrix.shape
        self.register_buffer("u", F.normalize(torch.randn(rows, dtype=weight.dtype), dim=0, eps=NORM_EPS))
        self.register_buffer("v", F.normalize(torch.randn(cols, dtype=weight.dtype), dim=0, eps=NORM_EPS))
        self.gain = nn.Parameter(power_sigma(matrix, iterations=10))

    @torch.no_grad()
    def power_iteration(self, weight: torch.Tensor) -> None:
        """One step of the power iteration on ``weight`` (the unconstrained w), updating u and v."""
        matrix = weight_matrix(weight)
        self.v.copy_(F.normalize(matrix.t() @ self.u, dim=0, eps=NORM_EPS))
        self.u.copy_(F.normalize(matrix @ self.v, dim=0, eps=NORM_EPS))

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        sigma = torch.dot(self.u.clone(), weight_matrix(weight) @ self.v.clone())
        return torch.clamp(self.gain, -1.0, 1.0) * (weight / sigma)


@torch.no_grad()
def power_sigma(matrix: torch.Tensor, iterations: int) -> torch.Tensor:
    """The largest singular value of ``matrix`` estimated by ``iterations`` power steps from random vectors."""
    u = F.normalize(torch.randn(matrix.shape[0], dtype=matrix.dtype), dim=0, eps=NORM_EPS)
    v = F.normalize(torch.randn(matrix.shape[1], dtype=matrix.dtype), dim=0, eps=NORM_EPS)
    for _ in range(iterations):
        v = F.normalize(matrix.t() @ u, dim=0, eps=NORM_EPS)
        u = F.normalize(matrix @ v, dim=0, eps=NORM_EPS)
    return torch.dot(u, matrix @ v)


class VariationalDropout(nn.Module):
    """Dropout with one mask per sample and neuron for a whole batch (official ``VariationalHidDropout2d``,
    ``spatial=False``): drawn at the first call after ``reset()``, then the same at every time step
    and in the equilibrium pass. Off in evaluation."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p
        self.mask: torch.Tensor | None = None

    def reset(self) -> None:
        self.mask = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        if self.mask is None:
            self.mask = torch.empty_like(x).bernoulli_(1 - self.p) / (1 - self.p)
        return self.mask * x

    def extra_repr(self) -> str:
        return f"p={self.p}"


def init_unit_rows(op: nn.Module) -> None:
    """The official init: weights U(−1, 1), each output neuron's (channel's) weights scaled to unit L2 norm; zero bias."""
    with torch.no_grad():
        op.weight.uniform_(-1.0, 1.0)
        rows = op.weight.transpose(0, 1) if isinstance(op, nn.ConvTranspose2d) else op.weight
        rows.div_(rows.flatten(1).norm(dim=1).view(-1, *[1] * (rows.dim() - 1)))
        if op.bias is not None:
            op.bias.zero_()


class Synapse(nn.Module):
    """One connection: the linear map, then BatchNorm (``batch_norm``), then variational dropout.

    ``forward(x, stats)`` normalises with given (mean, std) instead of BatchNorm's own statistics, as
    the official code does for time-varying input during training; ``linear(x)`` is the map alone.
    """

    def __init__(self, connection: Connection, in_shape: tuple[int, ...], bias: bool, batch_norm: bool, dropout: float, spectral: bool) -> None:
        super().__init__()
        self.op = connection.module(in_shape, bias)
        init_unit_rows(self.op)
        norm = nn.BatchNorm1d if connection.kind == "linear" else nn.BatchNorm2d
        self.norm = norm(connection.width) if batch_norm else None
        self.dropout = VariationalDropout(dropout)
        if spectral:
            parametrize.register_parametrization(self.op, "weight", SpectralGain(self.op.weight))

    @property
    def spectral(self) -> SpectralGain | None:
        return self.op.parametrizations.weight[0] if parametrize.is_parametrized(self.op, "weight") else None

    @property
    def free_weight(self) -> torch.Tensor:
        """The trained weight before any re-parametrisation (w of W = clamp(g, −1, 1)·w/σ(w))."""
        return self.op.parametrizations.weight.original if self.spectral is not None else self.op.weight

    def prepare(self) -> None:
        """Once per batch (the official ``_reset``): a new dropout mask, one power iteration."""
        self.dropout.reset()
        if self.spectral is not None:
            self.spectral.power_iteration(self.free_weight)

    def linear(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)

    def forward(self, x: torch.Tensor, stats: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        z = self.op(x)
        if self.norm is not None:
            z = self.norm(z) if stats is None else normalised(z, stats, self.norm)
        return self.dropout(z)


def normalised(z: torch.Tensor, stats: tuple[torch.Tensor, torch.Tensor], norm: nn.Module) -> torch.Tensor:
    """(z − mean) / std · γ + β with given statistics (the official ``BN_mean_var`` branch)."""
    mean, std = stats
    shape = (1, -1, *[1] * (z.dim() - 2))
    return (z - mean) / std * norm.weight.reshape(shape) + norm.bias.reshape(shape)


def batch_stats(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and sqrt(unbiased variance + 1e-8) of ``z`` [B, C, ...] (the official spike-input statistics)."""
    dims = [d for d in range(z.dim()) if d != 1]
    mean = z.mean(dims, keepdim=True)
    var = z.var(dims, keepdim=True)
    return mean, torch.sqrt(var + SPIKE_STATS_EPS)
