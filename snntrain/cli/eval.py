"""``snntrain-eval RUN_DIR_OR_CKPT [split=test] [which=best] [key=value ...]``: score a checkpoint
without training.

The model is rebuilt from the config its weights were trained with (the checkpoint's), with the
``key=value`` overrides set: ``T=16`` evaluates at another number of time steps,
``trainer.limit_eval_batches=null`` on the whole split, ``trainer.device=cpu`` on the CPU. An
override of the model's keys (``model.*``) is refused, naming them, as is a checkpoint whose
parameters do not fit. ``split``: ``test`` (default) or ``val``; ``which``: the checkpoint of a run
dir, ``best`` (default) or ``last``. Writes ``eval_<split>_T<T>.json`` into the run dir (docs/python-api.md).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from rich.console import Console

from snntrain.core.errors import SnntrainError, fail
from snntrain.engine.signals import stopping_on_signals

PROG = "snntrain-eval"
OPTIONS = {"split": "test", "which": "best"}  # words of this command, not config keys


def parse(argv: Sequence[str] | None) -> tuple[str, dict[str, str], list[str]]:
    """(the run dir or checkpoint, ``OPTIONS`` as given, the config overrides)."""
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", metavar="RUN_DIR_OR_CKPT", help="a run dir (its checkpoints/<which>.pt) or a checkpoint file")
    parser.add_argument("words", nargs="*", metavar="split=|which=|key=value", help="split=test|val, which=best|last, config overrides")
    args = parser.parse_args(argv)
    options, overrides = dict(OPTIONS), []
    for word in args.words:
        key, _, value = word.partition("=")
        if key in OPTIONS:
            options[key] = value
        else:
            overrides.append(word)
    return args.path, options, overrides


def main(argv: Sequence[str] | None = None) -> int:
    with stopping_on_signals(PROG):
        path, options, overrides = parse(argv)
        from snntrain.api import evaluate
        from snntrain.saved_run import score_file

        try:
            record = evaluate(path, options["split"], overrides, options["which"])
        except SnntrainError as err:
            fail(err, PROG)
        Console(soft_wrap=True).print(
            f"{record['split']} accuracy {record['accuracy']:.4f} ({record['correct']}/{record['samples']}) at T={record['T']}: "
            f"{record['checkpoint']} (epoch {record['epoch']}) -> {score_file(record)}", highlight=False,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
