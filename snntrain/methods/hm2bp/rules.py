"""HM2-BP's weight gradient and error propagation for one layer (METHODS.md §5, matrix form).

A layer maps presynaptic trains ``x`` [T, B, in...] to the drive ``c = W x`` of its neurons; it
declares that linear map (fully connected, convolution, or the fixed weights of a spiking average
pool) and its two transposes as a ``SynapticLayer``. With P the S-PSP kernel of the layer's output trains
(``psp.psp_matrix``), ``e_{i|j} = sum_t P[t, i] x_j[t]`` and, per sample,

    delta_i   = (dE/do_i) / nu                        (a spiking pool: dE/do_i, see divides_error_by_threshold)
    side_i    = (1/nu) sum_j W_ij e_ij / o_i          = (1/nu) sum_t P[t, i] c[t, i] / o_i
    dW_ij     = sum_batch delta_i (1 + side_i) lat_i e_ij
    dE/do_j   = sum_i delta_i W_ij e_ij / o_j         (the count ratio R_ij = e_ij / o_j)

``dW`` is the layer's ordinary weight gradient over the merged T*B batch with
``delta (1 + side) lat * P`` as the output gradient, so no per-sample [N_out, N_in] matrix
is formed; the propagated error is the transposed map of ``delta * P``, masked by the input
trains and divided by the input counts. The official code's fallbacks (``Fallbacks``) cover
silent neurons, where e/o is undefined.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from snntrain.core.capabilities import SynapticLayer
from snntrain.methods.hm2bp.psp import PSPKernel, psp_matrix


@dataclass(frozen=True)
class Fallbacks:
    """Constants the official code uses where a neuron is silent.

    ``silent_effect``: e_{i|j} of a silent neuron i with a firing input j (0 would stop all
    learning in i). ``silent_side_ratio``: e_{i|j}/o_i in ``side`` when o_i = 0.
    ``silent_count_ratio``: R_ij = e_{i|j}/o_j when i or j is silent.
    """

    silent_effect: float = 0.1
    silent_side_ratio: float = 0.5
    silent_count_ratio: float = 1.0


def time_major_drive(layer: SynapticLayer, x: torch.Tensor) -> torch.Tensor:
    """The drive of [T, B, in...] over the merged T*B batch, back to [T, B, out...]."""
    return layer.drive(x.flatten(0, 1)).unflatten(0, x.shape[:2])


def fan_in_sum(layer: SynapticLayer, in_shape: tuple[int, ...], like: torch.Tensor) -> torch.Tensor:
    """sum_j W_ij over each output neuron's inputs, [out...]."""
    return layer.drive(like.new_ones((1, *in_shape)))[0]


def divides_error_by_threshold(layer: SynapticLayer) -> bool:
    """delta = (dE/do) / nu, the macro-level step from counts to total PSPs, for a layer with learned
    weights. A spiking pool (fixed weights) passes its error down undivided by its threshold, as in the
    official code (layers/PoolingSpiking.cu, ``g_PoolingSpiking_backpropagation``:
    ``pool / (pSize * pSize) * ratio``); the conv layer below then divides by its own threshold."""
    return layer.synaptic_weight is not None


def side_effect(
    layer: SynapticLayer, drive: torch.Tensor, psp: torch.Tensor, counts: torch.Tensor, threshold: float, fallbacks: Fallbacks, in_shape: tuple[int, ...]
) -> torch.Tensor:
    """side_i [B, out...] from the feed-forward drive and P [T, B, out...] and the counts [B, out...]."""
    active = (psp * drive).sum(0) / counts.clamp(min=1)
    silent = fallbacks.silent_side_ratio * fan_in_sum(layer, in_shape, drive)
    return torch.where(counts > 0, active, silent) / threshold


def layer_gradients(
    layer: SynapticLayer,
    x: torch.Tensor,
    spikes: torch.Tensor,
    grad_count: torch.Tensor,
    threshold: float,
    kernel: PSPKernel,
    fallbacks: Fallbacks,
    gain: torch.Tensor | None,
    need_input: bool,
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """dW (None without weights) and dE/do of the inputs [B, in...] (None unless ``need_input``).

    ``x`` [T, B, in...] are the presynaptic trains (or analog input), ``spikes`` [T, B, out...]
    the output trains (bool), ``grad_count`` dE/do of the outputs [B, out...], ``threshold`` their
    nu, ``gain``
    [B, out...] the micro-level factor (1 + side) lat of each output neuron (None without weights).
    """
    steps, batch = spikes.shape[:2]
    dtype = torch.promote_types(grad_count.dtype, torch.float32)
    grad_count = grad_count.to(dtype)
    x = x.view(torch.uint8).to(dtype) if x.dtype == torch.bool else x.to(dtype)  # uint8 -> float is vectorised
    psp = psp_matrix(spikes, kernel, dtype)
    delta = grad_count / threshold if divides_error_by_threshold(layer) else grad_count
    silent = spikes.view(torch.uint8).sum(0, dtype=dtype) == 0
    x_counts = x.sum(0)
    x_fired = x_counts > 0
    in_shape = tuple(x.shape[2:])

    weight_grad = None
    if layer.synaptic_weight is not None:
        scale = delta * gain
        weight_grad = layer.weight_gradient(x.flatten(0, 1), (scale * psp).flatten(0, 1))
        if fallbacks.silent_effect:
            silent_scale = torch.where(silent, scale, torch.zeros((), dtype=dtype, device=scale.device))
            weight_grad = weight_grad + fallbacks.silent_effect * layer.weight_gradient(x_fired.to(dtype), silent_scale)

    input_grad = None
    if need_input:
        through = layer.input_gradient((delta * psp).flatten(0, 1), (steps * batch, *in_shape)).unflatten(0, (steps, batch))
        paired = (x * through).sum(0) / x_counts.clamp(min=1)
        ratio = fallbacks.silent_count_ratio
        from_silent = layer.input_gradient(torch.where(silent, delta, torch.zeros((), dtype=dtype, device=delta.device)), (batch, *in_shape))
        from_all = layer.input_gradient(delta, (batch, *in_shape))
        input_grad = torch.where(x_fired, paired + ratio * from_silent, ratio * from_all)
    return weight_grad, input_grad
