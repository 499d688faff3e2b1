"""Every config field's range is checked before any data is read.

For every field of every registered config dataclass (nested ones too) and the top-level keys, values
that are out of range for most fields of its type (negative, zero, NaN, infinite, an unknown word,
lists of those) are set on a composed config, and ``run.plan`` must refuse each with a one-line
ConfigError naming the key (or another one-line error naming the value: a checkpoint that does not
exist), unless the table ``IN_RANGE`` says that value is valid for that key (and
then it must plan). A new field that reaches the code unchecked therefore fails here until it gets a
check or an entry in ``IN_RANGE``.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Iterator

import pytest
from omegaconf import OmegaConf

from snntrain import app as run
from snntrain.core import registry
from snntrain.core.errors import ConfigError, SnntrainError
from tests.conftest import compose_config

NAN, INF = float("nan"), float("inf")
PROBES = {int: [-1, 0], float: [-1.0, 0.0, NAN, INF], str: ["bogus"], bool: []}
LIST_PROBES = {int: [[-1], [0], []], float: [[-1.0], [NAN], []], str: [["bogus"], []]}
ANY_PROBES = [-1, 0, "bogus", []]

# Options whose defaults need a companion to plan (see tests/cli/test_config.py), kept small here.
COMPANIONS = {("model", "vgg11"): ["dataset=cifar10"], ("dataset", "imagenet"): ["model.hidden=[8]"], ("neuron", "cuba"): ["method=hm2bp"]}

# key -> the probe values that are in its range (the rest of the probes of its type are not).
IN_RANGE: dict[str, list] = {
    "seed": [0],
    "neuron.decay": [0.0],  # lambda = 0: no memory, each step on its own
    "neuron.output_inhibition": [0.0],
    "compression.min_numel": [0],
    "dataset.root": ["bogus"],  # a folder; its absence is reported when the data is read, naming it
    "dataset.val_fraction": [0.0],
    "dataset.loader_workers": [0],  # batches read in the training process  # no validation split: selection on test, labelled so
    "dataset.augment.scale": [0.0], "dataset.augment.rotation": [0.0], "dataset.augment.elastic": [0.0],
    "dataset.augment.roll": [0], "dataset.augment.crop_padding": [0], "dataset.augment.cutout": [0],  # 0 = off
    "method.undesired": [0.0],
    "method.margin": [0.0], "method.reg_lambda": [0.0], "method.reg_beta": [0.0],
    "method.silent_effect": [0.0], "method.silent_side_ratio": [0.0], "method.silent_count_ratio": [0.0],
    "model.hidden": [[]],  # no hidden layer: a linear readout of the input spikes
    "model.fc": [[]],
    "model.dropout": [0.0],
    "optimizer.no_decay": [[]],
    "optimizer.weight_decay": [0.0],
    "optimizer.momentum": [0.0],
    "compression.layers": [[]],  # every layer
    "scheduler.eta_min": [0.0],
    "scheduler.milestones": [[]],  # a constant rate (with warm-up, if set)
    "scheduler.warmup_iters": [0],
    "logger.subdir": ["bogus"],  # a folder inside the run dir
    "logger.project": ["bogus"], "logger.entity": ["bogus"],  # W&B names, checked by W&B when the run starts
    "logger.tracking_uri": ["bogus"], "logger.experiment": ["bogus"],  # MLflow's, checked by MLflow when the run starts
    "trainer.resume": ["bogus"],  # a checkpoint path: read (and refused, naming it) when training starts
}


def leaf_fields(cls: type, prefix: str) -> Iterator[tuple[str, type, type]]:
    """(dotted key, type, declaring class) of every field of dataclass ``cls``, nested ones unfolded."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        kind = hints[f.name]
        if dataclasses.is_dataclass(kind):
            yield from leaf_fields(kind, f"{prefix}{f.name}.")
        elif f.name != "name":
            declaring = next(c for c in cls.__mro__ if f.name in c.__dict__.get("__annotations__", {}))
            yield f"{prefix}{f.name}", kind, declaring


def probes(kind) -> list:
    """Values out of range for most fields of type ``kind`` (``X | None``: those of X; None means "off")."""
    if kind is typing.Any:
        return ANY_PROBES
    args = [a for a in typing.get_args(kind) if a is not type(None)]
    if isinstance(kind, types.UnionType) or typing.get_origin(kind) is typing.Union:
        (kind,) = args
        return probes(kind)
    if typing.get_origin(kind) is list:
        return LIST_PROBES[args[0]]
    return PROBES[kind]


def cases() -> Iterator[tuple[list[str], str, object]]:
    """(overrides that select the option, key, probe) for each field, probed once per class that declares it."""
    yield from ((["model=mlp"], key, value) for key in ("T", "seed") for value in PROBES[int])
    probed = set()
    for group in registry.GROUPS:
        for name in registry.options(group):
            base = [f"{group}={name}", *COMPANIONS.get((group, name), [])]
            for path, kind, declaring in leaf_fields(registry.entry(group, name).config_cls, ""):
                if (declaring, path) not in probed:
                    probed.add((declaring, path))
                    yield from ((base, f"{group}.{path}", value) for value in probes(kind))


def in_range(key: str, value) -> bool:
    return any(value == v or (value != value and v != v) for v in IN_RANGE.get(key, []))


CASES = list(cases())


def test_every_field_is_probed_and_the_table_names_only_real_keys():
    keys = {key for _, key, _ in CASES}
    assert len(keys) > 100
    assert set(IN_RANGE) <= keys


@pytest.mark.parametrize("group_option", sorted({" ".join(base) for base, _, _ in CASES}))
def test_out_of_range_values_are_refused_in_one_line_naming_the_key(group_option):
    base = group_option.split()
    cfg = compose_config(base)
    run.plan(cfg)  # the option itself plans
    unchecked, wrong = [], []
    for _, key, value in (c for c in CASES if c[0] == base):
        probe = OmegaConf.create(OmegaConf.to_container(cfg))
        OmegaConf.update(probe, key, value, merge=False)
        try:
            run.plan(probe)
        except SnntrainError as err:  # a ConfigError names the key; others (a missing checkpoint) the value
            message = str(err)
            named = key in message or (not isinstance(err, ConfigError) and str(value) in message)
            if in_range(key, value) or not named or "\n" in message:
                wrong.append(f"{key}={value!r}: {message}")
            continue
        if not in_range(key, value):
            unchecked.append(f"{key}={value!r}")
    assert not unchecked, f"reached the code unchecked (add a range check, or an IN_RANGE entry): {unchecked}"
    assert not wrong, wrong


def test_nan_and_inf_are_refused_for_every_float_even_inside_lists():
    with pytest.raises(ConfigError, match=r"^optimizer.betas=\[0.9, nan\] is not allowed: every number must be finite"):
        run.plan(compose_config(["optimizer.betas=[0.9,nan]"]))


# Settings another setting makes out of range, or ignored: refused, naming the key that is wrong.
@pytest.mark.parametrize(
    "overrides, key",
    [
        (["neuron.tau=4", "neuron.decay=0.5"], "neuron.tau"),  # the LIF would take decay and ignore tau
        (["method=onestep", "method.k=9", "T=8"], "method.k"),
        (["optimizer=sgd", "optimizer.momentum=0", "optimizer.nesterov=true"], "optimizer.nesterov"),
        (["optimizer.lr=0.001", "scheduler.eta_min=0.01"], "scheduler.eta_min"),
        (["dataset.encoder=direct", "dataset.poisson_scale=0.5"], "dataset.poisson_scale"),
        (["dataset.encoder=events"], "dataset.encoder"),  # digits are images, not event frames
        (["model=cnn", "model.spec=300", "model.pool=max"], "model.pool"),
        (["model=cnn", "model.spec=16C3-64", "model.spiking_pool=true"], "model.spiking_pool"),
        (["model=cnn", "model.spec=300", "model.batch_norm=true"], "model.batch_norm"),
        (["trainer.channels_last=true"], "trainer.channels_last"),  # the default MLP has no convolution
        (["neuron=cuba"], "neuron"),  # BPTT needs a surrogate gradient
        (["seed=true"], "seed"),
        (["logger.subdir=../elsewhere"], "logger.subdir"),
    ],
)
def test_combinations_that_would_be_ignored_or_crash_are_refused_naming_the_key(overrides, key):
    with pytest.raises(ConfigError) as info:
        run.plan(compose_config(overrides))
    assert str(info.value).startswith(f"{key}=") and "is not allowed" in str(info.value) and "\n" not in str(info.value)


# Settings a recipe may apply whatever the rest of the config: warned about, not refused.
@pytest.mark.parametrize(
    "overrides, warning",
    [
        (["scheduler=multistep", "scheduler.milestones=[2,40]", "trainer.max_epochs=30"],
         "scheduler.milestones=[40] has no effect in this run: trainer.max_epochs=30 ends before it."),
        (["scheduler=step", "scheduler.step_size=30", "trainer.max_epochs=30"],
         "scheduler.step_size=30 has no effect in this run: trainer.max_epochs=30 ends before it."),
        (["trainer.bn_eval=true"], "trainer.bn_eval=true has no effect: this model has no BatchNorm layer"),
    ],
)
def test_settings_this_run_would_ignore_are_warned_about(overrides, warning, caplog):
    run.plan(compose_config(overrides))
    assert warning in caplog.text
