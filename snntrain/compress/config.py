"""The compression schemes' config schemas (``compression=<name>``): dataclasses only, no torch, so
that the CLI can compose and check a config before it imports torch (the codecs are in ``base.py``,
``bitpack.py`` and ``hosvd.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from snntrain.core.checks import in_unit_interval, one_of, require

RECOMPUTE_ALIAS_HELP = "alias of trainer.recompute, kept for existing commands: true turns recomputation on"


@dataclass
class NoCompressionConfig:
    """``compression=none``: saved tensors are kept as they are (and counted)."""

    name: str = field(default="none", metadata={"help": "the option's name (compression=<name> selects it)"})
    recompute: bool = field(default=False, metadata={"help": RECOMPUTE_ALIAS_HELP})


@dataclass
class BitpackConfig:
    """``compression=bitpack``: lossless 1-bit storage of binary saved tensors."""

    name: str = field(default="bitpack", metadata={"help": "the option's name (compression=<name> selects it)"})
    recompute: bool = field(default=False, metadata={"help": RECOMPUTE_ALIAS_HELP})


@dataclass
class HOSVDConfig:
    """``compression=hosvd compression.eps=0.8``: see the module docstring."""

    name: str = field(default="hosvd", metadata={"help": "the option's name (compression=<name> selects it)"})
    eps: float = field(default=0.8, metadata={"help": "explained-variance share kept per mode, in (0, 1]; ‖A−Â‖² ≤ 4(1−ε)‖A‖²"})
    min_numel: int = field(default=1024, metadata={"help": "smaller tensors are kept as they are"})
    layers: list[str] = field(default_factory=list, metadata={"help": "module names (as printed by the model, e.g. [body.0, body.3]); [] = every module in the scope"})
    spikes: str = field(default="none", metadata={"help": "none: binary tensors are decomposed too | bitpack: binary tensors bit-packed, losslessly"})
    recompute: bool = field(default=False, metadata={"help": RECOMPUTE_ALIAS_HELP})
    scope: str = field(default="weight_inputs", metadata={"help": (
        "weight_inputs: only the inputs conv/linear layers save for their weight gradient (the paper's) | all: every saved "
        "float tensor (also each neuron's u - θ, BatchNorm inputs, rate-BP's records)"
    )})

    def __post_init__(self) -> None:
        in_unit_interval("compression.eps", self.eps)
        require(self.min_numel >= 0, "compression.min_numel", self.min_numel, "it must be >= 0")
        one_of("compression.spikes", self.spikes, ["none", "bitpack"])
        one_of("compression.scope", self.scope, ["weight_inputs", "all"])
