"""``_target_``: a user's own model, method, neuron or dataset named in a config, built and validated
like a built-in one (core/targets.py), and the example package in examples/my_components."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from omegaconf import DictConfig
from torch import nn

from snntrain.app import plan
from snntrain.core.errors import ConfigError
from snntrain.core.registry import typed
from snntrain.core.targets import accepting_targets
from snntrain.neurons.lif import LIF
from tests.conftest import SMOKE, compose_config

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SEARCHPATH = f"hydra.searchpath=[file://{EXAMPLES / 'configs'}]"
HERE = __name__  # targets defined below: tests.test_targets.<name>


@pytest.fixture(autouse=True)
def examples_importable(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))


def planned(overrides):
    return plan(compose_config(accepting_targets(overrides)))


def not_a_model(cfg, input_shape, num_classes, neuron):
    return {"weights": []}


def no_layer_factory(cfg):
    return lambda index, n_layers: "a layer"


def plain_net(cfg, input_shape, num_classes, neuron):
    plain_net.cfg = cfg
    return nn.Sequential(nn.Flatten(2), nn.Linear(64, num_classes))


@dataclass
class Nameless:
    width: int = 3


class NamelessNet(nn.Module):
    config_class = Nameless


@pytest.mark.slow
def test_the_example_components_train_from_the_command_line(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(EXAMPLES), os.environ.get("PYTHONPATH", "")])}
    args = ["model._target_=my_components.TinyNet", SEARCHPATH, "method=label_smoothing", "method.smoothing=0.2", *SMOKE, "hydra.run.dir=run"]
    done = subprocess.run([sys.executable, "-m", "snntrain", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["epochs"] == 1
    config = (tmp_path / "run" / ".hydra" / "config.yaml").read_text()
    assert "_target_: my_components.TinyNet" in config and "_target_: my_components.LabelSmoothingBPTT" in config


def test_a_target_over_a_built_in_option_gets_that_options_config():
    p = planned(["model._target_=my_components.TinyNet", "model.hidden=[16]"])
    assert type(p.model).__name__ == "TinyNet" and type(p.cfgs["model"]).__name__ == "MLPConfig"
    assert p.model.layers[0].out_features == 16 and isinstance(p.model.layers[1], LIF)


def test_config_files_in_the_users_folder_get_the_targets_config_class():
    p = planned([SEARCHPATH, "experiment=tiny_digits"])
    assert (type(p.model).__name__, type(p.method).__name__) == ("TinyNet", "LabelSmoothingBPTT")
    assert (p.cfgs["model"].hidden, p.cfgs["method"].smoothing) == ([128], 0.1)


def test_a_name_that_is_no_built_in_option_selects_the_config_class():
    p = planned(["method._target_=my_components.LabelSmoothingBPTT", "method.name=label_smoothing"])
    assert p.cfgs["method"].smoothing == 0.1


def test_a_target_without_a_config_class_gets_the_node():
    planned([f"model._target_={HERE}.plain_net", "model.name=plain"])
    assert isinstance(plain_net.cfg, DictConfig) and plain_net.cfg.hidden == [800] and plain_net.cfg.name == "plain"


def test_a_neuron_class_is_built_once_per_layer():
    p = planned(["neuron._target_=snntrain.neurons.lif.LIF", "model.hidden=[8,8]"])
    layers = [m for m in p.model.modules() if isinstance(m, LIF)]
    assert len(layers) == 2 and layers[0] is not layers[1]


@pytest.mark.parametrize(
    "overrides, words",
    [
        (["model._target_=my_components.Nope"], "model._target_=my_components.Nope: my_components has no attribute 'Nope'."),
        (["model._target_=nowhere.Net"], "model._target_=nowhere.Net: there is no module 'nowhere'; put the folder that holds it on PYTHONPATH."),
        (["model._target_=Net"], "model._target_='Net' is not a dotted path to a class or function"),
        (["model._target_=my_components.model.math.pi"], "model._target_=my_components.model.math.pi is a float, not a class or function."),
        (["model._target_=my_components.LabelSmoothingBPTT"], "is a class that does not subclass torch.nn.Module; a model must be a torch.nn.Module."),
        ([f"model._target_={HERE}.not_a_model"], f"model._target_={HERE}.not_a_model returned a dict; a model must be a torch.nn.Module."),
        (["method._target_=my_components.TinyNet"], "does not subclass snntrain.core.method.GradientMethod"),
        ([f"method._target_={HERE}.not_a_model"], "cannot be called as a method is built, (cfg, T): missing a required argument: 'num_classes'"),
        ([f"neuron._target_={HERE}.no_layer_factory"], "made a str layer; a neuron must be a factory"),
        (["trainer._target_=my_components.TinyNet"], "trainer takes no _target_; the groups that do: neuron, model, method, dataset"),
        ([f"model._target_={HERE}.NamelessNet", "model.name=nameless"], "its config_class Nameless has no field `name`"),
        ([f"dataset._target_={HERE}.plain_net", "dataset.name=mine"], "a dataset config must be a snntrain.data.config.DatasetConfig"),
    ],
)
def test_a_bad_target_is_one_line_naming_the_key(overrides, words):
    with pytest.raises(ConfigError) as info:
        planned(overrides)
    assert words in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(
    "node, words",
    [
        ({"name": "tiny", "hidden": [0]}, "model.hidden=[0] is not allowed: every width must be > 0"),
        ({"name": "tiny", "readout": "mean"}, "Key 'readout' not in 'TinyNetConfig'"),
        ({"hidden": [float("nan")]}, "model.hidden=[nan] is not allowed"),
    ],
)
def test_a_targets_config_class_validates_the_node(node, words):
    with pytest.raises(ConfigError, match=re.escape(words)):
        typed("model", {"_target_": "my_components.TinyNet", **node})


def test_target_overrides_need_no_plus():
    overrides = ["model._target_=a.B", "+method._target_=c.D", "hydra.callbacks.x._target_=e.F", "T=4"]
    assert accepting_targets(overrides) == ["++model._target_=a.B", "+method._target_=c.D", "hydra.callbacks.x._target_=e.F", "T=4"]
