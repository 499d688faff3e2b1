"""Every config option composes and validates; bad overrides fail before data, naming the key."""

from pathlib import Path

import pytest
from hydra.errors import ConfigCompositionException, MissingConfigException
from omegaconf.errors import ConfigKeyError, ValidationError

import snntrain
from snntrain import app as run
from snntrain.core import registry
from snntrain.core.errors import ConfigError
from tests.conftest import compose_config

CONFIGS = Path(snntrain.__file__).resolve().parents[1] / "configs"
GROUPS = list(registry.GROUPS)


def group_options():
    for group in GROUPS:
        for path in sorted((CONFIGS / group).glob("*.yaml")):
            yield group, path.stem


# Options that need another choice to make sense (VGG-11 downsamples 8x8 digits to nothing; the
# default MLP over 224x224 ImageNet images would have 120 M weights; the current-based LIF has no
# surrogate gradient for BPTT).
COMPANIONS = {("model", "vgg11"): ["dataset=cifar10"], ("dataset", "imagenet"): ["model=sew_resnet34"], ("neuron", "cuba"): ["method=hm2bp"]}


@pytest.mark.parametrize("group, option", list(group_options()))
def test_every_group_option_composes_and_validates(group, option, monkeypatch):
    cfg = compose_config([f"{group}={option}", *COMPANIONS.get((group, option), [])])
    assert cfg[group].name == option
    loaded = []
    monkeypatch.setattr("snntrain.data.base.DataBundle.__init__", lambda *a, **k: loaded.append(1))
    plan = run.plan(cfg)
    assert plan.model is not None and not loaded  # built without reading data


def test_configs_ship_inside_the_package():
    import importlib.resources as resources

    assert resources.files("snntrain.configs").joinpath("train.yaml").is_file()


@pytest.mark.parametrize(
    "override, error, words",
    [
        ("trainer.foo=1", ConfigCompositionException, "foo"),
        ("trainer.max_epochs=abc", ConfigCompositionException, "trainer.max_epochs"),
        ("method=nosuch", MissingConfigException, "method"),
    ],
)
def test_hydra_rejects_unknown_keys_types_and_options(override, error, words):
    with pytest.raises(error) as info:
        compose_config([override])
    assert words in str(info.value) + str(info.value.__cause__)


@pytest.mark.parametrize(
    "override, words",
    [
        ("T=0", "T=0"),
        ("T=-3", "T=-3"),
        ("optimizer.lr=-0.1", "optimizer.lr=-0.1"),
        ("dataset.batch_size=0", "dataset.batch_size=0"),
        ("trainer.max_epochs=0", "trainer.max_epochs=0"),
        ("neuron.surrogate=relu", "neuron.surrogate='relu'"),
        ("model=cnn", None),
        ("model.hidden=[0]", "model.hidden"),
    ],
)
def test_out_of_range_values_fail_in_plan_before_data(override, words):
    cfg = compose_config([override])
    if words is None:
        run.plan(cfg)  # a valid override for contrast
        return
    with pytest.raises(ConfigError, match=words.replace("[", r"\[")):
        run.plan(cfg)


def test_bad_spec_and_zero_map_fail_in_plan():
    with pytest.raises(ConfigError, match="does not parse"):
        run.plan(compose_config(["model=cnn", "model.spec=15C5-PP"]))
    with pytest.raises(ConfigError, match="shrinks"):
        run.plan(compose_config(["model=cnn", "model.spec=16C3-P4-P4", "model.padding=valid"]))


def test_typed_rejects_wrong_types_from_code():
    from snntrain.core.registry import typed

    with pytest.raises((ConfigError, ValidationError, ConfigKeyError), match="max_epochs"):
        typed("trainer", {"name": "default", "max_epochs": "many"})


def test_a_key_forced_in_with_plus_is_still_rejected():
    with pytest.raises(ConfigError, match="rank"):
        run.plan(compose_config(["+compression.rank=4"]))
