"""Benchmarks: ``python scripts/bench.py SUITE [options]`` (``make bench`` runs them all).

Each suite lives in ``scripts/benchsuites/<suite>.py`` and defines ``add_arguments(parser)``
and ``run(args) -> list[dict]`` (one row per measurement). Speed targets are checked here,
never in tests; results are printed as a markdown table and written with ``--json PATH``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchsuites  # noqa: E402


def suites() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(benchsuites.__path__) if not m.name.startswith("_"))


def markdown(rows: list[dict]) -> str:
    if not rows:
        return "(no rows)"
    keys = list(dict.fromkeys(k for row in rows for k in row))
    fmt = lambda v: f"{v:.4g}" if isinstance(v, float) else str(v)  # noqa: E731
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(fmt(row.get(k, "")) for k in keys) + " |" for row in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="suite")
    for name in suites():
        module = importlib.import_module(f"benchsuites.{name}")
        p = sub.add_parser(name, help=(module.__doc__ or "").strip().splitlines()[0])
        p.add_argument("--json", type=Path, help="write the rows to this JSON file")
        p.add_argument("--markdown", type=Path, help="write the table to this markdown file")
        module.add_arguments(p)
    sub.add_parser("all", help="every suite with its defaults").add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if args.suite is None:
        parser.print_help()
        return 2
    names = suites() if args.suite == "all" else [args.suite]
    rows: list[dict] = []
    for name in names:
        module = importlib.import_module(f"benchsuites.{name}")
        suite_args = args if args.suite != "all" else parser.parse_args([name])
        rows += module.run(suite_args)
    table = markdown(rows)
    print(table)
    if getattr(args, "markdown", None):
        args.markdown.write_text(table + "\n")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
