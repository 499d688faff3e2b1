"""``model=feedback``: the networks ``model.spec`` builds, the official parameter counts of the IDE
rows, and one-line errors for what cannot apply."""

from __future__ import annotations

import pytest
from torch import nn

from snntrain.core.errors import ConfigError
from tests.cli.test_cli import QUIET, run_cli
from tests.conftest import compose_config
from tests.methods.method_helpers import build


def conv(c_in: int, c_out: int, k: int) -> int:
    """An official SNNConv with bias and BatchNorm: weight, bias, BatchNorm γ and β."""
    return c_in * c_out * k * k + c_out + 2 * c_out


# The official models' trainable parameters, counted from the layers the official code builds
# (models/snn_ide_*.py with each script's config; the spectral gain g is one scalar, the frozen
# snn_func_copy is not trained): network_x, network_s (+ g), classifier.
OFFICIAL_PARAMS = {
    "onestep_ide_mnist": conv(1, 64, 5) + (64 * 64 * 25 + 1) + (64 * 14 * 14 * 10 + 10),
    "onestep_ide_fashion_mnist": (784 * 400 + 400 + 800) + (400 * 400 + 1) + (400 * 10 + 10),
    "onestep_ide_nmnist": conv(2, 64, 5) + (64 * 64 * 25 + 1) + (64 * 16 * 16 * 10 + 10),
    "onestep_ide_cifar10": conv(3, 128, 3) + conv(128, 256, 3) + conv(256, 512, 3) + conv(512, 1024, 3) + conv(1024, 512, 3)
    + (512 * 128 * 9 + 1) + (512 * 8 * 8 * 10 + 10),
}


@pytest.mark.parametrize("name", sorted(OFFICIAL_PARAMS))
def test_each_ide_row_builds_the_official_models_parameter_count(name):
    cfg = compose_config([f"experiment={name}"])
    model = build([f"experiment={name}"]).model  # no data is read
    assert cfg.paper.params == OFFICIAL_PARAMS[name]
    assert sum(p.numel() for p in model.parameters()) == OFFICIAL_PARAMS[name]


def test_cifarnet_f_layers_and_shapes():
    block = build(["experiment=onestep_ide_cifar10"]).model.body[0]
    convs = [block.inputs.op, *(layer.op for layer in block.layers)]
    assert [(c.in_channels, c.out_channels, c.stride[0]) for c in convs] == [(3, 128, 2), (128, 256, 1), (256, 512, 2), (512, 1024, 1), (1024, 512, 1)]
    back = block.feedback.op
    assert isinstance(back, nn.ConvTranspose2d) and (back.in_channels, back.out_channels, back.stride, back.output_padding) == (512, 128, (2, 2), (1, 1))
    assert back.bias is None and block.feedback.norm is None and all(s.norm is not None for s in [block.inputs, *block.layers])
    assert [n.threshold for n in block.neurons] == [2.0] * 5 and [n.decay for n in block.neurons] == [0.99] * 5


def test_nmnist_row_uses_the_official_codes_padding_1():
    block = build(["experiment=onestep_ide_nmnist"]).model.body[0]
    assert block.inputs.op.padding == (1, 1) and block.inputs.op.stride == (2, 2)


def test_official_init_gives_unit_norm_rows_and_zero_bias():
    block = build(["model=feedback", "model.spec=12-F12", "model.contraction=null", "dataset=synthetic", "dataset.input_shape=[5]"]).model.body[1]
    weight = block.inputs.op.weight
    assert ((weight.norm(dim=1) - 1).abs() < 1e-6).all() and (block.inputs.op.bias == 0).all()
    assert ((block.feedback.op.weight.norm(dim=1) - 1).abs() < 1e-6).all()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["neuron=cuba"], r"model=feedback needs neuron=lif"),
        (["neuron.reset=hard"], r"neuron.reset='hard' is not allowed: model=feedback's rate equilibrium holds for the soft reset; set neuron.reset=soft"),
        (["neuron.backend=torch"], r"neuron.backend='torch' is not allowed: model=feedback steps its neurons itself"),
        (["model.spec=64X5-F64"], r"model.spec='64X5-F64' does not parse at '64X5'"),
        (["model.spec=64C3"], r"model.spec='64C3' is not allowed: give the input connection, any layers inside the loop, and last the feedback"),
        (["model.spec=F16-16"], r"model.spec='F16-16' is not allowed"),
        (["model.spec=16C3s2-F8C3"], r"the feedback connection maps the last layer \[16, 4, 4\] to \[8, 4, 4\], but it must restore the first layer's shape \[16, 4, 4\]"),
        (["model.spec=16-8C3-F16"], r"a convolution needs image-shaped input"),
        (["model.spectral_norm=true"], r"model.contraction=0.5 is not allowed: with model.spectral_norm=true .* set model.contraction=null"),
        (["model.dropout=1.0"], r"model.dropout=1.0 is not allowed: it must be in \[0, 1\)"),
        (["model.input_average=mean"], r"model.input_average='mean' is not allowed: choose one of \['official', 'weighted'\]"),
        (["method=onestep", "method.adjoint_solver=newton"], r"method.adjoint_solver='newton' is not allowed: choose one of \['fixed_point', 'broyden', 'ide_iter'\]"),
    ],
)
def test_what_cannot_apply_is_a_config_error(overrides, message):
    with pytest.raises(ConfigError, match=message):
        build(["model=feedback", *overrides])


@pytest.mark.slow
def test_a_bad_feedback_key_is_one_message_on_the_command_line(tmp_path):
    result = run_cli(["model=feedback", "neuron.reset=hard", *QUIET], cwd=tmp_path)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert " ".join(result.stderr.split()) == (  # the console wraps it at the terminal width
        "snntrain error: neuron.reset='hard' is not allowed: model=feedback's rate equilibrium holds for the soft reset; set neuron.reset=soft."
    )
