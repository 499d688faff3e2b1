"""Shared by the GPU check pieces: the row format, the markdown table, and the combiner.

A piece is ``scripts/device/<name>.py``: it prints a markdown table of rows
``piece, measurement, value, unit, target, note`` and, with ``--json PATH``, writes them there.
Without CUDA it prints rows whose note says 'skipped: ...' and exits 0.
``python scripts/device/_common.py combine DIR`` prints one table of every ``DIR/*.json``
(``scripts/device_check.sh`` calls it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(SCRIPTS))

from bench import markdown  # noqa: E402


def parser(doc: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=doc)
    p.add_argument("--json", type=Path, help="also write the rows to this JSON file")
    p.add_argument("--cpu-dry-run", action="store_true",
                   help="run the GPU code path on the CPU at toy sizes (Triton interpreted) to check the script")
    return p


def dry_run_requested() -> bool:
    """Whether ``--cpu-dry-run`` is on the command line; the interpreter must be set before triton loads."""
    if "--cpu-dry-run" in sys.argv:
        os.environ["TRITON_INTERPRET"] = "1"
        return True
    return False


def row(piece: str, measurement: str, value="", unit: str = "", target: str = "", note: str = "") -> dict:
    return {"piece": piece, "measurement": measurement, "value": value, "unit": unit, "target": target, "note": note}


def emit(rows: list[dict], json_path: Path | None) -> int:
    """Print the table, write the JSON; the exit status of a piece (0: it ran or skipped)."""
    print(markdown(rows))
    if json_path is not None:
        json_path.write_text(json.dumps(rows, indent=2))
    return 0


def combine(folder: Path) -> int:
    rows: list[dict] = []
    for path in sorted(folder.glob("*.json")):
        rows += json.loads(path.read_text())
    print(markdown(rows))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "combine":
        raise SystemExit("usage: python scripts/device/_common.py combine DIR")
    raise SystemExit(combine(Path(sys.argv[2])))
