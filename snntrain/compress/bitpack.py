"""``compression=bitpack``: binary (spike) tensors stored losslessly at one bit per element.

A tensor whose elements are all exactly 0 or 1 (+0.0: a -0.0 would not come back bit for bit)
is packed eight elements to a byte; every other tensor passes through unchanged. Unpacking
restores the dtype, shape, strides and device, so gradients are bit-for-bit those of
``compression=none``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from snntrain.compress.base import Codec, StoredForm
from snntrain.compress.config import BitpackConfig


def is_binary(t: torch.Tensor) -> bool:
    """True when ``t`` is non-empty and every element is exactly 0 (not -0.0) or 1."""
    if t.dtype == torch.bool:
        return t.numel() > 0
    if t.is_complex() or t.numel() == 0:
        return False
    zeros = t == 0
    if t.is_floating_point():
        zeros &= ~torch.signbit(t)
    return bool((zeros | (t == 1)).all())


def _shifts(device: torch.device) -> torch.Tensor:
    return torch.arange(7, -1, -1, dtype=torch.uint8, device=device)


def pack_bits(flat: torch.Tensor) -> torch.Tensor:
    """The elements of 1-D ``flat`` that equal 1, as bits: uint8 [ceil(n / 8)], first element in the high bit."""
    bits = F.pad((flat == 1).to(torch.uint8), (0, -flat.numel() % 8))
    return (bits.view(-1, 8) << _shifts(flat.device)).sum(1, dtype=torch.uint8)


def unpack_bits(packed: torch.Tensor, numel: int) -> torch.Tensor:
    """Inverse of ``pack_bits``: uint8 0/1 [numel]."""
    return ((packed.unsqueeze(1) >> _shifts(packed.device)) & 1).view(-1)[:numel]


@dataclass(eq=False)
class BitPacked(StoredForm):
    """A binary tensor as bits in memory order, with what is needed to restore its layout."""

    bits: torch.Tensor
    dense_shape: torch.Size
    order: tuple[int, ...]
    dtype: torch.dtype

    @classmethod
    def of(cls, t: torch.Tensor) -> BitPacked:
        """Pack binary ``t``; a dense (permuted-contiguous) layout is kept, any other becomes contiguous."""
        order = tuple(sorted(range(t.dim()), key=lambda d: -t.stride(d)))
        dense = t.permute(order)
        if not dense.is_contiguous():
            order, dense = tuple(range(t.dim())), t.contiguous()
        return cls(pack_bits(dense.reshape(-1)), dense.shape, order, t.dtype)

    @property
    def nbytes(self) -> int:
        return self.bits.numel()

    def restore(self) -> torch.Tensor:
        dense = unpack_bits(self.bits, self.dense_shape.numel()).to(self.dtype).view(self.dense_shape)
        inverse = sorted(range(len(self.order)), key=self.order.__getitem__)
        return dense.permute(inverse)


class BitpackCodec(Codec):
    """Binary tensors at one bit per element; others unchanged."""

    name = "bitpack"

    def pack(self, t: torch.Tensor, layer: str | None = None) -> torch.Tensor | StoredForm:
        return BitPacked.of(t) if is_binary(t) else t


def build_bitpack(cfg: BitpackConfig) -> BitpackCodec:
    return BitpackCodec()
