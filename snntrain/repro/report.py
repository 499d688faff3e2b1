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
device runs it and how it logs (``HARMLESS``).
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Collection, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from omegaconf import OmegaConf
from rich.console import Console
from rich.table import Table

from snntrain import storage
from snntrain.core.metrics import FILE as METRICS_FILE
from snntrain.core.metrics import RunMetrics

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
    saved_bytes_per_sample: float | None
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
    ("saved_bytes_per_sample", "saved bytes/sample", "saved/sample"),
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


def _overrides(run_dir: Path) -> list[str]:
    path = run_dir / ".hydra" / "overrides.yaml"
    return [str(o) for o in OmegaConf.load(path)] if path.is_file() else []


def _experiment(run_dir: Path) -> str | None:
    path = run_dir / ".hydra" / "hydra.yaml"
    if not path.is_file():
        return None
    return OmegaConf.select(OmegaConf.load(path), "hydra.runtime.choices.experiment")


def recipe(cfg, overrides: list[str]) -> str | None:
    """"official", or how many differences the row lists; "+ overrides" for training keys changed on
    the command line. None for runs that reproduce no paper row."""
    if OmegaConf.select(cfg, "paper.value") is None:
        return None
    listed = len(OmegaConf.select(cfg, "paper.differences", default=None) or [])
    text = "official" if listed == 0 else f"{listed} difference{'s' * (listed != 1)}"
    if any(not o.lstrip("+~").startswith(HARMLESS) for o in overrides):
        text += " + overrides"
    return text


def read_run(run_dir: Path, shared: Collection[str] = ()) -> Row:
    """The report row of one run dir; ``shared`` overrides (common to its multirun) are left out of its label."""
    cfg = OmegaConf.load(run_dir / ".hydra" / "config.yaml")
    metrics = RunMetrics.read(run_dir)
    overrides = _overrides(run_dir)
    # The overrides that set this run apart name it, besides the experiment (method has its own column).
    distinct = [o for o in overrides if o not in shared and not o.startswith(("method=", "experiment="))]
    label = _experiment(run_dir) or f"{cfg.dataset.name}/{cfg.model.name}"
    method = cfg.method.name
    compression = OmegaConf.select(cfg, "compression.name")
    if compression not in (None, "none"):
        method += f"+{compression}"
    paper = OmegaConf.select(cfg, "paper.value")
    final, at_val = _percent(metrics.test_acc), _percent(metrics.test_acc_at_best_val)
    ours = at_val if at_val is not None else final
    return Row(
        experiment=" ".join([label, *distinct]),
        method=method,
        paper=None if paper is None else float(paper),
        recipe=recipe(cfg, overrides),
        final_test=final,
        test_at_best_val=at_val,
        best_test=_percent(metrics.best_test_acc),
        delta=None if paper is None or ours is None else ours - float(paper),
        epochs=metrics.epochs,
        time_per_epoch_s=metrics.time_per_epoch_s,
        samples_per_s=metrics.train_samples_per_s,
        peak_mem_bytes=metrics.peak_mem_bytes,
        saved_bytes_per_sample=metrics.saved_bytes_per_sample,
        paper_source=OmegaConf.select(cfg, "paper.source"),
        overrides=" ".join(overrides),
        run_dir=str(run_dir),
    )


def collect(paths: Iterable[Path]) -> list[Row]:
    """The rows of every run under ``paths``: reproductions (with a paper figure) first."""
    runs = find_runs(paths)
    by_sweep: dict[Path, list[set[str]]] = {}
    for run in runs:
        by_sweep.setdefault(run.parent, []).append(set(_overrides(run)))
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
    if field in ("paper", "final_test", "test_at_best_val", "best_test"):
        return f"{value:.2f}"
    if field == "time_per_epoch_s":
        return f"{value:.2f} s"
    if field == "samples_per_s":
        return f"{value:,.0f}"
    if field in ("peak_mem_bytes", "saved_bytes_per_sample"):
        return human_bytes(value)
    return str(value)


def sections(rows: list[Row]) -> list[tuple[str, list[Row]]]:
    """Reproductions of published rows, then comparisons between methods (no paper figure)."""
    parts = [("Reproductions", [r for r in rows if r.paper is not None]), ("Method comparisons", [r for r in rows if r.paper is None])]
    return [(title, part) for title, part in parts if part]


def markdown(rows: list[Row]) -> str:
    lines = ["# snntrain report", ""]
    for title, part in sections(rows):
        lines += [f"## {title}", "", "| " + " | ".join(label for _, label, _ in COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
        lines += ["| " + " | ".join(cell(f, getattr(r, f)) for f, _, _ in COLUMNS) + " |" for r in part]
        lines.append("")
    sources = sorted({(r.experiment, r.paper_source) for r in rows if r.paper_source})
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
    for title, part in sections(rows):
        table = Table(title=title, caption="test accuracy in %; final / @best val / best test are ours", header_style="bold")
        for field, _, short in COLUMNS:
            table.add_column(short, justify="left" if field in ("experiment", "method") else "right")
        for r in part:
            table.add_row(*(cell(f, getattr(r, f)) for f, _, _ in COLUMNS))
        console.print(table)
    console.print(f"Δ: {OURS_NOTE}.", markup=False)


def figure(rows: list[Row], path: Path) -> str | None:
    """Accuracy (ours vs paper) and saved bytes per sample per row; a note instead if matplotlib is absent."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return f"matplotlib is not installed: {path.name} skipped (pip install -e .[report])."
    labels = [f"{r.experiment}\n{r.method}" for r in rows]
    xs = range(len(rows))
    fig, (acc, mem) = plt.subplots(1, 2, figsize=(max(8.0, 1.6 * len(rows)), 4.5))
    ours = [r.test_at_best_val if r.test_at_best_val is not None else (r.final_test or 0.0) for r in rows]
    acc.bar([x - 0.2 for x in xs], ours, width=0.4, label="ours")
    acc.bar([x + 0.2 for x in xs], [r.paper or 0.0 for r in rows], width=0.4, label="paper")
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
