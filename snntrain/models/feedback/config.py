"""``model=feedback``'s config schema: a dataclass only, no torch, so that the CLI can compose and
check a config before it imports torch (the network is in ``model.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from snntrain.core.checks import one_of, positive, require

INPUT_AVERAGES = ["official", "weighted"]


@dataclass
class FeedbackConfig:
    """``model=feedback model.spec=64C5s2-F64C5 model.batch_norm=true model.dropout=0.2``."""

    name: str = field(default="feedback", metadata={"help": "the option's name (model=<name> selects it)"})
    spec: str = field(default="256-F256", metadata={"help": (
        "input[-layer...]-F<feedback>: 400-F400 (F400), 64C5s2-F64C5, 64C5s2p1-F64C5, "
        "128C3s2-256C3-512C3s2-1024C3-512C3-F128DC3s2 (CIFARNet-F). <n>: n neurons fully connected; "
        "<n>C<k>: n filters k×k; <n>DC<k>: transposed conv; s<stride> p<padding> (default (k-1)//2); "
        "F: the feedback connection from the last layer to the first"
    )})
    bias: bool = field(default=True, metadata={"help": "bias in the input and loop connections and the readout (the feedback has none)"})
    batch_norm: bool = field(default=False, metadata={"help": "BatchNorm after the input and loop connections (official: true); not on the feedback"})
    dropout: float = field(default=0.0, metadata={"help": (
        "variational dropout after every connection: one mask per sample and neuron for the whole batch, "
        "the same at every step (official rows: 0.2)"
    )})
    spectral_norm: bool = field(default=False, metadata={"help": (
        "true: W_s = clamp(g, -1, 1)·w/σ(w) through training, σ by one power iteration per forward (the official "
        "weight_spectral_norm: ‖W_s‖ ≤ 1 once the power iteration has caught up, a few batches after initialisation); "
        "false: a plain weight"
    )})
    contraction: float | None = field(default=0.5, metadata={"help": (
        "spectral_norm=false only: scale W_s once at initialisation to ‖W_s‖₂/θ = contraction "
        "(null: the official init, U(-1,1) rows scaled to unit norm, as every connection)"
    )})
    input_average: str = field(default="official", metadata={"help": (
        "time-varying input, leaky neurons, training: official = as the official code's in-place averaging "
        "(last simulated frame := the λ-weighted mean m; equilibrium pass input (1+λ^T)·Σ_{k<T} λ^k x[T-1-k] / Σ_{k≤T} λ^k); "
        "weighted = m for both"
    )})

    def __post_init__(self) -> None:
        require(0.0 <= self.dropout < 1.0, "model.dropout", self.dropout, "it must be in [0, 1)")
        one_of("model.input_average", self.input_average, INPUT_AVERAGES)
        if self.contraction is not None:
            positive("model.contraction", self.contraction)
            require(
                not self.spectral_norm, "model.contraction", self.contraction,
                "with model.spectral_norm=true the feedback weight starts as the official re-parametrisation sets it; "
                "set model.contraction=null (or model.spectral_norm=false to scale a plain weight once)",
            )
