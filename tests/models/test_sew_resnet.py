"""model=sew_resnet34: layer shapes and parameter count, connect functions, gradients of every method."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from snntrain.core.errors import ConfigError
from snntrain.core.registry import build
from snntrain.core.spiking import reset_states
from snntrain.layers import TimeConv2d, TimeMaxPool2d
from snntrain.models.resnet import CONNECT, BasicBlock, SEWResNetConfig
from snntrain.neurons.lif import LIF, LIFConfig


def sew(input_shape=(3, 32, 32), num_classes=10, neuron=None, **cfg) -> nn.Module:
    return build("model", {"name": "sew_resnet34", **cfg}, input_shape, num_classes, neuron or build("neuron", {"name": "lif"}))


def resnet34_parameters_by_hand(num_classes: int) -> int:
    """Weights of torchvision's ResNet-34 layer by layer: convs without bias, BN weight+bias, FC with bias."""
    conv = lambda c_in, c_out, k: c_in * c_out * k * k  # noqa: E731
    bn = lambda c: 2 * c  # noqa: E731
    total = conv(3, 64, 7) + bn(64)  # stem
    c_in = 64
    for width, blocks in zip([64, 128, 256, 512], [3, 4, 6, 3]):
        for _ in range(blocks):
            total += conv(c_in, width, 3) + bn(width) + conv(width, width, 3) + bn(width)
            if c_in != width:  # the 1x1 downsampling shortcut of each later stage's first block
                total += conv(c_in, width, 1) + bn(width)
            c_in = width
    return total + 512 * num_classes + num_classes


def test_parameter_count_is_resnet34s():
    net = sew((3, 224, 224), 1000)
    count = sum(p.numel() for p in net.parameters())
    assert count == resnet34_parameters_by_hand(1000) == 21_797_672  # torchvision's resnet34: 21.8 M


def test_conv_bias_adds_the_official_codes_biases_which_batchnorm_makes_inert():
    """The official rate-BP SEW-ResNet-34 (model/sew_resnet.py) gives every conv a bias: one per output
    channel of the stem (64), of the 32 block convs and of the 3 shortcut convs."""
    net = sew((3, 224, 224), 1000, conv_bias=True)
    conv_channels = 64 + 2 * (3 * 64 + 4 * 128 + 6 * 256 + 3 * 512) + (128 + 256 + 512)
    assert conv_channels == 8_512 and sum(p.numel() for p in net.parameters()) == 21_797_672 + conv_channels == 21_806_184
    small = sew(conv_bias=True, channels=[4, 8], blocks=[1, 1]).double()  # every conv feeds a BatchNorm, which removes a bias
    reset_states(small)
    build("method", {"name": "ratebp"}, 4).step(small, torch.rand(4, 3, 3, 32, 32, dtype=torch.float64), torch.tensor([0, 1, 2]))
    convs = [m for m in small.modules() if isinstance(m, TimeConv2d)]
    assert len(convs) == 1 + 4 + 1 and all(c.bias is not None for c in convs)
    scale = max(c.weight.grad.abs().max() for c in convs)
    assert scale > 0 and all(c.bias.grad.abs().max() <= 1e-12 * scale for c in convs)


def test_layout_stem_stages_shortcuts_and_neurons():
    calls = []

    def neuron(index, n):
        calls.append((index, n))
        return LIF(LIFConfig())

    net = sew((3, 224, 224), 1000, neuron)
    stem_conv, pool = net.body[0], net.body[3]
    assert isinstance(stem_conv, TimeConv2d) and (stem_conv.kernel_size, stem_conv.stride, stem_conv.out_channels) == ((7, 7), (2, 2), 64)
    assert isinstance(pool, TimeMaxPool2d) and (pool.kernel_size, pool.stride, pool.padding) == (3, 2, 1)
    blocks = [m for m in net.body if isinstance(m, BasicBlock)]
    widths = [b.residual[0].out_channels for b in blocks]
    assert widths == [64] * 3 + [128] * 4 + [256] * 6 + [512] * 3
    shortcuts = [i for i, b in enumerate(blocks) if isinstance(b.shortcut, nn.Sequential)]
    assert shortcuts == [3, 7, 13]
    assert all(isinstance(b.shortcut[-1], LIF) and b.shortcut[0].stride == (2, 2) for b in (blocks[i] for i in shortcuts))
    assert all(isinstance(b.residual[-1], LIF) and isinstance(b.neuron, nn.Identity) for b in blocks)
    # the stem's neuron, two per block, one per shortcut: numbered in build order, all told the total
    assert calls == [(i, 36) for i in range(36)]
    assert net(torch.rand(1, 1, 3, 224, 224)).shape == (1, 1, 1000)


def test_convolutions_get_kaiming_fan_out_init():
    conv = sew((3, 224, 224), 1000).body[4].residual[0]  # 64 -> 64, 3x3
    assert conv.weight.std().item() == pytest.approx(math.sqrt(2 / (64 * 9)), rel=0.05)


def test_connect_functions_on_spikes():
    a = torch.tensor([0.0, 1.0, 0.0, 1.0])  # residual branch
    s = torch.tensor([0.0, 0.0, 1.0, 1.0])  # shortcut
    assert CONNECT["ADD"](a, s).tolist() == [0, 1, 1, 2]
    assert CONNECT["AND"](a, s).tolist() == [0, 0, 0, 1]
    assert CONNECT["IAND"](a, s).tolist() == [0, 0, 1, 0]


class Fixed(nn.Module):
    def __init__(self, value: torch.Tensor) -> None:
        super().__init__()
        self.value = value

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.value


@pytest.mark.parametrize("connect, expected", [("ADD", [0, 1, 1, 2]), ("AND", [0, 0, 0, 1]), ("IAND", [0, 0, 1, 0])])
def test_model_connect_selects_the_blocks_function(connect, expected):
    net = sew(connect=connect)
    block = next(m for m in net.body if isinstance(m, BasicBlock))
    assert f"connect={connect}" in repr(block)
    block.residual, block.shortcut = Fixed(torch.tensor([0.0, 1.0, 0.0, 1.0])), Fixed(torch.tensor([0.0, 0.0, 1.0, 1.0]))
    assert block(torch.zeros(4)).tolist() == expected


def test_unknown_connect_is_a_config_error():
    with pytest.raises(ConfigError, match=r"model.connect='XOR'.*ADD"):
        SEWResNetConfig(connect="XOR")


@pytest.mark.parametrize("shape", [(3, 32, 32), (3, 8, 8), (2, 37, 29)])
def test_any_input_size(shape):
    assert sew(shape)(torch.rand(2, 3, *shape)).shape == (2, 3, 10)


@pytest.mark.parametrize("connect", list(CONNECT))
@pytest.mark.parametrize("method", ["bptt", "ratebp", "onestep"])
def test_every_method_steps_and_reaches_every_parameter(method, connect):
    torch.manual_seed(0)
    net = sew(connect=connect)
    step = build("method", {"name": method}, 2)
    step.check(net)
    reset_states(net)
    result = step.step(net, torch.randn(2, 4, 3, 32, 32), torch.tensor([0, 1, 2, 3]))
    assert math.isfinite(result.loss) and result.scores.shape == (4, 10)
    missing = [name for name, p in net.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert not missing
    if connect != "AND":  # AND silences a randomly initialised network's deep blocks (a known SEW result)
        assert net.body[0].weight.grad.abs().sum() > 0  # the gradient reaches the stem through 16 blocks


@pytest.mark.parametrize("method", ["bptt", "ratebp"])
def test_recomputed_blocks_give_the_same_gradients(method):
    """trainer.recompute cuts the body after each block; SEW blocks end in a connect function, not a neuron."""
    from tests.methods.method_helpers import build as plan_of
    from tests.methods.method_helpers import gradients

    x, y = torch.randn(2, 4, 3, 32, 32), torch.tensor([0, 1, 2, 3])
    plain = gradients(plan_of(["model=sew_resnet34", f"method={method}", "dataset=cifar10", "T=2"]), x, y)[1]
    recomputed = gradients(plan_of(["model=sew_resnet34", f"method={method}", "dataset=cifar10", "T=2", "compression=bitpack", "trainer.recompute=true"]), x, y)[1]
    assert plain.keys() == recomputed.keys()
    for name in plain:
        torch.testing.assert_close(recomputed[name], plain[name], rtol=0, atol=0, msg=name)
