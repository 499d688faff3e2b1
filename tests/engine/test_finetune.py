"""Fine-tuning from another run's weights with only the last N conv/linear layers trained
(trainer.init_from, trainer.finetune_last, trainer.bn_eval): the HOSVD paper's protocol."""

from __future__ import annotations

import pytest
import torch

from snntrain.app import make_trainer, plan, train
from snntrain.core.errors import CheckpointError, ConfigError
from snntrain.engine import finetune
from tests.conftest import SMOKE, compose_config

CNN = ["model=cnn", "model.spec=4C3-P2-8C3-P2-16", "model.batch_norm=true", "T=2"]


def pretrained(tmp_path) -> str:
    """best.pt of a one-epoch run of the CNN: the network to fine-tune."""
    train(compose_config([*SMOKE, *CNN, "trainer.limit_batches=3"]), tmp_path / "pre")
    return str(tmp_path / "pre" / "checkpoints" / "best.pt")


def test_the_last_layers_are_counted_over_conv_and_linear_modules():
    model = plan(compose_config(CNN)).model
    layers = [name for name, m in model.named_modules() if isinstance(m, torch.nn.Conv2d | torch.nn.Linear)]
    assert len(layers) == 4  # conv, conv, fc16, readout
    frozen = finetune.frozen_modules(model, 2)
    names = [name for name, _ in model.named_modules() if name]
    assert frozen and all(names.index(f) < names.index(layers[-2]) for f in frozen)
    assert layers[0] in frozen and layers[1] in frozen and layers[-2] not in frozen
    assert finetune.frozen_modules(model, None) == []


def test_more_layers_than_the_model_has_is_refused_naming_the_count():
    with pytest.raises(ConfigError, match=r"trainer.finetune_last=5 .* 4 conv/linear layers"):
        plan(compose_config([*CNN, "trainer.finetune_last=5", "trainer.init_from=pretrained.pt"]))
    with pytest.raises(ConfigError, match="trainer.finetune_last"):
        plan(compose_config([*CNN, "trainer.finetune_last=0", "trainer.init_from=pretrained.pt"]))


def test_fine_tuning_without_a_network_to_start_from_is_refused():
    with pytest.raises(ConfigError, match=r"trainer.finetune_last=2 .* set trainer.init_from"):
        plan(compose_config([*CNN, "trainer.finetune_last=2"]))


def test_a_missing_or_foreign_checkpoint_is_refused_before_any_data_is_read(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        plan(compose_config([*CNN, f"trainer.init_from={tmp_path / 'nope.pt'}"]))
    path = pretrained(tmp_path)
    with pytest.raises(CheckpointError, match="does not fit this model"):
        plan(compose_config(["model=mlp", f"trainer.init_from={path}"]))


def test_fine_tuning_starts_from_the_checkpoint_and_moves_only_the_last_layers(tmp_path):
    path = pretrained(tmp_path)
    start = torch.load(path, weights_only=True)["model"]
    cfg = compose_config([*SMOKE, *CNN, f"trainer.init_from={path}", "trainer.finetune_last=2", "trainer.limit_batches=3"])
    trainer = make_trainer(cfg, tmp_path / "ft")
    loaded = trainer.model.state_dict()
    assert all(torch.equal(loaded[k].cpu(), v) for k, v in start.items())
    trainable = {n for n, q in trainer.model.named_parameters() if q.requires_grad}
    in_optimizer = {id(q) for g in trainer.optimizer.param_groups for q in g["params"]}
    assert in_optimizer == {id(q) for q in trainer.model.parameters() if q.requires_grad}
    assert trainable == {"body.9.weight", "body.9.bias", "body.11.weight", "body.11.bias"}  # fc16 and the readout
    trainer.fit()
    end = trainer.model.state_dict()
    frozen_prefixes = tuple(f + "." for f in trainer.frozen)
    for key, value in start.items():
        if key.startswith(frozen_prefixes):
            assert torch.equal(end[key].cpu(), value), f"{key} is frozen (weights and BatchNorm statistics) but changed"
    assert any(not torch.equal(end[k].cpu(), start[k]) for k in trainable), "no trained parameter moved"


def test_bn_eval_keeps_every_batchnorm_statistic(tmp_path):
    cfg = compose_config([*SMOKE, *CNN, "trainer.bn_eval=true", "trainer.limit_batches=3"])
    trainer = make_trainer(cfg, tmp_path / "run")
    before = {k: v.clone() for k, v in trainer.model.state_dict().items() if "running" in k}
    trainer.fit()
    after = trainer.model.state_dict()
    assert before and all(torch.equal(after[k], v) for k, v in before.items())
