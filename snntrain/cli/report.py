"""``snntrain-report RUN_DIR...``: set runs' results beside the papers' numbers (snntrain/repro/report.py)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from snntrain.core.errors import SnntrainError, fail
from snntrain.repro import report
from snntrain.repro.report import collect, wide_console, write_report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="snntrain-report", description=report.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dirs", nargs="+", type=Path, metavar="RUN_DIR", help="run or multirun dirs (searched recursively)")
    parser.add_argument("--out", type=Path, help="where report.md/.csv/.png go (default: the first RUN_DIR)")
    args = parser.parse_args(argv)
    console = wide_console()
    rows = collect(args.run_dirs)
    if not rows:
        Console(stderr=True).print(
            f"[bold red]snntrain-report:[/] no runs under {', '.join(map(str, args.run_dirs))} "
            "(a run dir holds metrics.json and .hydra/config.yaml).", highlight=False
        )
        return 2
    try:
        write_report(rows, args.out or args.run_dirs[0], console)
    except SnntrainError as err:
        fail(err, "snntrain-report")
    return 0


if __name__ == "__main__":
    sys.exit(main())
