"""One module per benchmark suite (see scripts/bench.py)."""
