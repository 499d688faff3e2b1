"""``model.spec`` of a feedback network, in the IDE paper's notation: ``<input>[-<layer>...]-F<feedback>``.

Tokens: ``400`` a fully connected layer of 400 neurons; ``64C5`` a convolution with 64 filters
of 5x5; ``128DC3`` a transposed convolution with 128 output channels of 3x3. Convolutions take
``s<stride>`` (default 1) and ``p<padding>`` (default (k-1)//2, the official ``SNNConv`` default);
a transposed convolution's output padding is stride - 1, so that it undoes a stride.

The first token maps the input to the first spiking layer (the official ``network_x``); the
tokens between are feed-forward connections inside the loop, each to a further spiking layer
(CIFARNet-F's ``network_s1..s4``); the last, prefixed ``F``, is the feedback connection from
the last spiking layer back to the first, which must restore the first layer's shape.

    400-F400                                   Fashion-MNIST, F400
    64C5s2-F64C5                               MNIST, 64C5s (F64C5)
    128C3s2-256C3-512C3s2-1024C3-512C3-F128DC3s2   CIFAR-10, CIFARNet-F
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from torch import nn

from snntrain.core.errors import ConfigError

_TOKEN = re.compile(r"^(?P<feedback>F)?(?P<width>\d+)(?:(?P<kind>DC|C)(?P<kernel>\d+)(?:s(?P<stride>\d+))?(?:p(?P<padding>\d+))?)?$")
KINDS = {None: "linear", "C": "conv", "DC": "deconv"}


@dataclass(frozen=True)
class Connection:
    """One connection of the network: ``width`` output neurons (or channels) of ``kind``."""

    kind: str  # linear | conv | deconv
    width: int
    kernel: int = 0
    stride: int = 1
    padding: int = 0

    def out_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """The shape of one sample after this connection, for a sample of ``shape``."""
        if self.kind == "linear":
            return (self.width,)
        size = [self._size(n) for n in shape[1:]]
        return (self.width, *size)

    def _size(self, n: int) -> int:
        if self.kind == "conv":
            return (n + 2 * self.padding - self.kernel) // self.stride + 1
        return (n - 1) * self.stride - 2 * self.padding + self.kernel + self.stride - 1

    def module(self, in_shape: tuple[int, ...], bias: bool) -> nn.Module:
        """The torch layer of this connection for inputs of ``in_shape``."""
        if self.kind == "linear":
            return nn.Linear(in_shape[0], self.width, bias=bias)
        if self.kind == "conv":
            return nn.Conv2d(in_shape[0], self.width, self.kernel, self.stride, self.padding, bias=bias)
        return nn.ConvTranspose2d(in_shape[0], self.width, self.kernel, self.stride, self.padding, self.stride - 1, bias=bias)


@dataclass(frozen=True)
class FeedbackSpec:
    """The parsed spec: the shape the input connection sees (the input, flattened for a fully
    connected one) and the shape of every spiking layer (``shapes[i]`` is layer i's)."""

    input_shape: tuple[int, ...]
    inputs: Connection
    layers: tuple[Connection, ...]
    feedback: Connection
    shapes: tuple[tuple[int, ...], ...]

    @property
    def flat_input(self) -> bool:
        """A fully connected first connection sees the input flattened."""
        return self.inputs.kind == "linear"


def parse_token(spec: str, token: str) -> tuple[bool, Connection]:
    match = _TOKEN.match(token)
    numbers = [match[key] for key in ("width", "kernel", "stride")] if match else []
    if not match or any(n is not None and int(n) == 0 for n in numbers):
        raise ConfigError(
            f"model.spec={spec!r} does not parse at {token!r}: use tokens like 400 (a fully connected layer), "
            "64C5s2p1 (64 filters of 5x5, stride 2, padding 1), 128DC3s2 (a transposed convolution), "
            "the last one prefixed F (the feedback connection), joined by '-'."
        )
    kind = KINDS[match["kind"]]
    if kind == "linear":
        return bool(match["feedback"]), Connection(kind, int(match["width"]))
    kernel = int(match["kernel"])
    padding = (kernel - 1) // 2 if match["padding"] is None else int(match["padding"])
    return bool(match["feedback"]), Connection(kind, int(match["width"]), kernel, int(match["stride"] or 1), padding)


def parse_spec(spec: str, input_shape: tuple[int, ...]) -> FeedbackSpec:
    """Parse ``spec`` for inputs of ``input_shape`` ([C, H, W] or [features]); ConfigError says what is wrong."""
    parsed = [parse_token(spec, token) for token in spec.replace(" ", "").split("-")]
    flags = [is_feedback for is_feedback, _ in parsed]
    if len(parsed) < 2 or not flags[-1] or any(flags[:-1]):
        raise ConfigError(
            f"model.spec={spec!r} is not allowed: give the input connection, any layers inside the loop, and "
            "last the feedback connection prefixed F (e.g. 400-F400 or 64C5s2-F64C5)."
        )
    connections = [connection for _, connection in parsed]
    shape = first = input_shape if connections[0].kind != "linear" else (math.prod(input_shape),)
    shapes = []
    for connection in connections[:-1]:
        shape = _checked_shape(spec, connection, shape)
        shapes.append(shape)
    back = _checked_shape(spec, connections[-1], shapes[-1])
    if back != shapes[0]:
        raise ConfigError(
            f"model.spec={spec!r}: the feedback connection maps the last layer {list(shapes[-1])} to {list(back)}, "
            f"but it must restore the first layer's shape {list(shapes[0])}."
        )
    return FeedbackSpec(first, connections[0], tuple(connections[1:-1]), connections[-1], tuple(shapes))


def _checked_shape(spec: str, connection: Connection, shape: tuple[int, ...]) -> tuple[int, ...]:
    if connection.kind != "linear" and len(shape) != 3:
        raise ConfigError(
            f"model.spec={spec!r}: a convolution needs image-shaped input [C, H, W], here {list(shape)}. "
            "Use fully connected tokens (e.g. 400-F400) for this input."
        )
    if connection.kind == "linear" and len(shape) != 1:
        raise ConfigError(f"model.spec={spec!r}: a fully connected token cannot follow a convolution; use convolutions throughout.")
    out = connection.out_shape(shape)
    if min(out) <= 0:
        raise ConfigError(f"model.spec={spec!r} shrinks {list(shape)} to {list(out)}: use smaller kernels or strides.")
    return out

