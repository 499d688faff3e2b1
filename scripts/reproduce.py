"""Reproduce a paper's table: run its rows as a Hydra multirun, then ``snntrain-report`` on them.

    python scripts/reproduce.py --table hm2bp|ratebp|onestep|hosvd|all [--smoke] [--out DIR] [-- OVERRIDES]
    python scripts/reproduce.py --experiment NAME [--experiment NAME ...] [--smoke]

A table's rows are the experiment files ``configs/experiment/<table>_*.yaml`` (one per published
row). A row whose config groups are not registered in this install (say, a model not written yet)
is skipped with the reason. Each row's run dir is ``<out>/<experiment name>``; OVERRIDES after
``--`` go to every row (e.g. ``-- hydra/launcher=slurm hydra.launcher.partition=gpu``).

``--smoke`` runs each row for two batches of one epoch at T <= 2 and batch 8, on the row's data
when it is present, otherwise on ``dataset=synthetic`` with the row's input shape and class count
(N-MNIST rows: on a miniature root of random recordings written under ``<out>/smoke_data``), so the
whole pipeline runs on a CPU without any dataset or download. Its accuracies mean nothing: the
report lists smoke runs apart, as partial runs, never beside the papers' figures.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from hydra import compose, initialize_config_module
from hydra.core.global_hydra import GlobalHydra
from hydra.errors import HydraException
from omegaconf import DictConfig
from rich.table import Table

from snntrain.core.errors import SnntrainError
from snntrain.core.registry import build, register_schemas
from snntrain.repro.report import collect, wide_console, write_report
from snntrain.repro.smoke import SMOKE, miniature_root, needs_starting_weights, starting_weights

register_schemas()  # the schemas the configs extend, before anything composes

TABLES = ("hm2bp", "ratebp", "onestep", "hosvd")
SMOKE_T, SMOKE_BATCH = 2, 8


def table_rows(table: str) -> list[str]:
    """The experiment names of ``table`` (every table for ``all``), from the installed configs."""
    folder = resources.files("snntrain.configs") / "experiment"
    names = sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))
    prefixes = TABLES if table == "all" else (table,)
    return [n for n in names if n.startswith(tuple(f"{p}_" for p in prefixes))]


def compose_row(name: str, overrides: Sequence[str] = ()) -> DictConfig | str:
    """The composed config of experiment ``name``, or why it does not compose here."""
    GlobalHydra.instance().clear()
    try:
        with initialize_config_module(config_module="snntrain.configs", version_base="1.3"):
            return compose(config_name="train", overrides=[f"experiment={name}", *overrides])
    except HydraException as err:
        return " ".join(line.strip() for line in str(err).strip().splitlines())


def smoke_overrides(name: str, cfg: DictConfig, out: Path) -> list[str] | str:
    """Overrides that shrink row ``name`` to a smoke run, on stand-in data if its own is absent (a
    miniature root under ``out`` where synthetic data cannot stand in: N-MNIST); a row that
    fine-tunes a trained network starts from its own fresh weights (saved under ``out``)."""
    shrink = [*SMOKE, f"T={min(cfg.T, SMOKE_T)}", f"dataset.batch_size={SMOKE_BATCH}", f"dataset.eval_batch_size={2 * SMOKE_BATCH}"]
    if needs_starting_weights(cfg):
        shrink.append(starting_weights(cfg, out / "starting_weights" / f"{name}.pt"))
    source = build("dataset", cfg.dataset, cfg.seed, cfg.T)
    try:
        source.load()
        return shrink
    except SnntrainError:
        pass
    miniature = miniature_root(cfg.dataset.name, out / "smoke_data" / cfg.dataset.name)
    if miniature is not None:
        return miniature + shrink
    shape = ",".join(str(n) for n in source.info.input_shape)
    stand_in = ["dataset=synthetic", f"dataset.input_shape=[{shape}]", f"dataset.num_classes={source.info.num_classes}"]
    if cfg.dataset.encoder == "events":
        stand_in.append("dataset.encoder=direct")
    if cfg.dataset.get("normalize") is not None:  # a normalised image set: its mean/std keys apply to the stand-in too
        stand_in.append(f"dataset.normalize={cfg.dataset.normalize}")
    composed = compose_row(name, stand_in + shrink)
    if isinstance(composed, str):
        return f"its data is absent and synthetic data does not fit its dataset keys ({composed})"
    return stand_in + shrink


def plan_rows(names: Sequence[str], smoke: bool, out: Path) -> tuple[dict[tuple[str, ...], list[str]], dict[str, str]]:
    """Group the runnable rows by their extra overrides (one multirun per group); say why others are skipped."""
    groups: dict[tuple[str, ...], list[str]] = {}
    skipped: dict[str, str] = {}
    for name in names:
        cfg = compose_row(name)
        extra = smoke_overrides(name, cfg, out) if smoke and not isinstance(cfg, str) else []
        reason = cfg if isinstance(cfg, str) else extra if isinstance(extra, str) else None
        if reason is not None:
            skipped[name] = reason
        else:
            groups.setdefault(tuple(extra), []).append(name)
    return groups, skipped


def run_multirun(names: list[str], overrides: Sequence[str], out: Path) -> int:
    """``snntrain -m experiment=a,b,...`` with one run dir per row under ``out``; its exit status."""
    cmd = [
        sys.executable, "-m", "snntrain", "-m", f"experiment={','.join(names)}", *overrides,
        f"hydra.sweep.dir={out}", "hydra.sweep.subdir=${hydra.runtime.choices.experiment}",
    ]
    return subprocess.run(cmd, check=False).returncode


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    passthrough = argv[argv.index("--") + 1 :] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    rows = parser.add_mutually_exclusive_group(required=True)
    rows.add_argument("--table", choices=[*TABLES, "all"], help="run every row of this paper's table")
    rows.add_argument("--experiment", action="append", help="run this experiment (repeatable)")
    parser.add_argument("--smoke", action="store_true", help="a few batches per row, stand-in data where absent")
    parser.add_argument("--out", type=Path, help="sweep dir (default: multirun/reproduce/<table>-<time>)")
    args = parser.parse_args(argv)
    console = wide_console()
    names = table_rows(args.table) if args.table else args.experiment
    out = args.out or Path("multirun") / "reproduce" / f"{args.table or 'rows'}-{time.strftime('%Y-%m-%d_%H-%M-%S')}"
    groups, skipped = plan_rows(names, args.smoke, out)
    if skipped:
        table = Table("experiment", "skipped because", title="Rows not run", header_style="bold")
        for name, reason in skipped.items():
            table.add_row(name, reason)
        console.print(table)
    if not groups:
        console.print("Nothing to run.")
        return 1
    failed = [n for extra, group in groups.items() if run_multirun(group, [*extra, *passthrough], out) != 0 for n in group]
    results = collect([out])
    if results:
        write_report(results, out, console)
    if failed:
        console.print(f"[bold red]failed:[/] {', '.join(failed)} (see their train.log under {out})")
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())
