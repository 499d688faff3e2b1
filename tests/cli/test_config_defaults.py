"""Each default is stated once: in its dataclass field, with its help; an option file states only
what differs from its dataclass, and docs/config.md is generated from both."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from snntrain.core import config_doc
from snntrain.core.catalog import BUILT_IN, Component

DOCS = Path(__file__).resolve().parents[2] / "docs"
OPTIONS = {f"{c.group}={c.name}": c for c in BUILT_IN}


def leaves(node: dict, prefix: str = "") -> dict[str, object]:
    flat: dict[str, object] = {}
    for key, value in node.items():
        if isinstance(value, dict):
            flat.update(leaves(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def own_values(component: Component) -> dict:
    """What the option file sets under its group, without its defaults list."""
    path = config_doc.option_file(component.group, component.name)
    data = OmegaConf.to_container(OmegaConf.load(path))
    data.pop("defaults")
    return data[component.group] if path.read_text().startswith("# @package _global_") else data


@pytest.mark.parametrize("option", sorted(OPTIONS))
def test_no_option_file_restates_a_default_of_its_dataclass(option):
    component = OPTIONS[option]
    values = own_values(component)
    assert values.get("name") == component.name
    schema = OmegaConf.structured(component.config_cls)
    typed = leaves(OmegaConf.to_container(OmegaConf.merge(schema, values)))  # '0' as the field's type: 0.0
    defaults = leaves(OmegaConf.to_container(schema))
    restated = [f"{key}: {typed[key]!r}" for key in leaves(values) if key != "name" and typed[key] == defaults[key]]
    assert not restated, f"configs/{component.group}/{component.name}.yaml restates defaults of {component.schema}: {restated}"


@pytest.mark.parametrize("option", sorted(OPTIONS))
def test_every_option_file_names_its_dataclass(option):
    component = OPTIONS[option]
    module, _, cls = component.schema.partition(":")
    pointer = f"{config_doc.POINTER} {cls} in {module.replace('.', '/')}.py (every option: docs/config.md)."
    assert pointer in config_doc.option_file(component.group, component.name).read_text().splitlines()


def dataclasses_in(cls: type) -> list[type]:
    """``cls`` and the config dataclasses nested in it (``dataset.augment``, ``dataset.framing``)."""
    nested = [kind for kind in typing.get_type_hints(cls).values() if dataclasses.is_dataclass(kind)]
    return [cls, *(inner for kind in nested for inner in dataclasses_in(kind))]


def test_every_schema_field_has_help():
    missing = [
        f"{cls.__module__}:{cls.__name__}.{field.name}"
        for component in BUILT_IN
        for cls in dataclasses_in(component.config_cls)
        for field in dataclasses.fields(cls)
        if not config_doc.help_of(cls, field.name).strip()
    ]
    assert not missing, f"fields without metadata={{'help': ...}} (own, or on the declaration they override): {sorted(set(missing))}"


def test_the_reference_page_is_up_to_date():
    assert config_doc.main(["--check", str(DOCS / "config.md")]) == 0, "run: python -m snntrain.core.config_doc --write docs/config.md"


def test_the_reference_page_lists_every_option_and_key():
    text = (DOCS / "config.md").read_text()
    for option, component in OPTIONS.items():
        assert f"### {option}\n" in text
        for key in leaves(OmegaConf.to_container(OmegaConf.structured(component.config_cls))):
            assert f"| `{component.group}.{key}` |" in text
