"""``RunMetrics``: the record a run writes as ``metrics.json``, and the one every reader parses.

The trainer builds it, ``snntrain-report`` and ``snntrain.train``'s callers read it; a renamed field
breaks its readers loudly (an AttributeError in a test) instead of blanking a column. Accuracies are
fractions in [0, 1]; a figure the run has not got is ``None``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

FILE = "metrics.json"


@dataclass
class RunMetrics:
    test_acc: float | None = None
    """Test accuracy after the last epoch."""
    best_val_acc: float | None = None
    """The best validation accuracy (None without a validation split)."""
    test_acc_at_best_val: float | None = None
    """Test accuracy at the epoch of best validation accuracy: the honest selection."""
    best_test_acc: float | None = None
    """The best test accuracy over epochs (selected on the test set, as papers often report)."""
    best_epoch: int | None = None
    """The epoch ``best.pt`` holds (best validation accuracy, else best test accuracy)."""
    selected_on: str | None = None
    """``val`` or ``test``: the split ``best_epoch`` was chosen on."""
    epochs: int = 0
    final_train_loss: float | None = None
    time_per_epoch_s: float | None = None
    train_samples_per_s: float | None = None
    peak_mem_bytes: int = 0
    """CUDA: the most bytes allocated during training; CPU: the process's peak resident set size
    during training (on Linux; elsewhere over the process's life), which holds torch itself."""
    train_mem_growth_bytes: int | None = None
    """How far training raised memory above what was in use when it began: ``peak_mem_bytes`` less
    the bytes allocated (CUDA) or resident (CPU) then. None where it cannot be measured (a CPU
    without ``/proc``); the largest over the processes of a resumed run. On a CPU, memory an earlier
    run of the same process freed stays resident and is reused (engine/host_memory.py), so the
    later jobs of an in-process multirun read low."""
    saved_bytes_per_sample: float | None = None
    """Bytes autograd kept for backward per training sample, after the codec."""
    compression_ratio: float | None = None
    codec_seconds_per_epoch: float | None = None
    device: str | None = None
    partial_splits: dict[str, list[int]] = field(default_factory=dict)
    """The splits whose epochs ``trainer.limit_batches`` / ``trainer.limit_eval_batches`` cut short:
    split -> [batches per epoch, batches in the whole split], e.g. ``{"train": [2, 4]}``. Empty when
    every epoch used whole splits. Smoke runs (``snntrain.repro.smoke.SMOKE``) are partial: their
    accuracies are not comparable with a full run's, and the report keeps them apart."""
    history: list[dict[str, Any]] = field(default_factory=list)
    """One record per epoch (train_loss, train_acc, val_acc, test_acc, lr, epoch, ... and per-layer figures)."""

    def selection_score(self) -> float | None:
        """What a sweep optimises: the best validation accuracy when there is one, else the last test accuracy."""
        return self.best_val_acc if self.best_val_acc is not None else self.test_acc

    def is_partial(self) -> bool:
        """Whether batch limits cut any split short (``partial_splits``)."""
        return bool(self.partial_splits)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> RunMetrics:
        """The record in ``values``; keys of another version of snntrain that this one lacks are left out."""
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in values.items() if key in known})

    @classmethod
    def read(cls, run_dir: Path) -> RunMetrics:
        return cls.from_dict(json.loads((Path(run_dir) / FILE).read_text()))
