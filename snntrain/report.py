"""``python -m snntrain.report RUN_DIR...``: the same as ``snntrain-report`` (snntrain/cli/report.py)."""

import sys

from snntrain.cli.report import main

if __name__ == "__main__":
    sys.exit(main())
