"""The conv weight gradient computed from a Tucker-compressed input (the paper's projected route).

For ``A = S ×_1 U_1 ×_2 U_2 ×_3 U_3 ×_4 U_4`` (modes N, C, H, W) and the output gradient ``G``:
project ``G`` on the batch factor (``U_1ᵀ G``), expand the core spatially (``S ×_3 U_3 ×_4 U_4``),
take the ordinary conv weight gradient between the two (batch K_1, input channels K_2), then map
the K_2 channels back with ``U_2`` (a 1×1 step). It never forms the [N, C, H, W] input.
"""

from __future__ import annotations

import torch

from snntrain.compress.hosvd import Tucker


def conv2d_weight_grad_from_factors(
    tucker: Tucker,
    grad_output: torch.Tensor,
    kernel_size: tuple[int, int],
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
) -> torch.Tensor:
    """dL/dW [O, C, kh, kw] of ``conv2d(A, W)`` (groups=1) with ``A`` given by ``tucker``;
    equal, up to rounding, to ``conv2d_weight(tucker.restore(), ...)``."""
    core, (u_batch, u_channel, u_height, u_width) = tucker.core, tucker.factors
    projected = torch.tensordot(u_batch.T, grad_output, dims=1)  # [K1, O, H', W']
    spatial = torch.einsum("abij,hi,wj->abhw", core, u_height, u_width)  # [K1, K2, H, W]
    weight_shape = (grad_output.shape[1], core.shape[1], *kernel_size)
    small = torch.nn.grad.conv2d_weight(spatial, weight_shape, projected, stride, padding, dilation)
    return torch.einsum("okxy,ck->ocxy", small, u_channel)
