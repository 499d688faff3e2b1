"""``python -m snntrain.report RUN_DIR...``: the same as ``snntrain-report`` (see snntrain/repro/report.py)."""

import sys

from snntrain.repro.report import main

if __name__ == "__main__":
    sys.exit(main())
