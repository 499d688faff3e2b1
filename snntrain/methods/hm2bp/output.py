"""HM2-BP's output layer: the rate-coded loss and the two output-only terms of the official code.

* ``count_loss``: E = 1/2 sum_k (o_k - y_k)^2 on firing counts, y = desired for the label
  neuron and undesired for the others, no error where |o - y| <= margin.
* ``lateral_factor``: the output neurons inhibit each other (fixed weight -w0), so a change of
  o_j feeds back on itself through every other firing neuron l; the weight gradient of j is
  scaled by 1 / (1 - w0^2 sum_{l != j} R_jl d_l R_lj d_j), with R_jl = e_{l|j}/o_j and
  d = 1/nu for a firing neuron or the silent label neuron, 0 otherwise.
* ``force_target_spikes``: a silent label neuron gets evenly spaced spikes, so its S-PSP (and
  so its weight gradient) is not zero.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def count_loss(counts: torch.Tensor, target: torch.Tensor, desired: float, undesired: float, margin: float, sample_weight: torch.Tensor) -> torch.Tensor:
    """Sum over the batch of the per-sample weighted E from counts [B, C] (differentiable in ``counts``)."""
    wanted = torch.full_like(counts, undesired).scatter(1, target[:, None], desired)
    diff = counts - wanted
    diff = torch.where(diff.abs() > margin, diff, torch.zeros((), dtype=diff.dtype, device=diff.device))
    return (0.5 * diff.pow(2).sum(1) * sample_weight).sum()


def force_target_spikes(spikes: torch.Tensor, target: torch.Tensor, desired: float, t_ref: int) -> torch.Tensor:
    """``spikes`` [T, B, C] (bool) with spikes every T // desired steps (at least t_ref + 1) in silent label neurons."""
    steps, _, classes = spikes.shape
    interval = max(steps // max(int(desired), 1), t_ref + 1)
    time = torch.arange(steps, device=spikes.device)
    pattern = (time % interval == 0) & (time > 0)
    label = F.one_hot(target, classes).bool()
    silent_label = label & ~spikes.any(0)
    return spikes | (pattern[:, None, None] & silent_label[None])


def lateral_factor(spikes: torch.Tensor, psp: torch.Tensor, target: torch.Tensor, threshold: float, strength: float, silent_ratio: float) -> torch.Tensor:
    """The factor [B, C] for output trains ``spikes`` [T, B, C] (bool, with S-PSP kernel ``psp``)
    under inhibition ``strength``."""
    trains = spikes.to(psp.dtype)
    counts = trains.sum(0)
    effect = torch.einsum("tbl,tbj->blj", psp, trains)  # e_{l|j}: train j seen by neuron l
    fired = counts > 0
    both = fired[:, :, None] & fired[:, None, :]
    ratio = torch.where(both, effect / counts[:, None, :].clamp(min=1), torch.full_like(effect, silent_ratio))  # [b, l, j] = R_jl
    label = F.one_hot(target, spikes.shape[-1]).bool()
    d = (fired | label).to(psp.dtype) / threshold
    loops = ratio * ratio.transpose(1, 2) * (1 - torch.eye(spikes.shape[-1], dtype=psp.dtype, device=spikes.device))
    total = torch.einsum("blj,bl->bj", loops, d) * d
    return 1.0 / (1.0 - strength**2 * total)
