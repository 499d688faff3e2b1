"""An Optuna sweep as its multirun dir records it, for ``snntrain-report``.

Each job's ``.hydra/hydra.yaml`` holds the sweeper's config (``hydra.sweeper``: its ``_target_``,
``direction``, ``params``, ``n_trials``); Hydra's Optuna sweeper writes ``optimization_results.yaml``
(``best_params``, ``best_value``) into the multirun dir when the study ends. What the study
optimises is what ``snntrain``'s task returns: ``RunMetrics.selection_score()``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from snntrain.repro.rundir import hydra_config, overrides

RESULTS = "optimization_results.yaml"
OBJECTIVE = {
    "val": "the best validation accuracy",
    "test": "the last epoch's test accuracy (no validation split: selected on the test set)",
}


def is_optuna_trial(hydra: DictConfig) -> bool:
    """Whether the run with this ``hydra.yaml`` is a job of an Optuna sweep."""
    return "optuna" in str(OmegaConf.select(hydra, "hydra.sweeper._target_", default="")).lower()


@dataclass
class Trial:
    """One finished job of the sweep: its run dir and number, the values the sampler chose, its objective value."""

    run_dir: Path
    number: int
    params: dict[str, str]
    value: float | None


@dataclass
class Sweep:
    """The sweeper's settings, its trials and its best one."""

    sweep_dir: Path
    direction: str
    study: str | None
    n_trials: int | None
    space: dict[str, str]
    """Each searched key and its search space, as the sweeper config states it."""
    trials: list[Trial]
    best: Trial | None
    best_from_results: bool
    """Whether ``best`` is the one ``optimization_results.yaml`` names (else: the best finished trial so far)."""

    def objective(self, selected_on: Sequence[str | None]) -> str:
        """What the study optimised, for trials selected on ``selected_on`` (``RunMetrics.selected_on``)."""
        splits = sorted({s for s in selected_on if s in OBJECTIVE})
        what = " or ".join(OBJECTIVE[s] for s in splits) or "the selection score"
        return f"{self.direction} RunMetrics.selection_score(): {what}"


def _same(chosen: str, best: Any) -> bool:
    try:
        return float(chosen) == float(best)
    except (TypeError, ValueError):
        return chosen == str(best)


def read_sweep(sweep_dir: Path, jobs: Sequence[tuple[Path, float | None]]) -> Sweep:
    """The sweep in ``sweep_dir`` whose finished jobs are ``jobs``: (run dir, objective value)."""
    sweeper = OmegaConf.to_container(OmegaConf.select(hydra_config(jobs[0][0]), "hydra.sweeper"), resolve=False)
    space = {str(key): str(value) for key, value in (sweeper.get("params") or {}).items()}
    direction = sweeper.get("direction", "maximize")
    direction = direction if isinstance(direction, str) else ", ".join(direction)
    trials = []
    for run_dir, value in jobs:
        chosen = dict(o.split("=", 1) for o in overrides(run_dir) if o.split("=", 1)[0] in space)
        number = OmegaConf.select(hydra_config(run_dir), "hydra.job.num", default=None)
        trials.append(Trial(run_dir, int(number) if number is not None else len(trials), chosen, value))
    trials.sort(key=lambda t: t.number)
    results = sweep_dir / RESULTS
    best = None
    if results.is_file():
        best_params = OmegaConf.to_container(OmegaConf.load(results)).get("best_params") or {}
        best = next((t for t in trials if best_params and all(_same(t.params.get(k, ""), v) for k, v in best_params.items())), None)
    from_results = best is not None
    if best is None:
        finished = [t for t in trials if t.value is not None]
        pick = min if direction == "minimize" else max
        best = pick(finished, key=lambda t: t.value) if finished else None
    return Sweep(sweep_dir, direction, sweeper.get("study_name"), sweeper.get("n_trials"), space, trials, best, from_results)
