"""Codecs for the activations autograd saves for backward, and the byte meter.

A codec turns each saved tensor into a stored form and back (``pack``/``unpack``), through
``torch.autograd.graph.saved_tensors_hooks``, so that every gradient method gains from it
without code of its own. The meter counts the bytes of what is stored: the deterministic
``saved_bytes_per_sample`` figure every run logs. Parameters that autograd saves (weights for
the input gradient) are not activations: they pass through uncounted and uncompressed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from snntrain.registry import register


def tensor_bytes(t: torch.Tensor) -> int:
    return t.numel() * t.element_size()


class Codec:
    """The identity codec (``compression=none``); subclasses store tensors more compactly."""

    name = "none"

    def pack(self, t: torch.Tensor) -> object:
        """Return the stored form of ``t``."""
        return t

    def unpack(self, stored: object) -> torch.Tensor:
        """Return the tensor (or its approximation) that ``stored`` holds."""
        return stored

    def stored_bytes(self, stored: object) -> int:
        """Bytes held by the stored form."""
        return tensor_bytes(stored)


@dataclass
class SavedTensorMeter:
    """Running totals of the bytes saved for backward, before (raw) and after (stored) the codec."""

    raw_bytes: int = 0
    stored_bytes: int = 0
    samples: int = 0
    codec_seconds: float = 0.0
    per_layer_raw: dict[str, int] = field(default_factory=dict)
    per_layer_stored: dict[str, int] = field(default_factory=dict)

    def add(self, raw: int, stored: int, layer: str = "total") -> None:
        self.raw_bytes += raw
        self.stored_bytes += stored
        self.per_layer_raw[layer] = self.per_layer_raw.get(layer, 0) + raw
        self.per_layer_stored[layer] = self.per_layer_stored.get(layer, 0) + stored

    def totals(self) -> dict:
        """Plain-value copy of the running totals (stored in checkpoints of a partial epoch)."""
        return asdict(self)

    @property
    def saved_bytes_per_sample(self) -> float:
        return self.stored_bytes / max(self.samples, 1)

    @property
    def compression_ratio(self) -> float:
        return self.raw_bytes / self.stored_bytes if self.stored_bytes else 1.0


@contextmanager
def saving(codec: Codec, meter: SavedTensorMeter, model: nn.Module) -> Iterator[None]:
    """Route every tensor autograd saves inside the block through ``codec``; count its bytes."""
    param_ptrs = {p.data_ptr() for p in model.parameters()}

    def pack(t: torch.Tensor) -> object:
        if t.data_ptr() in param_ptrs or isinstance(t, nn.Parameter):
            return ("param", t)
        start = time.perf_counter()
        stored = codec.pack(t)
        meter.codec_seconds += time.perf_counter() - start
        meter.add(tensor_bytes(t), codec.stored_bytes(stored))
        return ("act", stored)

    def unpack(packed: tuple[str, object]) -> torch.Tensor:
        kind, stored = packed
        return stored if kind == "param" else codec.unpack(stored)

    with torch.autograd.graph.saved_tensors_hooks(pack, unpack):
        yield


@dataclass
class NoCompressionConfig:
    """``compression=none``: saved tensors are kept as they are (and counted)."""

    name: str = "none"


@register("compression", "none", NoCompressionConfig)
def build_none(cfg: NoCompressionConfig) -> Codec:
    return Codec()
