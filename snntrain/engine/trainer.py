"""The one training loop every gradient method shares.

Read top to bottom: for each epoch, train (the method computes gradients, the trainer clips,
steps, logs), evaluate on validation and test, step the schedule, checkpoint. The method never
owns a loop; the trainer never knows which method it runs.
"""

from __future__ import annotations

import json
import logging
import signal
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from snntrain import storage
from snntrain.compress import Codec, SavedTensorMeter, saving
from snntrain.core.errors import SnntrainError
from snntrain.core.method import GradientMethod
from snntrain.core.metrics import FILE as METRICS_FILE
from snntrain.core.metrics import RunMetrics
from snntrain.core.spiking import SpikingModule, reset_states
from snntrain.data.pipeline import InputPipeline
from snntrain.engine import checkpoint, distributed, finetune, plots, resume
from snntrain.engine.config import TrainerConfig
from snntrain.engine.device import resolve_device
from snntrain.engine.epoch_estimate import EpochEstimate
from snntrain.engine.evaluation import correct_and_seen
from snntrain.engine.layout import conv_memory_format
from snntrain.engine.logger import RunLogger
from snntrain.engine.progress import EpochBars
from snntrain.engine.recompute import recomputing
from snntrain.engine.seeding import rng_state, set_rng_state
from snntrain.engine.signals import StopRequest, TrainingInterrupted
from snntrain.engine.training_memory import TrainingMemory

log = logging.getLogger("snntrain")


def build_trainer_config(cfg: TrainerConfig) -> TrainerConfig:
    return cfg


class NonFiniteError(SnntrainError):
    pass


def first_nonfinite(model: nn.Module) -> str | None:
    """Name of the first parameter whose gradient holds a NaN or inf."""
    for name, p in model.named_parameters():
        if p.grad is not None and not torch.isfinite(p.grad).all():
            return name
    return None


class FiringRates:
    """Forward hooks that average each spiking layer's output over an epoch."""

    def __init__(self, model: nn.Module) -> None:
        self.sums: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self.handles = [
            m.register_forward_hook(self._hook(name))
            for name, m in model.named_modules()
            if isinstance(m, SpikingModule)
        ]

    def _hook(self, name: str):
        def hook(module, inputs, output):
            if isinstance(output, torch.Tensor) and output.dim() > 1:
                self.sums[name] = self.sums.get(name, 0.0) + float(output.detach().float().mean())
                self.calls[name] = self.calls.get(name, 0) + 1

        return hook

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()

    def pop(self) -> dict[str, float]:
        rates = {name: self.sums[name] / self.calls[name] for name in self.sums}
        self.sums.clear()
        self.calls.clear()
        return rates


@dataclass
class EpochProgress:
    """How far an interrupted epoch got, so that resuming it reproduces the uninterrupted run."""

    batch: int = 0
    loss_sum: float = 0.0
    correct: int = 0
    seen: int = 0
    applied: int = 0
    counts: dict = field(default_factory=dict)
    elapsed: float = 0.0
    meter: dict = field(default_factory=dict)


@dataclass
class TrainingParts:
    """What is trained and how: everything ``app.plan`` builds from the config but the data."""

    model: nn.Module
    method: GradientMethod
    optimizer: torch.optim.Optimizer
    scheduler: Any
    codec: Codec


@dataclass
class RunContext:
    """Where a run writes, and its place among the processes of a data-parallel group."""

    run_dir: Path
    logger: RunLogger
    rank: int = 0
    world_size: int = 1
    config: dict = field(default_factory=dict)
    """The composed config, resolved: saved in every checkpoint (resuming checks it)."""
    start: resume.Resumption | None = None
    """The checkpoint to continue from (``engine/resume.py``); None: start afresh."""


class Trainer:
    """Fits ``model`` with ``method`` on ``data``; writes checkpoints and ``metrics.json`` to ``run_dir``."""

    def __init__(self, cfg: TrainerConfig, parts: TrainingParts, pipeline: InputPipeline, run: RunContext) -> None:
        self.cfg, self.pipeline, self.run = cfg, pipeline, run
        self.method, self.optimizer, self.scheduler, self.codec = parts.method, parts.optimizer, parts.scheduler, parts.codec
        self.run_dir, self.logger = Path(run.run_dir), run.logger
        self.device = resolve_device(cfg.device)
        self.model = parts.model.to(self.device, memory_format=conv_memory_format(parts.model, self.device, cfg.channels_last))
        self.frozen = finetune.frozen_modules(self.model, cfg.finetune_last)
        self.rank, self.world_size = run.rank, run.world_size
        self.is_main = run.rank == 0
        self.train_loader = pipeline.train
        self.autocast_dtype = {"32": None, "bf16": torch.bfloat16, "16": torch.float16}[str(cfg.precision)]
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.autocast_dtype == torch.float16)
        self.epoch = 0
        self.history: list[dict[str, float]] = []
        self.best: dict[str, float | None] = dict.fromkeys(
            ["selection_score", "best_val_acc", "test_acc_at_best_val", "best_test_acc", "best_epoch"]
        )
        self.ckpt_dir = self.run_dir / checkpoint.FOLDER
        if self.is_main and not self.ckpt_dir.is_dir():  # a Trainer built without make_trainer (which prepares it before reading data)
            prepare_run_dir(self.run_dir)
        self.partial: EpochProgress | None = None
        self.start = run.start

    # ----- one batch -------------------------------------------------------------------------
    def _autocast(self):
        if self.autocast_dtype is None:
            return nullcontext()
        return torch.autocast(self.device.type, dtype=self.autocast_dtype)

    def _recomputing(self, tracker):
        """``trainer.recompute``: the model's spiking blocks run under checkpoint (engine/recompute.py)."""
        return recomputing(self.model, tracker) if self.cfg.recompute else nullcontext()

    def _backward(self, loss: torch.Tensor) -> None:
        self.scaler.scale(loss).backward()

    def _inputs(self, x: torch.Tensor) -> torch.Tensor:
        return self.pipeline.inputs(x, self.device)

    def train_step(self, x: torch.Tensor, y: torch.Tensor, meter: SavedTensorMeter, step: int):
        """One training step on batch ``step`` of the epoch, as the loader gave it (augmented)."""
        finetune.training_mode(self.model, self.frozen, self.cfg.bn_eval)
        reset_states(self.model)
        self.optimizer.zero_grad(set_to_none=True)
        x, y = self._inputs(x), y.to(self.device, non_blocking=True)
        meter.samples += len(y)
        with saving(self.codec, meter, self.model) as tracker, self._recomputing(tracker), self._autocast():
            result = self.method.step(self.model, x, y, backward=self._backward)
        distributed.synchronize(self.model, self.world_size, len(y))
        self.scaler.unscale_(self.optimizer)
        bad = None if torch.isfinite(result.loss) else "loss"
        bad = bad or first_nonfinite(self.model)
        if distributed.any_rank(self.world_size, bad is not None):  # every rank skips (or stops) alike, or weights drift apart
            bad = bad or "another rank's loss or gradient"
            message = f"non-finite value at epoch {self.epoch + 1}, step {step}: first in {bad}"
            if self.cfg.on_nonfinite == "stop":
                raise NonFiniteError(
                    message + ". The last good checkpoint is kept; lower the learning rate, set "
                    "trainer.grad_clip, or use trainer.on_nonfinite=skip_batch."
                )
            self.logger.info(message + "; batch skipped (trainer.on_nonfinite=skip_batch).")
            self.optimizer.zero_grad(set_to_none=True)
            self.scaler.update()
            return result, False
        if self.cfg.grad_clip:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return result, True

    # ----- epochs ----------------------------------------------------------------------------
    def train_epoch(self, progress: EpochBars | None, stop: StopRequest) -> dict[str, Any]:
        """Train one epoch, continuing a partial one saved by an interrupted run."""
        self.train_loader.set_epoch(self.epoch)
        part = self.partial or EpochProgress()
        meter = SavedTensorMeter(**part.meter)
        rates = FiringRates(self.model)
        task = progress.start(f"epoch {self.epoch + 1}/{self.cfg.max_epochs}", len(self.train_loader), part.batch) if progress else None
        start = time.perf_counter() - part.elapsed
        advance = getattr(self.scheduler, "step_batch", None)  # a schedule with a per-step clock (warm-up)
        first_epoch = not self.history and self.is_main
        estimate = EpochEstimate(len(self.train_loader) - part.batch if first_epoch else 0, self.device, self.logger.warning)
        try:
            for x, y in self.train_loader.batches(start=part.batch):
                result, applied = self.train_step(x, y, meter, part.batch)
                estimate.step_done()
                if advance is not None:
                    advance()
                part.batch += 1
                if applied:
                    part.loss_sum += float(result.loss) * len(y)
                    part.correct += int((result.scores.argmax(1).cpu() == y).sum())
                    part.seen += len(y)
                    part.applied += 1
                    for key, value in result.counts.items():  # a method's extra figures, summed
                        part.counts[key] = part.counts.get(key, 0.0) + value
                if applied:
                    self.logger.step(self.epoch * len(self.train_loader) + part.batch, result.loss)
                if progress is not None:
                    rate = meter.samples / max(time.perf_counter() - start, 1e-9)
                    progress.advance(task, f"loss {part.loss_sum / max(part.seen, 1):.4f}  acc {part.correct / max(part.seen, 1):.3f}  {rate:,.0f} samples/s")
                signum = distributed.agreed_stop(self.world_size, stop.signum)
                if signum is not None and part.batch < len(self.train_loader):
                    part.elapsed, part.meter = time.perf_counter() - start, meter.totals()
                    self._interrupt(part, signum)
        finally:
            rates.remove()
        if progress is not None:
            progress.finish(task)
        if part.applied == 0:
            raise NonFiniteError(
                f"every training batch of epoch {self.epoch + 1} was non-finite and skipped (trainer.on_nonfinite=skip_batch): "
                "nothing was trained. Lower the learning rate, set trainer.grad_clip, or check the data."
            )
        self.partial = None
        elapsed = time.perf_counter() - start
        loss_sum, correct, seen = distributed.sum_over_ranks(self.world_size, part.loss_sum, part.correct, part.seen)
        return {
            "train_loss": loss_sum / max(seen, 1),
            "train_acc": correct / max(seen, 1),
            "epoch_time_s": elapsed,
            "train_samples_per_s": meter.samples * self.world_size / max(elapsed, 1e-9),
            "saved_bytes_per_sample": meter.saved_bytes_per_sample,
            "compression_ratio": meter.compression_ratio,
            "codec_seconds": meter.codec_seconds,
            **meter.layer_figures(),
            "firing_rates": rates.pop(),
            **{f"train_{key}": total / part.applied for key, total in part.counts.items()},
        }

    def _interrupt(self, part: EpochProgress, signum: int) -> None:
        """Save the partial epoch to last.pt and stop with the signal's exit code."""
        self.partial = part
        self._save("last.pt")
        name = signal.Signals(signum).name
        raise TrainingInterrupted(
            f"stopped by {name} at epoch {self.epoch + 1}, batch {part.batch}; saved "
            f"{self.ckpt_dir / 'last.pt'}. Resume with the same command plus "
            f"trainer.resume={self.ckpt_dir / 'last.pt'} (or hydra.run.dir={self.run_dir} trainer.resume=auto).",
            signum,
        )

    @torch.no_grad()
    def evaluate(self, name: str) -> float | None:
        """Accuracy on split ``name`` (val or test); None for a split the dataset does not have."""
        if name not in self.pipeline.evaluation:
            return None
        correct, seen = correct_and_seen(self.model, self.method, self.pipeline.evaluation[name], self._inputs, self._autocast)
        correct, seen = distributed.sum_over_ranks(self.world_size, correct, seen)
        return correct / max(seen, 1)

    def fit(self) -> dict[str, Any]:
        """Train to ``trainer.max_epochs`` (resuming if asked); write the metrics (``core/metrics.py``) and return them as a dict."""
        if self.start is not None:
            self._restore(self.start)
            self.start = None  # its copy of the state is not needed any more
        progress = EpochBars(self.logger.console) if self.cfg.progress and self.is_main else None
        memory = TrainingMemory(self.device)
        with StopRequest() as stop, progress or nullcontext():
            while self.epoch < self.cfg.max_epochs:
                record = self.train_epoch(progress, stop)
                record["val_acc"] = self.evaluate("val")
                record["test_acc"] = self.evaluate("test")
                record["lr"] = self.optimizer.param_groups[0]["lr"]
                record["epoch"] = self.epoch + 1
                record["peak_mem_bytes"] = memory.peak()
                record["train_mem_growth_bytes"] = memory.growth()
                self.scheduler.step()
                improved = self._update_best(record)
                self.epoch += 1
                self.history.append({k: v for k, v in record.items() if k != "firing_rates"})
                self._log_epoch(record)
                self._save_epoch(improved)
                signum = distributed.agreed_stop(self.world_size, stop.signum)
                if signum is not None and self.epoch < self.cfg.max_epochs:
                    self._interrupt(EpochProgress(), signum)
        metrics = self.metrics().to_dict()
        if self.is_main:
            storage.write_text_atomic(
                self.run_dir / METRICS_FILE, json.dumps(metrics, indent=2), "the metrics",
                after="Training is done and its checkpoints are written: once that is fixed, the same command "
                "with trainer.resume=auto writes metrics.json without training again.",
            )
            self.logger.finish(metrics, lambda: plots.sample_spikes(self.model, self.method, self.pipeline, self.device))
            self.logger.summary("snntrain summary", {k: v for k, v in metrics.items() if k != "history"})
        self.logger.close()
        return metrics

    # ----- bookkeeping -----------------------------------------------------------------------
    def _update_best(self, record: dict) -> bool:
        """Select on validation accuracy when there is a validation split, else on test accuracy."""
        best = self.best
        if best["best_test_acc"] is None or record["test_acc"] > best["best_test_acc"]:
            best["best_test_acc"] = record["test_acc"]
        has_val = record["val_acc"] is not None
        score = record["val_acc"] if has_val else record["test_acc"]
        if best["selection_score"] is None or score > best["selection_score"]:
            best.update(
                selection_score=score,
                best_val_acc=record["val_acc"],
                test_acc_at_best_val=record["test_acc"] if has_val else None,
                best_epoch=record["epoch"],
            )
            return True
        return False

    def _log_epoch(self, record: dict) -> None:
        step = record["epoch"]
        if self.is_main:
            self.logger.epoch(record)
            val = f"{record['val_acc']:.4f}" if record["val_acc"] is not None else "-"
            self.logger.info(
                f"epoch {step}: loss {record['train_loss']:.4f} train_acc {record['train_acc']:.4f} "
                f"val_acc {val} test_acc {record['test_acc']:.4f} time {record['epoch_time_s']:.2f}s "
                f"{record['train_samples_per_s']:.0f} samples/s saved {record['saved_bytes_per_sample']:.0f} B/sample"
            )

    def metrics(self) -> RunMetrics:
        last = self.history[-1] if self.history else {}
        mean = lambda key: sum(h[key] for h in self.history) / max(len(self.history), 1)  # noqa: E731
        return RunMetrics(
            test_acc=last.get("test_acc"),
            best_val_acc=self.best["best_val_acc"],
            test_acc_at_best_val=self.best["test_acc_at_best_val"],
            best_test_acc=self.best["best_test_acc"],
            best_epoch=self.best["best_epoch"],
            selected_on="val" if self.pipeline.has_val else "test",
            epochs=len(self.history),
            final_train_loss=last.get("train_loss"),
            time_per_epoch_s=mean("epoch_time_s"),
            train_samples_per_s=mean("train_samples_per_s"),
            peak_mem_bytes=max((h["peak_mem_bytes"] for h in self.history), default=0),
            train_mem_growth_bytes=max((g for h in self.history if (g := h.get("train_mem_growth_bytes")) is not None), default=None),
            saved_bytes_per_sample=mean("saved_bytes_per_sample"),
            compression_ratio=mean("compression_ratio"),
            codec_seconds_per_epoch=mean("codec_seconds"),
            device=str(self.device),
            partial_splits=self.pipeline.partial_splits(),
            history=self.history,
        )

    def state(self, rng: list[dict]) -> dict[str, Any]:
        """What a checkpoint holds; ``rng``: every rank's generator state, in rank order."""
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
            "epoch": self.epoch,
            "partial_epoch": asdict(self.partial) if self.partial else None,
            "best": self.best,
            "history": self.history,
            "rng": rng,
            "world_size": self.world_size,
            "config": self.run.config,
        }

    def _save(self, *names: str) -> None:
        """Write the state to ``checkpoints/<name>`` for each name, in order. Every rank calls it (each
        one's generator state is gathered); rank 0 writes."""
        state = self.state(distributed.gather(self.world_size, rng_state()))
        if self.is_main:
            for name in names:
                checkpoint.save_atomic(state, self.ckpt_dir / name)

    def _save_epoch(self, improved: bool) -> None:
        """Write epoch_NNNN.pt, last.pt (and best.pt), then keep the newest ``trainer.keep_checkpoints`` epoch files."""
        self._save(f"epoch_{self.epoch:04d}.pt", "last.pt", *(["best.pt"] if improved else []))
        if self.is_main:
            for old in checkpoint.epoch_files(self.ckpt_dir)[: -self.cfg.keep_checkpoints]:
                try:
                    old.unlink(missing_ok=True)
                except OSError as err:  # the new checkpoints are written: an old one left over is harmless
                    log.warning(f"could not delete {old} ({err.strerror}); it is kept.")

    def _restore(self, start: resume.Resumption) -> None:
        """Continue from ``start``'s checkpoint, applying the allowed config changes (engine/resume.py)."""
        state = start.state
        self.model.load_state_dict(state["model"])
        resume.load_optimizer(self.optimizer, state["optimizer"], keep_saved_lr=not start.replans)
        resume.continue_schedule(self.scheduler, state["scheduler"], state["epoch"], start.replans)
        if state["scaler"]:  # empty when it was saved without fp16: a scaler enabled now starts afresh
            self.scaler.load_state_dict(state["scaler"])
        self.epoch, self.best, self.history = state["epoch"], state["best"], list(state["history"])
        self.partial = EpochProgress(**state["partial_epoch"]) if state.get("partial_epoch") else None
        set_rng_state(state["rng"][self.rank])
        where = f"epoch {self.epoch + 1}, batch {self.partial.batch}" if self.partial else f"the end of epoch {self.epoch}"
        summary = start.summary()
        changed = f" Changed since it was written: {summary}." if summary else ""
        self.logger.info(f"resumed from {start.path} at {where}.{changed}")


def prepare_run_dir(run_dir: Path) -> None:
    """Create the checkpoint folder and delete the temp files killed runs left in it and in the run
    dir (rank 0, before any data is read); a StorageError when the folder cannot be made."""
    folder = Path(run_dir) / checkpoint.FOLDER
    with storage.guarded(folder, "the checkpoint folder", "Nothing was trained; choose another hydra.run.dir or fix that one."):
        folder.mkdir(parents=True, exist_ok=True)
    for stale in [*storage.remove_stale(folder), *storage.remove_stale(Path(run_dir))]:
        log.info(f"removed {stale}, left by a killed run.")
