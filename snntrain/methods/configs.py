"""The config schemas of the single-module methods, ``method=bptt`` (``bptt.py``) and ``method=ratebp``
(``ratebp.py``): dataclasses only, no torch, so that the CLI can compose and check a config before it
imports torch (``hm2bp/`` and ``onestep/`` keep theirs in their own ``config.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from snntrain.core.checks import one_of


@dataclass
class BPTTConfig:
    """``method=bptt``."""

    name: str = field(default="bptt", metadata={"help": "the option's name (method=<name> selects it)"})


GRAD_SCALES = ["1", "1/T"]


@dataclass
class RateBPConfig:
    """``method=ratebp method.grad_scale=1|1/T``."""

    name: str = field(default="ratebp", metadata={"help": "the option's name (method=<name> selects it)"})
    grad_scale: str = field(default="1", metadata={"help": (
        "scale of the loss gradient: 1 | 1/T. The official code uses 1/T, which silently divides the learning rate "
        "by T (SGD); 1 keeps optimizer.lr what it says. With Adam the choice barely matters. The rate-BP rows set 1/T, "
        "with the official learning rate"
    )})

    def __post_init__(self) -> None:
        one_of("method.grad_scale", self.grad_scale, GRAD_SCALES)
