"""The commands: ``snntrain`` (train.py), ``snntrain-data`` (data.py), ``snntrain-report`` (report.py),
``snntrain-eval`` (eval.py)."""
