"""``python -m snntrain.export RUN_DIR|CHECKPOINT``: the same as ``snntrain-export`` (see cli.py)."""

from snntrain.export.cli import main

if __name__ == "__main__":
    main()
