"""``snntrain-report RUN_DIR...``: our results beside the papers' figures.

Finds every run under the given run or multirun dirs (a dir holding ``metrics.json`` and
``.hydra/config.yaml``, at any depth), prints one table, and writes ``report.md``, ``report.csv``
and ``report.png`` (matplotlib optional) into ``--out`` (default: the first RUN_DIR).

The paper figure comes from the run's config (``paper.value``, ``paper.source``: the experiment
files set them). Rows without one are comparisons between methods. Accuracies are in %:
"final" is the last epoch's test accuracy, "@best val" the test accuracy at the epoch of best
validation accuracy (the honest selection), "best test" the maximum over epochs (what papers often
report: selected on the test set). Δ = ours − paper, where ours is "@best val" when the run had a
validation split and "final" otherwise. "recipe" says how far the run is from the paper's
official recipe: "official" when its row lists no differences (``paper.differences``), else their
count, "+ overrides" when the command line changed training keys beyond where data lives, which
device runs it and how it logs (``HARMLESS``). "peak memory" is CUDA's most allocated bytes or, on
a CPU, the peak resident set (torch itself is most of it); "growth" is how far training raised it.

Partial runs, whose epochs trainer.limit_batches / limit_eval_batches cut short (``metrics.json``'s
``partial_splits``; smoke runs among them), get a section of their own, with no paper figure and
no Δ. The trials of an Optuna sweep (its multirun dir holds ``optimization_results.yaml``; each
job's ``.hydra/hydra.yaml`` names the sweeper) get one section per sweep: what was optimised (the
selection score, ``RunMetrics.selection_score()``, and the direction), each trial's parameters and
value, and the best trial.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Collection, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from omegaconf import OmegaConf
from rich.console import Console
from rich.table import Table

from snntrain import storage
from snntrain.core.metrics import FILE as METRICS_FILE
from snntrain.core.metrics import RunMetrics
from snntrain.repro.rundir import hydra_config, overrides
from snntrain.repro.sweeps import RESULTS, Sweep, is_optuna_trial, read_sweep

# Overrides that do not change what is trained: where the data is, the device, logging, resuming.
HARMLESS = ("dataset.root=", "dataset.download=", "dataset.workers=", "dataset.progress=", "trainer.device=",
            "trainer.progress=", "trainer.resume=", "logger=", "hydra.", "experiment=")
OURS_NOTE = "ours = test accuracy at the best-validation epoch (final epoch when the run has no validation split)"


@dataclass
class Row:
    """One run, as the report shows it; accuracies in %, None where the run has no such figure."""

    experiment: str
    method: str
    paper: float | None
    recipe: str | None
    final_test: float | None
    test_at_best_val: float | None
    best_test: float | None
    delta: float | None
    epochs: int | None
    time_per_epoch_s: float | None
    samples_per_s: float | None
    peak_mem_bytes: float | None
    train_mem_growth_bytes: float | None
    saved_bytes_per_sample: float | None
    partial: str | None
    """Which splits batch limits cut short ("train 2/40, test 1/10 batches"); None for a full run."""
    selection_score: float | None
    """What a sweep optimises (``RunMetrics.selection_score()``), in %."""
    selected_on: str | None
    sweep_dir: str | None
    """The multirun dir of the Optuna sweep this run is a trial of; None for any other run."""
    paper_source: str | None
    overrides: str
    run_dir: str


COLUMNS = [  # (Row field, label in the markdown table, short label in the console table)
    ("experiment", "experiment", "experiment"),
    ("method", "method", "method"),
    ("paper", "paper %", "paper"),
    ("recipe", "recipe", "recipe"),
    ("final_test", "ours: final test %", "final"),
    ("test_at_best_val", "ours: test @ best val %", "@best val"),
    ("best_test", "ours: best test %", "best test"),
    ("delta", "Δ (ours − paper)", "Δ"),
    ("epochs", "epochs", "epochs"),
    ("time_per_epoch_s", "time/epoch", "s/epoch"),
    ("samples_per_s", "samples/s", "samples/s"),
    ("peak_mem_bytes", "peak memory", "peak mem"),
    ("train_mem_growth_bytes", "memory growth in training", "mem growth"),
    ("saved_bytes_per_sample", "saved bytes/sample", "saved/sample"),
]
PARTIAL_COLUMNS = [  # no paper figure, recipe or Δ: a partial run is not compared with the papers
    *COLUMNS[:2], ("partial", "partial: batches per epoch / in the split", "partial"),
    *(c for c in COLUMNS[2:] if c[0] not in ("paper", "recipe", "delta")),
]


def find_runs(paths: Iterable[Path]) -> list[Path]:
    """Every run dir at or below ``paths`` (has ``metrics.json`` and ``.hydra/config.yaml``), sorted."""
    runs: set[Path] = set()
    for path in paths:
        for metrics in Path(path).rglob(METRICS_FILE):
            if (metrics.parent / ".hydra" / "config.yaml").is_file():
                runs.add(metrics.parent)
    return sorted(runs)


def _percent(value: float | None) -> float | None:
    return None if value is None else 100.0 * value


def _harmless(override: str) -> bool:
    return override.lstrip("+~").startswith(HARMLESS)


def partial_label(splits: dict[str, list[int]]) -> str | None:
    """``{"train": [2, 40]}`` as "train 2/40 batches"; None for a run on whole splits."""
    if not splits:
        return None
    return ", ".join(f"{name} {used}/{whole}" for name, (used, whole) in splits.items()) + " batches"


def recipe(cfg, overrides: list[str]) -> str | None:
    """"official", or how many differences the row lists; "+ overrides" for training keys changed on
    the command line. None for runs that reproduce no paper row."""
    if OmegaConf.select(cfg, "paper.value") is None:
        return None
    listed = len(OmegaConf.select(cfg, "paper.differences", default=None) or [])
    text = "official" if listed == 0 else f"{listed} difference{'s' * (listed != 1)}"
    if not all(_harmless(o) for o in overrides):
        text += " + overrides"
    return text


def read_run(run_dir: Path, shared: Collection[str] = ()) -> Row:
    """The report row of one run dir; ``shared`` overrides (common to its multirun) are left out of its label."""
    cfg = OmegaConf.load(run_dir / ".hydra" / "config.yaml")
    metrics = RunMetrics.read(run_dir)
    hydra = hydra_config(run_dir)
    changed = overrides(run_dir)
    # The overrides that set this run apart name it, besides the experiment (method has its own column).
    distinct = [o for o in changed if o not in shared and not o.startswith("method=") and not _harmless(o)]
    label = OmegaConf.select(hydra, "hydra.runtime.choices.experiment") or f"{cfg.dataset.name}/{cfg.model.name}"
    method = cfg.method.name
    compression = OmegaConf.select(cfg, "compression.name")
    if compression not in (None, "none"):
        method += f"+{compression}"
    paper = OmegaConf.select(cfg, "paper.value")
    final, at_val = _percent(metrics.test_acc), _percent(metrics.test_acc_at_best_val)
    ours = at_val if at_val is not None else final
    compared = paper is not None and ours is not None and not metrics.is_partial()
    return Row(
        experiment=" ".join([label, *distinct]),
        method=method,
        paper=None if paper is None else float(paper),
        recipe=recipe(cfg, changed),
        final_test=final,
        test_at_best_val=at_val,
        best_test=_percent(metrics.best_test_acc),
        delta=ours - float(paper) if compared else None,
        epochs=metrics.epochs,
        time_per_epoch_s=metrics.time_per_epoch_s,
        samples_per_s=metrics.train_samples_per_s,
        peak_mem_bytes=metrics.peak_mem_bytes,
        train_mem_growth_bytes=metrics.train_mem_growth_bytes,
        saved_bytes_per_sample=metrics.saved_bytes_per_sample,
        partial=partial_label(metrics.partial_splits),
        selection_score=_percent(metrics.selection_score()),
        selected_on=metrics.selected_on,
        sweep_dir=str(run_dir.parent) if is_optuna_trial(hydra) else None,
        paper_source=OmegaConf.select(cfg, "paper.source"),
        overrides=" ".join(changed),
        run_dir=str(run_dir),
    )


def collect(paths: Iterable[Path]) -> list[Row]:
    """The rows of every run under ``paths``: reproductions (with a paper figure) first."""
    runs = find_runs(paths)
    by_sweep: dict[Path, list[set[str]]] = {}
    for run in runs:
        by_sweep.setdefault(run.parent, []).append(set(overrides(run)))
    # Overrides every job of a multirun shares (smoke settings, the dataset) do not tell its rows apart.
    shared = {sweep: set.intersection(*jobs) if len(jobs) > 1 else set() for sweep, jobs in by_sweep.items()}
    rows = [read_run(run, shared[run.parent]) for run in runs]
    return sorted(rows, key=lambda row: row.paper is None)


def human_bytes(n: float) -> str:
    units = ["B", "KiB", "MiB", "GiB"]
    i = 0
    while abs(n) >= 1024 and i < len(units) - 1:
        n, i = n / 1024, i + 1
    return f"{n:.0f} B" if i == 0 else f"{n:.1f} {units[i]}"


def cell(field: str, value: object) -> str:
    """How a value reads in the tables (the CSV keeps raw numbers)."""
    if value is None:
        return "—"
    if field == "delta":
        return f"{value:+.2f}"
    if field in ("paper", "final_test", "test_at_best_val", "best_test", "selection_score"):
        return f"{value:.2f}"
    if field == "time_per_epoch_s":
        return f"{value:.2f} s"
    if field == "samples_per_s":
        return f"{value:,.0f}"
    if field in ("peak_mem_bytes", "train_mem_growth_bytes", "saved_bytes_per_sample"):
        return human_bytes(value)
    return str(value)


@dataclass
class Section:
    """One table of the report: its title, the lines said above it, its columns and cells."""

    title: str
    columns: list[tuple[str, str]]
    """(label in the markdown table, short label in the console table)."""
    cells: list[list[str]]
    notes: list[str] = field(default_factory=list)


PARTIAL_NOTE = (
    "Runs whose epochs trainer.limit_batches / trainer.limit_eval_batches cut short (smoke runs among them): "
    "their accuracies are not comparable with a full run's, so they get no paper figure and no Δ."
)


def run_section(title: str, rows: list[Row], columns: list[tuple[str, str, str]], notes: list[str] | None = None) -> Section:
    return Section(title, [(label, short) for _, label, short in columns], [[cell(f, getattr(r, f)) for f, _, _ in columns] for r in rows], notes or [])


def _value(text: str) -> str:
    """A sampled value as the sweep table shows it (floats to 4 significant digits)."""
    try:
        return f"{float(text):.4g}"
    except ValueError:
        return text


TRIAL_COLUMNS = [c for c in COLUMNS if c[0] in ("final_test", "test_at_best_val", "epochs", "time_per_epoch_s", "peak_mem_bytes", "train_mem_growth_bytes")]


def sweep_section(sweep: Sweep, rows: list[Row]) -> Section:
    """An Optuna sweep: what it optimised, each trial's parameters and value, its best trial."""
    by_dir = {Path(r.run_dir): r for r in rows}
    asked = f"{len(sweep.trials)} of {sweep.n_trials} trials finished" if sweep.n_trials else f"{len(sweep.trials)} trials finished"
    notes = [
        f"Objective: {sweep.objective([r.selected_on for r in rows])}.",
        "Search space: " + "; ".join(f"{k}: {v}" for k, v in sweep.space.items()) + f" ({asked}).",
    ]
    if sweep.best is not None:
        params = ", ".join(f"{k}={_value(v)}" for k, v in sweep.best.params.items())
        where = RESULTS if sweep.best_from_results else f"the best finished trial: no {RESULTS} yet"
        notes.append(f"Best trial: {sweep.best.number}, {cell('selection_score', sweep.best.value)} % with {params} ({where}).")
    partial = [r.partial for r in rows if r.partial]
    if partial:
        notes.append(f"Partial trials ({partial[0]}): their values rank settings for this budget only.")
    columns = [("trial", "trial"), *((k, k) for k in sweep.space), ("objective %", "objective"), *((label, short) for _, label, short in TRIAL_COLUMNS)]
    cells = []
    for trial in sweep.trials:
        row = by_dir[trial.run_dir]
        mark = " (best)" if sweep.best is not None and trial.number == sweep.best.number else ""
        cells.append([f"{trial.number}{mark}", *(_value(trial.params.get(k, "—")) for k in sweep.space), cell("selection_score", row.selection_score),
                      *(cell(f, getattr(row, f)) for f, _, _ in TRIAL_COLUMNS)])
    return Section(f"Optuna sweep {sweep.sweep_dir}" + (f" (study {sweep.study})" if sweep.study else ""), columns, cells, notes)


def sections(rows: list[Row]) -> list[Section]:
    """Reproductions of published rows, comparisons between methods (no paper figure), partial runs,
    then each Optuna sweep."""
    alone = [r for r in rows if r.sweep_dir is None]
    full = [r for r in alone if r.partial is None]
    parts = [
        run_section("Reproductions", [r for r in full if r.paper is not None], COLUMNS),
        run_section("Method comparisons", [r for r in full if r.paper is None], COLUMNS),
        run_section("Partial runs (not compared with the papers)", [r for r in alone if r.partial], PARTIAL_COLUMNS, [PARTIAL_NOTE]),
    ]
    trials: dict[str, list[Row]] = {}
    for r in rows:
        if r.sweep_dir is not None:
            trials.setdefault(r.sweep_dir, []).append(r)
    for sweep_dir, group in trials.items():
        sweep = read_sweep(Path(sweep_dir), [(Path(r.run_dir), r.selection_score) for r in group])
        parts.append(sweep_section(sweep, group))
    return [part for part in parts if part.cells]


def markdown(rows: list[Row]) -> str:
    lines = ["# snntrain report", ""]
    for part in sections(rows):
        lines += [f"## {part.title}", ""]
        for note in part.notes:
            lines += [note, ""]
        lines += ["| " + " | ".join(label for label, _ in part.columns) + " |", "|" + "---|" * len(part.columns)]
        lines += ["| " + " | ".join(cells) + " |" for cells in part.cells]
        lines.append("")
    sources = sorted({(r.experiment, r.paper_source) for r in rows if r.paper_source and r.delta is not None})
    if sources:
        lines += ["Sources: " + "; ".join(f"{e}: {s}" for e, s in sources), ""]
    lines += [f"Δ: {OURS_NOTE}. Best test is selected on the test set and reported only because papers do.", ""]
    return "\n".join(lines)


AFTER_FAILED_WRITE = "The runs are untouched; once that is fixed, run snntrain-report again."


def write_csv(rows: list[Row], path: Path) -> None:
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=list(Row.__dataclass_fields__))
    writer.writeheader()
    writer.writerows(asdict(r) for r in rows)
    storage.write_text_atomic(path, text.getvalue(), "the report", AFTER_FAILED_WRITE)


def print_tables(rows: list[Row], console: Console) -> None:
    for part in sections(rows):
        table = Table(title=part.title, caption="test accuracy in %; final / @best val / best test are ours", header_style="bold")
        for i, (_, short) in enumerate(part.columns):
            table.add_column(short, justify="left" if i < 2 else "right")
        for cells in part.cells:
            table.add_row(*cells)
        for note in part.notes:
            console.print(note, markup=False)
        console.print(table)
    console.print(f"Δ: {OURS_NOTE}.", markup=False)


def figure(rows: list[Row], path: Path) -> str | None:
    """Accuracy (ours, and the paper's beside reproductions) and saved bytes per sample per row; a note
    instead if matplotlib is absent."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return f"matplotlib is not installed: {path.name} skipped (pip install -e .[report])."
    labels = [f"{r.experiment}\n{r.method}" + ("\n(partial)" if r.partial else "") for r in rows]
    xs = range(len(rows))
    fig, (acc, mem) = plt.subplots(1, 2, figsize=(max(8.0, 1.6 * len(rows)), 4.5))
    ours = [r.test_at_best_val if r.test_at_best_val is not None else (r.final_test or 0.0) for r in rows]
    acc.bar([x - 0.2 for x in xs], ours, width=0.4, label="ours")
    acc.bar([x + 0.2 for x in xs], [r.paper if r.delta is not None else 0.0 for r in rows], width=0.4, label="paper")
    acc.set_ylabel("test accuracy (%)")
    acc.legend()
    mem.bar(list(xs), [r.saved_bytes_per_sample or 0.0 for r in rows])
    mem.set_ylabel("saved bytes / sample")
    mem.set_yscale("log")
    for ax in (acc, mem):
        ax.set_xticks(list(xs), labels, rotation=30, ha="right", fontsize=7)
    fig.tight_layout()
    try:
        storage.write_atomic(path, lambda f: fig.savefig(f, format="png", dpi=120), "the report figure", AFTER_FAILED_WRITE)
    finally:
        plt.close(fig)
    return None


def wide_console() -> Console:
    """A console for the report; off a terminal (logs, CI) rich would wrap the table at 80 columns."""
    return Console() if sys.stdout.isatty() else Console(width=200)


def write_report(rows: list[Row], out: Path, console: Console) -> list[Path]:
    """Print the tables and write report.md, report.csv and (with matplotlib) report.png to ``out``."""
    with storage.guarded(out, "the report folder", AFTER_FAILED_WRITE):
        out.mkdir(parents=True, exist_ok=True)
    print_tables(rows, console)
    storage.write_text_atomic(out / "report.md", markdown(rows), "the report", AFTER_FAILED_WRITE)
    write_csv(rows, out / "report.csv")
    written = [out / "report.md", out / "report.csv"]
    note = figure(rows, out / "report.png")
    if note:
        console.print(note, markup=False)
    else:
        written.append(out / "report.png")
    console.print("wrote " + ", ".join(str(p) for p in written), markup=False)
    return written
