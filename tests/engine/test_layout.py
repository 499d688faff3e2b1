"""The conv layout: NHWC for conv models on the CPU by default, and gradients that keep it."""

from __future__ import annotations

import pytest
import torch

from snntrain.app import make_trainer
from snntrain.core.registry import build
from snntrain.engine.layout import conv_memory_format
from snntrain.layers import Flatten, TimeAvgPool2d
from tests.conftest import SMOKE, compose_config


def cnn():
    return build("model", {"name": "cnn", "spec": "4C3-P2"}, (2, 8, 8), 3, build("neuron", {"name": "lif"}))


def mlp():
    return build("model", {"name": "mlp", "hidden": [8]}, (4,), 3, build("neuron", {"name": "lif"}))


@pytest.mark.parametrize(
    ("model", "device", "setting", "expected"),
    [
        (cnn, "cpu", None, torch.channels_last),
        (cnn, "cuda", None, torch.preserve_format),  # unmeasured on GPUs: left as it is
        (mlp, "cpu", None, torch.preserve_format),
        (cnn, "cpu", False, torch.preserve_format),
        (mlp, "cpu", True, torch.channels_last),
    ],
)
def test_conv_memory_format(model, device, setting, expected):
    assert conv_memory_format(model(), torch.device(device), setting) == expected


@pytest.mark.parametrize(("setting", "channels_last"), [("null", True), ("false", False)])
def test_the_trainer_lays_conv_weights_out_by_the_setting(tmp_path, setting, channels_last):
    cfg = compose_config([*SMOKE, "dataset=synthetic", "dataset.input_shape=[2,8,8]", "model=cnn", "model.spec=4C3-P2", "trainer.device=cpu", f"trainer.channels_last={setting}"])
    conv = make_trainer(cfg, tmp_path).model.body[0]
    assert conv.weight.is_contiguous(memory_format=torch.channels_last) == channels_last
    assert conv.weight.is_contiguous() != channels_last


def test_flatten_hands_a_channels_last_map_its_gradient_in_channels_last():
    torch.manual_seed(0)
    x = torch.randn(3, 2, 4, 6, 6)
    upstream = torch.randn(3, 2, 4 * 3 * 3)
    reference = x.clone().requires_grad_()
    Flatten()(TimeAvgPool2d(2)(reference)).backward(upstream)
    nhwc = x.flatten(0, 1).contiguous(memory_format=torch.channels_last).unflatten(0, (3, 2)).requires_grad_()
    pooled = TimeAvgPool2d(2)(nhwc)
    flat = Flatten()(pooled)
    reaching_the_pool = []
    pooled.register_hook(reaching_the_pool.append)  # runs after Flatten's own hook
    flat.backward(upstream)
    assert reaching_the_pool[0].flatten(0, 1).is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(nhwc.grad, reference.grad, rtol=0, atol=0)
