"""No dead keys in the paper rows: every key an experiment file sets is read by what it builds.

Each row runs one training step and one evaluation through its own dataset loader on a miniature
root of the real layout (``fake_roots``), with every typed config (the dataclass each group is
validated into) recording which of its fields the code reads after validation. A key the row sets
that nothing reads had no effect: the test names it. A second test perturbs each numeric or
boolean key of the model, neuron, optimizer and scheduler groups and requires the built model
(structure, initial weights), the optimizer's parameter groups or the schedule to change.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import fields, is_dataclass
from importlib import resources
from pathlib import Path

import pytest
from omegaconf import OmegaConf

import snntrain.core.registry as registry
from snntrain.app import plan, train
from snntrain.core.errors import ConfigError
from snntrain.repro.smoke import needs_starting_weights, starting_weights
from tests.conftest import SMOKE, compose_config
from tests.repro.fake_roots import materialize

FOLDER = resources.files("snntrain.configs") / "experiment"
ROWS = sorted(p.name.removesuffix(".yaml") for p in FOLDER.iterdir() if p.name.endswith(".yaml"))
NOT_TRAINING = {"defaults", "paper", "T", "seed"}  # T and seed are read by every run


def row_keys(name: str) -> dict[str, object]:
    """The dotted keys the row sets: its file's, over those of the rows it extends (``defaults:
    - other_row``), which must still have an effect in this row's composition."""
    data = OmegaConf.to_container(OmegaConf.load(FOLDER / f"{name}.yaml"))
    flat: dict[str, object] = {}
    for parent in data.get("defaults", []):
        if isinstance(parent, str) and parent != "_self_":
            flat.update(row_keys(parent))

    def walk(node, prefix: str) -> None:
        for key, value in node.items():
            path = f"{prefix}{key}"
            if isinstance(value, dict):
                walk(value, path + ".")
            else:
                flat[path] = value

    walk({k: v for k, v in data.items() if k not in NOT_TRAINING}, "")
    return flat


def start_from(cfg, folder: Path) -> list[str]:
    """For a row that fine-tunes a trained network: its own fresh weights as the starting checkpoint."""
    return [starting_weights(cfg, folder / "start.pt")] if needs_starting_weights(cfg) else []


class ReadRecorder:
    """Wraps every typed config so that reads of its fields (after validation) are recorded."""

    def __init__(self) -> None:
        self.reads: set[str] = set()
        self._classes: dict[type, type] = {}

    def wrap(self, obj, path: str):
        if not is_dataclass(obj) or isinstance(obj, type):
            return obj
        names = {f.name for f in fields(obj)}
        for name in names:
            self.wrap(getattr(obj, name), f"{path}.{name}")
        reads, base = self.reads, type(obj)
        if base not in self._classes:
            def read(self_, attr, _names=names, _base=base):
                if attr in _names:
                    reads.add(f"{object.__getattribute__(self_, '_recorded_path')}.{attr}")
                return _base.__getattribute__(self_, attr)

            self._classes[base] = type(f"Recorded{base.__name__}", (base,), {"__getattribute__": read})
        object.__setattr__(obj, "_recorded_path", path)
        object.__setattr__(obj, "__class__", self._classes[base])
        return obj

    def install(self, monkeypatch) -> None:
        original = registry.typed

        def typed(group, node):
            return self.wrap(original(group, node), group)

        monkeypatch.setattr(registry, "typed", typed)


@pytest.mark.slow
@pytest.mark.parametrize("name", ROWS)
def test_every_key_a_row_sets_is_read(name, tmp_path, monkeypatch):
    keys = row_keys(name)
    cfg = compose_config([f"experiment={name}"])
    small = [*SMOKE, "dataset.batch_size=2", "dataset.eval_batch_size=2", "trainer.device=cpu"]
    small += materialize(cfg.dataset.name, tmp_path / "data") + start_from(cfg, tmp_path)
    monkeypatch.setattr("torchvision.datasets.cifar.check_integrity", lambda *args, **kwargs: True)
    recorder = ReadRecorder()
    recorder.install(monkeypatch)
    metrics = train(compose_config([f"experiment={name}", *small]), tmp_path / "run")
    assert metrics["epochs"] == 1
    dead = sorted(key for key in keys if key not in recorder.reads)
    assert not dead, f"experiment={name} sets keys that nothing reads (no effect): {dead}"


# ----- perturbation: the keys that shape what is built ---------------------------------------------
BUILT_GROUPS = ("model", "neuron", "optimizer", "scheduler")


def perturbed(value):
    """Another valid-looking value of the same type (None when there is no obvious one)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value * 0.5 if value else 0.25
    if isinstance(value, list) and value and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        return [perturbed(value[0]), *value[1:]]
    return None


def fingerprint(overrides: list[str]) -> tuple:
    """What the config builds for the model, optimizer and schedule, from the same seed."""
    p = plan(compose_config(overrides))
    names = {id(q): n for n, q in p.model.named_parameters()}
    state = tuple((k, tuple(v.shape), float(v.double().sum()), float(v.double().abs().sum())) for k, v in p.model.state_dict().items())
    groups = tuple(
        tuple(sorted((k, repr(v)) for k, v in g.items() if k != "params")) + (tuple(names[id(q)] for q in g["params"]),)
        for g in p.optimizer.param_groups
    )
    lrs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # stepping a schedule without an optimizer step is the point here
        for _ in range(min(p.cfgs["trainer"].max_epochs, 400)):
            lrs.append(p.optimizer.param_groups[0]["lr"])
            p.scheduler.step()
    return repr(p.model), state, groups, tuple(round(lr, 15) for lr in lrs), p.T


@pytest.mark.slow
@pytest.mark.parametrize("name", ROWS)
def test_every_model_neuron_and_optimizer_key_changes_what_is_built(name, tmp_path):
    base = [f"experiment={name}", *start_from(compose_config([f"experiment={name}"]), tmp_path)]
    reference = fingerprint(base)
    dead = []
    for key, value in row_keys(name).items():
        other = perturbed(value)
        if key.split(".")[0] not in BUILT_GROUPS or other is None:
            continue
        try:
            changed = fingerprint([*base, f"{key}={other}"])
        except ConfigError:
            continue  # the perturbed value is out of range: the key is checked, hence read
        if changed == reference:
            dead.append(key)
    assert not dead, f"experiment={name}: changing these keys changes nothing that is built: {dead}"


def test_the_recorder_sees_a_dead_key():
    """The harness itself: a field that no code reads after validation is reported as unread."""
    recorder = ReadRecorder()
    cfg = recorder.wrap(registry.typed("optimizer", {"name": "sgd", "lr": 0.1}), "optimizer")
    _ = cfg.lr
    assert "optimizer.lr" in recorder.reads and "optimizer.momentum" not in recorder.reads
    assert math.isclose(cfg.lr, 0.1) and isinstance(cfg, type(cfg).__mro__[1])


def test_row_keys_are_the_rows_own_leaves():
    keys = row_keys("digits_cnn")
    assert keys and not any(k.startswith(("paper", "defaults")) for k in keys)
    assert all("." in k or k not in NOT_TRAINING for k in keys)


