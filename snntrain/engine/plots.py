"""A run's pictures, drawn once at its end into ``<run dir>/plots`` beside ``metrics.json``.

``curves.png``: loss and accuracy over epochs; ``firing_rates.png``: each spiking layer's mean
firing rate over epochs; ``saved_bytes.png``: the bytes each layer kept for backward per sample
(last epoch); ``raster.png``: the first spiking layer's output over time for a few test samples.
Matplotlib draws them (``pip install -e .[report]``); without it they are skipped, with one line.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from snntrain import storage
from snntrain.core.errors import StorageError
from snntrain.core.method import GradientMethod
from snntrain.core.spiking import SpikingModule, reset_states
from snntrain.data.pipeline import InputPipeline

log = logging.getLogger("snntrain")

FOLDER = "plots"
RASTER_SAMPLES = 4
RASTER_NEURONS = 256  # the first ones of the layer (flattened): enough to see a pattern, cheap to draw
AFTER = "The plots stop here; the checkpoints and metrics.json are written."


@dataclass
class SpikeSample:
    """The outputs of one spiking layer for a few samples: ``spikes`` ``[T, samples, neurons]``."""

    layer: str
    spikes: torch.Tensor


def record_spikes(model: nn.Module, forward: Callable[[], Any]) -> SpikeSample | None:
    """What the first spiking layer of ``model`` outputs while ``forward()`` runs, its calls joined
    along time; None when it gives no time-major ``[T, B, ...]`` output."""
    name, layer = next(((n, m) for n, m in model.named_modules() if isinstance(m, SpikingModule)), ("", None))
    if layer is None:
        return None
    outputs: list[torch.Tensor] = []

    def keep(module, inputs, output) -> None:
        if isinstance(output, torch.Tensor) and output.dim() >= 3:
            outputs.append(output.detach().float().cpu())

    handle = layer.register_forward_hook(keep)
    try:
        forward()
    finally:
        handle.remove()
    if not outputs:
        return None
    return SpikeSample(name, torch.cat(outputs).flatten(2)[:, :, :RASTER_NEURONS])


@torch.no_grad()
def sample_spikes(model: nn.Module, method: GradientMethod, pipeline: InputPipeline, device: torch.device) -> SpikeSample | None:
    """``record_spikes`` on the first ``RASTER_SAMPLES`` samples of the test split (validation when
    there is no test split), evaluated as ``Trainer.evaluate`` does."""
    split = pipeline.evaluation.get("test") or pipeline.evaluation.get("val")
    if split is None:
        return None
    x, _ = next(iter(split))
    model.eval()
    reset_states(model)
    return record_spikes(model, lambda: method.predict(model, pipeline.inputs(x[:RASTER_SAMPLES], device)))


def write_plots(
    folder: Path, history: list[dict[str, Any]], firing_rates: dict[int, dict[str, float]], spikes: Callable[[], SpikeSample | None],
) -> dict[str, np.ndarray]:
    """Draw the plots of the module docstring into ``folder``; each picture as an RGB ``[3, H, W]``
    array in [0, 1], by name. Skipped with one line without matplotlib; a failed write is one
    warning and the end of the plots (a StorageError is not raised: they are not what a run must leave)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot
    except ImportError:
        log.info("plots skipped: matplotlib is not installed (pip install -e .[report]; logger.plots=false turns them off).")
        return {}
    drawers = {"curves": lambda: curves(pyplot, history), "firing_rates": lambda: rates(pyplot, firing_rates),
               "saved_bytes": lambda: saved_bytes(pyplot, history), "raster": lambda: raster(pyplot, spikes())}
    pictures = {}
    try:
        with storage.guarded(folder, "the plots folder", AFTER):
            folder.mkdir(exist_ok=True)
        for name, draw in drawers.items():
            figure = draw()
            if figure is None:  # nothing to draw (no spiking layer, no saved tensor)
                continue
            try:
                pictures[name] = save(figure, folder / f"{name}.png")
            finally:
                pyplot.close(figure)
    except StorageError as err:
        log.warning(str(err))
    if pictures:
        log.info(f"plots: {', '.join(str(folder / f'{name}.png') for name in pictures)}")
    return pictures


def save(figure, path: Path) -> np.ndarray:
    """Write ``figure`` to ``path`` as a PNG (atomically); the picture as RGB ``[3, H, W]`` in [0, 1]."""
    png = io.BytesIO()
    figure.savefig(png, format="png", dpi=100)
    storage.write_atomic(path, lambda f: f.write(png.getvalue()), "the plot", AFTER)
    figure.canvas.draw()
    return np.asarray(figure.canvas.buffer_rgba())[..., :3].transpose(2, 0, 1) / 255.0


def curves(pyplot, history: list[dict[str, Any]]):
    epochs = [h["epoch"] for h in history]
    figure, (loss, accuracy) = pyplot.subplots(1, 2, figsize=(10, 4))
    loss.plot(epochs, [h["train_loss"] for h in history], marker=".", label="train")
    loss.set(xlabel="epoch", ylabel="loss", title="training loss")
    for split in ("train", "val", "test"):
        values = [h.get(f"{split}_acc") for h in history]
        if any(v is not None for v in values):
            accuracy.plot(epochs, [np.nan if v is None else v for v in values], marker=".", label=split)
    accuracy.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for ax in (loss, accuracy):
        ax.legend()
        ax.grid(alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
    figure.tight_layout()
    return figure


def rates(pyplot, firing_rates: dict[int, dict[str, float]]):
    if not firing_rates:
        return None
    epochs = sorted(firing_rates)
    figure, ax = pyplot.subplots(figsize=(7, 4))
    for layer in dict.fromkeys(name for e in epochs for name in firing_rates[e]):
        ax.plot(epochs, [firing_rates[e].get(layer, np.nan) for e in epochs], marker=".", label=layer)
    ax.set(xlabel="epoch", ylabel="mean firing rate", title="firing rate per spiking layer")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    ax.xaxis.get_major_locator().set_params(integer=True)
    figure.tight_layout()
    return figure


def saved_bytes(pyplot, history: list[dict[str, Any]]):
    per_layer = history[-1].get("saved_bytes_per_sample_per_layer") if history else None
    if not per_layer:
        return None
    layers = list(per_layer)
    figure, ax = pyplot.subplots(figsize=(7, max(2.5, 0.35 * len(layers) + 1)))
    ax.barh(layers, [per_layer[layer] for layer in layers])
    ax.invert_yaxis()  # the first layer on top
    ax.set(xlabel="bytes kept for backward per sample", title=f"saved bytes per layer (epoch {history[-1]['epoch']})")
    ax.grid(alpha=0.3, axis="x")
    figure.tight_layout()
    return figure


def raster(pyplot, sample: SpikeSample | None):
    if sample is None:
        return None
    spikes = sample.spikes.numpy()
    count = spikes.shape[1]
    figure, axes = pyplot.subplots(1, count, figsize=(3 * count, 3.5), squeeze=False, sharey=True)
    for i, ax in enumerate(axes[0]):
        ax.imshow(spikes[:, i].T, aspect="auto", cmap="Greys", interpolation="nearest", vmin=0, vmax=max(1.0, float(spikes.max())))
        ax.set(xlabel="time step", title=f"test sample {i}")
    axes[0][0].set_ylabel(f"{sample.layer}: neuron")
    figure.tight_layout()
    return figure
