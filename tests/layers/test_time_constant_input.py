"""Per-sample time-major layers compute a time-constant (expanded) input once."""

from __future__ import annotations

import pytest
import torch

from snntrain.layers import TimeAvgPool2d, TimeConv2d, TimeMaxPool2d


@pytest.mark.parametrize("make", [lambda: TimeConv2d(2, 3, 3, padding=1), lambda: TimeAvgPool2d(2), lambda: TimeMaxPool2d(2)])
def test_expanded_input_gives_the_materialised_result(make):
    layer = make().double()  # float64: the two ways sum the T gradients in different orders
    image = torch.randn(4, 2, 6, 6, dtype=torch.float64, requires_grad=True)
    expanded = image.unsqueeze(0).expand(5, -1, -1, -1, -1)
    out = layer(expanded)
    ref = layer(expanded.contiguous())
    assert out.shape == ref.shape == (5, 4, *ref.shape[2:]) and out.stride(0) == 0
    torch.testing.assert_close(out, ref)
    weights = torch.randn(ref.shape, dtype=torch.float64)
    grads = [torch.autograd.grad((y * weights).sum(), [image, *layer.parameters()]) for y in (out, ref)]
    for got, want in zip(*grads):
        torch.testing.assert_close(got, want)
