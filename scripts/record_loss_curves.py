"""Re-record the stored per-step loss curves after a deliberate change of the numerics.

    python scripts/record_loss_curves.py            # every case
    python scripts/record_loss_curves.py bptt hm2bp # some

Writes ``tests/regression/loss_curves/<case>.json`` (the overrides, torch's version, the thread count
and the losses); ``tests/regression/test_loss_curves.py`` compares new runs with them. The cases and
the runner live in ``tests/regression/curves.py``. Commit the new files with the change that moved them.
"""

from __future__ import annotations

import os

os.environ["OMP_NUM_THREADS"] = "1"  # before torch is imported; the runner also sets torch's intra-op threads

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.regression import curves  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cases", nargs="*", metavar="CASE", help=f"default: all of {', '.join(curves.CASES)}")
    args = parser.parse_args(argv)
    unknown = [case for case in args.cases if case not in curves.CASES]
    if unknown:
        parser.error(f"unknown case {', '.join(unknown)}; the cases: {', '.join(curves.CASES)}")
    for case in args.cases or curves.CASES:
        start = time.perf_counter()
        entry = curves.record(case)
        print(f"{case}: {len(entry['losses'])} steps, loss {entry['losses'][0]:.4f} -> {entry['losses'][-1]:.4f}, "
              f"{time.perf_counter() - start:.1f} s -> {curves.path(case).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
