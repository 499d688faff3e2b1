"""Codecs for the activations autograd saves for backward, and the byte meter.

A codec turns each saved tensor into a stored form and back (``pack``/``unpack``), through
``torch.autograd.graph.saved_tensors_hooks``, so that every gradient method gains from it
without code of its own. The meter counts the bytes of what is stored: the deterministic
``saved_bytes_per_sample`` figure every run logs, in total and per layer (the innermost module
whose forward saved the tensor; ``outside`` for tensors saved outside the model). Parameters
that autograd saves (weights for the input gradient) are not activations: they pass through
uncounted and uncompressed.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from snntrain.compress.config import NoCompressionConfig
from snntrain.compress.layers import OUTSIDE, LayerTracker


def tensor_bytes(t: torch.Tensor) -> int:
    return t.numel() * t.element_size()


class StoredForm(ABC):
    """A saved tensor held in a compact form; ``restore()`` gives the tensor (or its approximation)."""

    ranks: tuple[int, ...] | None = None
    """Tucker ranks per mode for a decomposition, None for other forms."""

    @property
    @abstractmethod
    def nbytes(self) -> int:
        """Bytes held by this form."""

    @abstractmethod
    def restore(self) -> torch.Tensor:
        """The tensor this form holds, with its original shape, dtype and device."""


class Codec:
    """The identity codec (``compression=none``); subclasses store tensors more compactly."""

    name = "none"

    def check(self, model: nn.Module, method) -> None:  # noqa: B027  (optional: most codecs take any model)
        """Raise ConfigError when the codec's settings do not fit ``model`` trained by ``method`` (before any data is read)."""

    def attach(self, model: nn.Module) -> None:
        """Called by ``saving`` before ``model`` runs: a codec that treats layers differently looks at it here."""

    def pack(self, t: torch.Tensor, layer: str | None = None) -> torch.Tensor | StoredForm:
        """Return the stored form of ``t``, which the module named ``layer`` saved (None: outside the model)."""
        return t

    def unpack(self, stored: torch.Tensor | StoredForm) -> torch.Tensor:
        """Return the tensor (or its approximation) that ``stored`` holds."""
        return stored.restore() if isinstance(stored, StoredForm) else stored

    def stored_bytes(self, stored: torch.Tensor | StoredForm) -> int:
        """Bytes held by the stored form."""
        return stored.nbytes if isinstance(stored, StoredForm) else tensor_bytes(stored)


@dataclass
class SavedTensorMeter:
    """Running totals of the bytes saved for backward, before (raw) and after (stored) the codec.

    ``codec_seconds`` is the host time spent packing and unpacking (on CUDA, without a device
    synchronisation: kernel time that overlaps is not in it).
    """

    raw_bytes: int = 0
    stored_bytes: int = 0
    samples: int = 0
    codec_seconds: float = 0.0
    per_layer_raw: dict[str, int] = field(default_factory=dict)
    per_layer_stored: dict[str, int] = field(default_factory=dict)
    rank_sums: dict[str, int] = field(default_factory=dict)
    rank_counts: dict[str, int] = field(default_factory=dict)

    def add(self, raw: int, stored: int, layer: str = OUTSIDE, ranks: tuple[int, ...] | None = None) -> None:
        self.raw_bytes += raw
        self.stored_bytes += stored
        self.per_layer_raw[layer] = self.per_layer_raw.get(layer, 0) + raw
        self.per_layer_stored[layer] = self.per_layer_stored.get(layer, 0) + stored
        for mode, rank in enumerate(ranks or ()):
            key = f"{layer}/mode{mode}"
            self.rank_sums[key] = self.rank_sums.get(key, 0) + rank
            self.rank_counts[key] = self.rank_counts.get(key, 0) + 1

    def totals(self) -> dict:
        """Plain-value copy of the running totals (stored in checkpoints of a partial epoch)."""
        return asdict(self)

    @property
    def saved_bytes_per_sample(self) -> float:
        return self.stored_bytes / max(self.samples, 1)

    @property
    def compression_ratio(self) -> float:
        return self.raw_bytes / self.stored_bytes if self.stored_bytes else 1.0

    def layer_figures(self) -> dict[str, dict[str, float]]:
        """Per-layer figures for the epoch record: compression ratio, stored bytes per sample,
        and the mean Tucker rank of each mode (``<layer>/mode<j>``; empty without HOSVD)."""
        return {
            "compression_ratio_per_layer": {
                layer: raw / self.per_layer_stored[layer] if self.per_layer_stored[layer] else 1.0
                for layer, raw in self.per_layer_raw.items()
            },
            "saved_bytes_per_sample_per_layer": {
                layer: stored / max(self.samples, 1) for layer, stored in self.per_layer_stored.items()
            },
            "hosvd_rank_per_layer": {key: total / self.rank_counts[key] for key, total in self.rank_sums.items()},
        }


@contextmanager
def saving(codec: Codec, meter: SavedTensorMeter, model: nn.Module) -> Iterator[LayerTracker]:
    """Route every tensor autograd saves inside the block through ``codec``; count its bytes per layer.

    Yields the tracker that names the layer running now (``trainer.recompute`` attributes the
    blocks it keeps with it, engine/recompute.py).
    """
    param_ptrs = {p.data_ptr() for p in model.parameters()}
    tracker = LayerTracker(model)
    codec.attach(model)

    def pack(t: torch.Tensor) -> tuple[str, object]:
        if t.data_ptr() in param_ptrs or isinstance(t, nn.Parameter):
            return ("param", t)
        layer = tracker.current
        start = time.perf_counter()
        with torch.no_grad():
            stored = codec.pack(t.detach(), layer)
        meter.codec_seconds += time.perf_counter() - start
        ranks = stored.ranks if isinstance(stored, StoredForm) else None
        meter.add(tensor_bytes(t), codec.stored_bytes(stored), layer or OUTSIDE, ranks)
        return ("act", stored)

    def unpack(packed: tuple[str, object]) -> torch.Tensor:
        kind, stored = packed
        if kind == "param":
            return stored
        start = time.perf_counter()
        with torch.no_grad():
            t = codec.unpack(stored)
        meter.codec_seconds += time.perf_counter() - start
        return t

    try:
        with torch.autograd.graph.saved_tensors_hooks(pack, unpack):
            yield tracker
    finally:
        tracker.remove()


def build_none(cfg: NoCompressionConfig) -> Codec:
    return Codec()
