"""Measure the package's import graph: rooms, arrows between rooms, module cycles, upward imports.

    python scripts/import_graph.py            # the summary
    python scripts/import_graph.py --arrows   # and every room-to-room arrow

A *room* is a top-level module or subpackage of ``snntrain``. An *arrow* is a room importing another
(any import statement, also inside functions). A *cycle* is a strongly connected set of modules.
An *upward* import is a room importing one that sits above it in ``LAYERS`` (bottom first).
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

PACKAGE = "snntrain"
# Bottom first: a room may import rooms in its own layer or below it, never above.
LAYERS = [
    {"core"},
    {"storage", "neurons", "layers", "data", "compress"},
    {"models", "methods", "engine", "export"},
    {"app", "saved_run"},  # the composition root: a run planned and built, or read back from disk
    {"repro"},  # tools built on runs: reproduction rows, reports
    {"cli", "api", "report", "__main__", "__init__"},  # the front ends: commands and the Python API
]


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, name: str, is_package: bool) -> set[str]:
    """The names ``path`` imports from ``snntrain`` (absolute and relative): ``a.b`` for ``import a.b``,
    ``a.b.c`` for ``from a.b import c`` (``graph`` resolves that to ``a.b`` when ``c`` is not a module)."""
    tree = ast.parse(path.read_text(), str(path))
    base = name if is_package else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                module = ".".join(anchor + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return {m for m in found if m == PACKAGE or m.startswith(PACKAGE + ".")}


def graph(root: Path) -> dict[str, set[str]]:
    """Module -> the package modules it imports (names resolved to modules that exist)."""
    files = {module_name(p, root): p for p in root.rglob("*.py")}
    edges: dict[str, set[str]] = {}
    for name, path in files.items():
        targets = set()
        for target in imports_of(path, name, path.name == "__init__.py"):
            while target not in files and "." in target:
                target = target.rpartition(".")[0]
            if target in files and target != name:
                targets.add(target)
        edges[name] = targets
    return edges


def room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10000)
    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(found)


def layer_of(name: str) -> int | None:
    return next((i for i, rooms in enumerate(LAYERS) if name in rooms), None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent / PACKAGE)
    parser.add_argument("--arrows", action="store_true", help="list every room-to-room arrow")
    args = parser.parse_args()
    edges = graph(args.root)
    # A package's own __init__ importing its children is not an arrow between rooms.
    arrows = sorted({(room(a), room(b)) for a, targets in edges.items() for b in targets if room(a) != room(b)})
    rooms = sorted({room(m) for m in edges} - {"__init__"})
    upward = [(a, b) for a, b in arrows if None not in (layer_of(a), layer_of(b)) and layer_of(b) > layer_of(a)]
    unlayered = sorted(r for r in rooms if layer_of(r) is None)
    found = cycles(edges)
    print(f"rooms: {len(rooms)}  ({' '.join(rooms)})")
    print(f"arrows between rooms: {len(arrows)}")
    print(f"module cycles: {len(found)}")
    for component in found:
        print("  " + " <-> ".join(component))
    print(f"upward imports: {len(upward)}")
    for a, b in upward:
        print(f"  {a} -> {b}")
    if unlayered:
        print(f"rooms outside LAYERS: {' '.join(unlayered)}")
    if args.arrows:
        for a, b in arrows:
            print(f"  {a} -> {b}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
