"""The configuration reference, docs/config.md: every group, option, key, type, default and help,
generated from the schema dataclasses (each field holds its default and its ``help`` metadata) and
the option files ``configs/<group>/<option>.yaml`` (what the option is; the values it changes).

    python -m snntrain.core.config_doc                         # print the markdown
    python -m snntrain.core.config_doc --write docs/config.md  # regenerate the page
    python -m snntrain.core.config_doc --check docs/config.md  # exit 1 if the page is stale

docs/config.md is this output (a test holds them equal), so it cannot drift from the code.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import types
import typing
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

from omegaconf import OmegaConf

from snntrain.core.catalog import BUILT_IN, Component

POINTER = "# Keys, defaults and help:"  # the option file's line that names its schema


class Key(NamedTuple):
    """One row of an option's table: a dotted key under its group."""

    key: str
    type: str
    default: str
    help: str


def help_of(cls: type, name: str) -> str:
    """The help of field ``name`` of dataclass ``cls``: its own ``help`` metadata, or, for a field that
    only overrides a base class's default, the help of the declaration it overrides."""
    for klass in cls.__mro__:
        declared = getattr(klass, "__dataclass_fields__", {}).get(name)
        if declared is not None and declared.metadata.get("help"):
            return declared.metadata["help"]
    return ""


def type_text(kind: Any) -> str:
    """A field's type as a YAML user reads it: ``float | null``, ``list[int]``, ``any``."""
    if kind is Any:
        return "any"
    if kind is type(None):
        return "null"
    args = typing.get_args(kind)
    if isinstance(kind, types.UnionType) or typing.get_origin(kind) is typing.Union:
        return " | ".join(type_text(arg) for arg in args)
    if typing.get_origin(kind) is list:
        return f"list[{type_text(args[0])}]"
    return kind.__name__


def value_text(value: Any) -> str:
    """A default as YAML writes it in a flow: ``null``, ``true``, ``[0.9, 0.999]``, ``""``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "[" + ", ".join(value_text(item) for item in value) + "]"
    if value == "":
        return '""'
    return str(value)


def option_file(group: str, name: str) -> Path:
    return Path(str(resources.files("snntrain.configs") / group / f"{name}.yaml"))


def option_values(component: Component) -> dict:
    """The option's keys as its file composes them: the schema's defaults with the file's own values
    merged on top (a ``@package _global_`` file's under its group's key)."""
    path = option_file(component.group, component.name)
    data = OmegaConf.to_container(OmegaConf.load(path))
    data.pop("defaults", None)
    if path.read_text().startswith("# @package _global_"):
        data = data.get(component.group, {})
    return OmegaConf.to_container(OmegaConf.merge(OmegaConf.structured(component.config_cls), data))


def keys(cls: type, values: dict, prefix: str) -> Iterator[Key]:
    """The rows of dataclass ``cls`` with the option's ``values``; a nested config's keys follow its own row."""
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        kind, key = hints[field.name], f"{prefix}{field.name}"
        if dataclasses.is_dataclass(kind):
            yield Key(key, kind.__name__, "", help_of(cls, field.name))
            yield from keys(kind, values[field.name], f"{key}.")
        else:
            yield Key(key, type_text(kind), value_text(values[field.name]), help_of(cls, field.name))


def header(group: str, name: str) -> list[str]:
    """The option file's opening comment, one string per paragraph: what the option is."""
    paragraphs, lines = [], []
    for line in option_file(group, name).read_text().splitlines():
        if not line.startswith("#"):
            break
        if line.startswith(("# @package", POINTER)):
            continue
        text = line.removeprefix("#").strip()
        if text:
            lines.append(text)
        elif lines:
            paragraphs.append(" ".join(lines))
            lines = []
    return [*paragraphs, " ".join(lines)] if lines else paragraphs


def escaped(text: str) -> str:
    """``text`` for a markdown paragraph or table cell: ``|``, ``*``, ``<`` and ``\\`` literal, code spans kept."""
    parts = text.split("`")
    for i in range(0, len(parts), 2):  # outside code spans
        for char in "\\|*<":
            parts[i] = parts[i].replace(char, "\\" + char)
    return "`".join(parts)


def page() -> str:
    """The whole of docs/config.md."""
    groups: dict[str, list[Component]] = {}
    for component in BUILT_IN:
        groups.setdefault(component.group, []).append(component)
    lines = [
        "# Configuration reference",
        "",
        "<!-- Generated by python -m snntrain.core.config_doc --write docs/config.md: edit the dataclasses, not this page. -->",
        "",
        "Every config group, its options and each option's keys with their type, default and help. Each key's",
        "default and help live in one place, a field of the option's dataclass (named below; `snntrain/core/catalog.py`",
        "lists them all); the option file `configs/<group>/<option>.yaml` extends that dataclass and states only what",
        "differs from it. Set a key on the command line as `group.key=value`; `snntrain --cfg job` prints the composed",
        "config. Experiment files (`configs/experiment/`, see [reproduce.md](reproduce.md)) change keys on top; the",
        "top-level keys `T`, `seed` and `paper` are in `configs/train.yaml`.",
        "",
    ]
    lines += [f"- `{group}`: {', '.join(c.name for c in options)}" for group, options in groups.items()]
    for group, options in groups.items():
        lines += ["", f"## {group}"]
        for component in options:
            module, _, cls = component.schema.partition(":")
            lines += ["", f"### {group}={component.name}", ""]
            for paragraph in header(group, component.name):
                lines += [escaped(paragraph), ""]
            lines += [f"Dataclass `{cls}` in `{module}`; file `configs/{group}/{component.name}.yaml`.", ""]
            lines += ["| key | type | default | help |", "|---|---|---|---|"]
            for row in keys(component.config_cls, option_values(component), f"{group}."):
                default = f"`{row.default}`" if row.default else ""
                lines.append(f"| `{row.key}` | {escaped(row.type)} | {default} | {escaped(row.help)} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", type=Path, metavar="MARKDOWN", help="write the page to this file (docs/config.md)")
    action.add_argument("--check", type=Path, metavar="MARKDOWN", help="exit 1 if this file differs from the page (docs/config.md)")
    args = parser.parse_args(argv)
    text = page()
    if args.write:
        args.write.write_text(text)
    elif args.check:
        if not args.check.is_file() or args.check.read_text() != text:
            print(f"{args.check} is stale; run python -m snntrain.core.config_doc --write {args.check}", file=sys.stderr)
            return 1
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
