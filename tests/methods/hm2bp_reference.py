"""HM2-BP written straight from METHODS.md §5 with loops over neurons and spike pairs.

Slow and obvious on purpose: the tests hold the matrix-form implementation to these functions.
Time constants and window follow every published config (tau_m 64, tau_s 8, t_ref 2, W = 4 tau_m).
"""

from __future__ import annotations

import math

import torch

TAU_M, TAU_S, T_REF, WINDOW = 64.0, 8.0, 2, 256


def eps(x: float) -> float:
    return (math.exp(-x / TAU_M) - math.exp(-x / TAU_S)) / (1.0 - TAU_S / TAU_M)


def kappa(s: float, tau: float) -> float:
    return math.exp(-max(tau - s, 0.0) / TAU_S) * eps(min(s, tau))


def spike_times(train: torch.Tensor) -> list[int]:
    return [int(t) for t in torch.nonzero(train).flatten()]


def effect(post: torch.Tensor, pre: torch.Tensor, delay: int = 0) -> float:
    """e_{i|j}: the double sum over spike pairs of post train i [T] and pre train j [T] (bool).

    ``delay``: the official kernels count a presynaptic spike ``delay`` (= T_REF) steps late, and
    skip it when that is after the postsynaptic spike (METHODS.md §5, "Presynaptic delay").
    """
    total, last_reset_end = 0.0, 0
    for t_post in spike_times(post):
        s = t_post - last_reset_end
        for t_pre in spike_times(pre):
            if t_post - WINDOW <= t_pre < t_post and t_pre + delay <= t_post:
                total += kappa(s, t_post - t_pre - delay)
        last_reset_end = t_post + T_REF
    return total


def refractory_train(shape: tuple[int, ...], rate: float, generator: torch.Generator) -> torch.Tensor:
    """Random bool trains [T, ...] with at least T_REF silent steps after every spike."""
    raw = torch.rand(shape, generator=generator) < rate
    out = torch.zeros(shape, dtype=torch.bool)
    quiet_until = torch.full(shape[1:], -1)
    for t in range(shape[0]):
        fire = raw[t] & (quiet_until < t)
        out[t] = fire
        quiet_until = torch.where(fire, t + T_REF, quiet_until)
    return out


SILENT_EFFECT, SILENT_SIDE_RATIO, SILENT_COUNT_RATIO = 0.1, 0.5, 1.0


def effect_or_fallback(post: torch.Tensor, pre: torch.Tensor, delay: int = 0) -> float:
    """e_{i|j}, or the official constant when i is silent and j fired."""
    if post.any():
        return effect(post, pre, delay)
    return SILENT_EFFECT if pre.any() else 0.0


def connected_layer(post: torch.Tensor, pre: torch.Tensor, synapses, grad_count, threshold: float, lateral=None, delay: int = 0):
    """One layer of one sample from METHODS.md §5, looping over neurons and their synapses.

    ``post`` [T, N_out] and ``pre`` [T, N_in] are bool trains; ``synapses`` lists
    (i, j, weight, weight_index) for every connection (weight_index None for fixed weights);
    ``grad_count`` [N_out] is dE/do of the outputs. Returns {weight_index: dW}, dE/do_in [N_in]
    and side [N_out]. ``delay``: the presynaptic delay of the S-PSP (see ``effect``).
    """
    n_out, n_in = post.shape[1], pre.shape[1]
    o_out, o_in = post.sum(0).tolist(), pre.sum(0).tolist()
    e = {(i, j): effect_or_fallback(post[:, i], pre[:, j], delay) for i, j, _, _ in synapses}
    delta = [float(grad_count[i]) / threshold for i in range(n_out)]
    side = []
    for i in range(n_out):
        mine = [(j, w) for ii, j, w, _ in synapses if ii == i]
        if o_out[i] > 0:
            side.append(sum(w * e[i, j] / o_out[i] for j, w in mine) / threshold)
        else:
            side.append(sum(w * SILENT_SIDE_RATIO for _, w in mine) / threshold)
    weight_grad: dict = {}
    grad_in = [0.0] * n_in
    for i, j, w, index in synapses:
        lat = 1.0 if lateral is None else float(lateral[i])
        if index is not None:
            weight_grad[index] = weight_grad.get(index, 0.0) + delta[i] * (1 + side[i]) * lat * e[i, j]
        ratio = e[i, j] / o_in[j] if o_out[i] > 0 and o_in[j] > 0 else SILENT_COUNT_RATIO
        grad_in[j] += delta[i] * w * ratio
    return weight_grad, grad_in, side


def dense_synapses(weight: torch.Tensor):
    return [(i, j, float(weight[i, j]), (i, j)) for i in range(weight.shape[0]) for j in range(weight.shape[1])]


def conv_synapses(weight: torch.Tensor, in_hw: tuple[int, int], padding: int):
    """Connections of a stride-1 conv, neurons flattened as (channel, y, x)."""
    c_out, c_in, k, _ = weight.shape
    h, w = in_hw
    oh, ow = h + 2 * padding - k + 1, w + 2 * padding - k + 1
    out = []
    for co in range(c_out):
        for y in range(oh):
            for x in range(ow):
                for ci in range(c_in):
                    for ky in range(k):
                        for kx in range(k):
                            iy, ix = y + ky - padding, x + kx - padding
                            if 0 <= iy < h and 0 <= ix < w:
                                i = (co * oh + y) * ow + x
                                j = (ci * h + iy) * w + ix
                                out.append((i, j, float(weight[co, ci, ky, kx]), (co, ci, ky, kx)))
    return out


def pool_synapses(channels: int, in_hw: tuple[int, int], p: int):
    """A p x p average pool as fixed weights 1/p^2."""
    h, w = in_hw
    oh, ow = h // p, w // p
    return [
        (((c * oh + y) * ow + x), ((c * h + p * y + a) * w + p * x + b), 1.0 / p**2, None)
        for c in range(channels) for y in range(oh) for x in range(ow) for a in range(p) for b in range(p)
    ]


def lateral_factor(post: torch.Tensor, label: int, strength: float, threshold: float) -> list[float]:
    """The official output lateral-inhibition factor of one sample, from its definition."""
    n = post.shape[1]
    counts = post.sum(0).tolist()
    d = [1.0 / threshold if counts[k] > 0 or k == label else 0.0 for k in range(n)]

    def ratio(j: int, k: int) -> float:  # R_jk = e_{k|j} / o_j
        if counts[j] == 0 or counts[k] == 0:
            return SILENT_COUNT_RATIO
        return effect(post[:, k], post[:, j]) / counts[j]

    out = []
    for j in range(n):
        total = sum(ratio(j, k) * d[k] * ratio(k, j) * d[j] for k in range(n) if k != j)
        out.append(1.0 / (1.0 - strength**2 * total))
    return out
