"""Bitpack: any {0,1} tensor comes back exactly, at one bit per element; others pass through."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from snntrain.compress.bitpack import BitpackCodec, BitPacked, is_binary, pack_bits, unpack_bits

DTYPES = [torch.float32, torch.bfloat16, torch.uint8, torch.bool]


@settings(max_examples=60, deadline=None)
@given(
    shape=st.lists(st.integers(1, 9), min_size=0, max_size=4),
    dtype=st.sampled_from(DTYPES),
    density=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**16),
)
def test_any_binary_tensor_round_trips_exactly(shape, dtype, density, seed):
    g = torch.Generator().manual_seed(seed)
    t = (torch.rand(shape, generator=g) < density).to(dtype)
    stored = BitpackCodec().pack(t)
    assert isinstance(stored, BitPacked)
    assert stored.nbytes == math.ceil(t.numel() / 8)
    back = BitpackCodec().unpack(stored)
    assert back.dtype == t.dtype and back.shape == t.shape and back.device == t.device
    assert torch.equal(back, t)


def test_layout_is_restored():
    t = (torch.rand(4, 6, 5, 3) < 0.5).float().contiguous(memory_format=torch.channels_last)
    back = BitPacked.of(t).restore()
    assert torch.equal(back, t) and back.stride() == t.stride()
    expanded = torch.ones(5, 1).expand(5, 7)
    assert torch.equal(BitPacked.of(expanded).restore(), expanded)


def test_bits_are_packed_high_bit_first():
    flat = torch.tensor([1, 0, 1, 1, 0, 0, 0, 1, 1], dtype=torch.float32)
    packed = pack_bits(flat)
    assert packed.tolist() == [0b10110001, 0b10000000]
    assert unpack_bits(packed, 9).tolist() == flat.int().tolist()


@pytest.mark.parametrize(
    "t",
    [torch.tensor([0.0, 0.5, 1.0]), torch.tensor([-0.0, 1.0]), torch.tensor([0, 2], dtype=torch.uint8), torch.tensor([float("nan"), 1.0]), torch.empty(0)],
    ids=["fraction", "negative-zero", "two", "nan", "empty"],
)
def test_non_binary_tensors_pass_through(t):
    assert not is_binary(t)
    assert BitpackCodec().pack(t) is t
