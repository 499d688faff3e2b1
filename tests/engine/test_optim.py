"""``optimizer.no_decay``: the parameter groups, a decay step, resuming with several groups, bad entries."""

from __future__ import annotations

import re

import pytest
import torch
from torch import nn

from snntrain.app import plan, train
from snntrain.core.errors import CheckpointError, ConfigError
from snntrain.engine import checkpoint
from tests.conftest import compose_config

RESNET19 = ["model=resnet19", "dataset=synthetic", "dataset.input_shape=[3,32,32]", "optimizer=sgd"]
SMALL = ["model.hidden=[32]", "T=4", "trainer.progress=false", "logger=none", "scheduler=step"]


def official_split(model: nn.Module) -> tuple[set[str], set[str]]:
    """(decayed, undecayed) parameter names by the official rate-BP rule, ``util/util.py`` ``split_params``
    at Tab-ct/rate-based-backpropagation@3c70ee9: BatchNorm parameters and conv/linear biases undecayed,
    conv/linear weights and any other leaf module's parameters decayed."""
    decayed: set[str] = set()
    undecayed: set[str] = set()

    def walk(module: nn.Module, prefix: str) -> None:
        for name, child in module.named_children():
            path = f"{prefix}{name}"
            if "batchnorm" in type(child).__name__.lower():
                undecayed.update(f"{path}.{n}" for n, _ in child.named_parameters())
            elif isinstance(child, (nn.Linear, nn.modules.conv._ConvNd)):
                decayed.add(f"{path}.weight")
                if child.bias is not None:
                    undecayed.add(f"{path}.bias")
            elif any(True for _ in child.children()):
                walk(child, f"{path}.")
            else:
                decayed.update(f"{path}.{n}" for n, _ in child.named_parameters())

    walk(model, "")
    return decayed, undecayed


def test_bias_and_norm_split_resnet19_as_the_official_code_does():
    p = plan(compose_config([*RESNET19, "optimizer.no_decay=[bias,norm]"]))
    decayed, undecayed = (p.optimizer.param_groups[i] for i in (0, 1))
    assert (decayed["weight_decay"], undecayed["weight_decay"]) == (5e-4, 0.0)
    assert (set(decayed["param_names"]), set(undecayed["param_names"])) == official_split(p.model)
    # ResNet-19 at 10 classes: 19 BatchNorms over 5,248 channels (stem 128, 6x128, 6x256 + 256, 4x512 + 512)
    # hold 2 x 5,248 = 10,496 parameters; the two FC biases 256 + 10. The rest, 12,697,994 - 10,762, are weights.
    assert sum(q.numel() for q in undecayed["params"]) == 10_496 + 266
    assert sum(q.numel() for q in decayed["params"]) == 12_697_994 - 10_762
    assert len(decayed["params"]) == 19 + 2 and len(undecayed["params"]) == 2 * 19 + 2  # conv and FC weights; γ, β, FC biases


def test_a_decay_step_shrinks_weights_and_leaves_batchnorm_and_biases():
    lr, wd = 0.1, 0.5
    p = plan(compose_config([*RESNET19, "optimizer.no_decay=[bias,norm]", f"optimizer.lr={lr}", f"optimizer.weight_decay={wd}", "optimizer.momentum=0"]))
    before = {name: q.detach().clone() for name, q in p.model.named_parameters()}
    for q in p.model.parameters():
        q.grad = torch.zeros_like(q)
    p.optimizer.step()
    _, undecayed = official_split(p.model)
    for name, q in p.model.named_parameters():
        expected = before[name] if name in undecayed else before[name] * (1 - lr * wd)
        torch.testing.assert_close(q.detach(), expected, rtol=1e-6, atol=0, msg=name)


def test_empty_no_decay_is_one_group_with_every_parameter():
    p = plan(compose_config([*RESNET19, "optimizer.weight_decay=1e-3"]))
    (group,) = p.optimizer.param_groups
    assert group["param_names"] == [name for name, _ in p.model.named_parameters()] and group["weight_decay"] == 1e-3


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "sgd"])
def test_every_optimizer_takes_kinds_and_exact_parameter_names(optimizer):
    p = plan(compose_config([f"optimizer={optimizer}", "optimizer.weight_decay=0.01", "optimizer.no_decay=[bias,body.3.weight]"]))
    assert [g["param_names"] for g in p.optimizer.param_groups] == [["body.1.weight"], ["body.1.bias", "body.3.weight", "body.3.bias"]]
    assert [g["weight_decay"] for g in p.optimizer.param_groups] == [0.01, 0.0]


@pytest.mark.parametrize("entry", ["nonsense", "body.3", "Bias", "body.3.weight.x"])
def test_an_entry_that_is_no_kind_and_no_parameter_is_a_config_error(entry):
    with pytest.raises(ConfigError) as info:
        plan(compose_config([f"optimizer.no_decay=[bias,{entry}]"]))
    message = str(info.value)
    assert message.startswith(f"optimizer.no_decay=['bias', '{entry}'] is not allowed: ['{entry}']") and "\n" not in message


def test_resume_with_two_groups_continues_exactly(tmp_path):
    groups = [*SMALL, "optimizer=sgd", "optimizer.no_decay=[bias]"]
    train(compose_config([*groups, "trainer.max_epochs=2"]), tmp_path / "straight")
    train(compose_config([*groups, "trainer.max_epochs=1"]), tmp_path / "split")
    train(compose_config([*groups, "trainer.max_epochs=2", "trainer.resume=auto"]), tmp_path / "split")
    straight, split = (checkpoint.load(tmp_path / run / "checkpoints" / "last.pt") for run in ("straight", "split"))
    for key, value in straight["model"].items():
        assert torch.equal(value, split["model"][key]), key
    assert [len(g["params"]) for g in split["optimizer"]["param_groups"]] == [2, 2]


# The second split has the same group sizes as the checkpoint's: only the names tell them apart.
@pytest.mark.parametrize(
    "resumed_with, now",
    [("optimizer.no_decay=[]", "[]"), ("optimizer.no_decay=[body.1.weight,body.3.bias]", "['body.1.weight', 'body.3.bias']")],
)
def test_resume_with_other_groups_names_no_decay(resumed_with, now, tmp_path):
    train(compose_config([*SMALL, "optimizer.no_decay=[bias]", "trainer.max_epochs=1"]), tmp_path)
    with pytest.raises(CheckpointError, match=re.escape(f"optimizer.no_decay: ['bias'] in the checkpoint, {now} now")):
        train(compose_config([*SMALL, resumed_with, "trainer.max_epochs=2", "trainer.resume=auto"]), tmp_path)


def test_optimizer_groups_of_another_split_are_refused_where_the_config_does_not_say(tmp_path):
    """A checkpoint whose config does not record optimizer.no_decay (or an older one's) is still
    checked by its parameter groups."""
    train(compose_config([*SMALL, "optimizer.no_decay=[bias]", "trainer.max_epochs=1"]), tmp_path)
    state = checkpoint.load(tmp_path / "checkpoints" / "last.pt")
    del state["config"]["optimizer"]["no_decay"]
    checkpoint.save_atomic(state, tmp_path / "checkpoints" / "last.pt")
    with pytest.raises(CheckpointError, match=r"another optimizer.no_decay \(its config: \[\]\)"):
        train(compose_config([*SMALL, "trainer.max_epochs=2", "trainer.resume=auto"]), tmp_path)
