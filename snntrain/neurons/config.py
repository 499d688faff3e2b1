"""The neurons' config schemas (``neuron=<name>``): dataclasses only, no torch, so that the CLI can
compose and check a config before it imports torch (the layers are in ``lif.py`` and ``cuba.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from snntrain.core.checks import one_of, positive, require
from snntrain.core.errors import ConfigError

SURROGATE_NAMES = ("sigmoid", "atan", "triangle")
"""The ``neuron.surrogate`` values: the keys of ``surrogate.SURROGATES``."""
BACKEND_CHOICES = {"lif": ["auto", "torch", "triton", "compile"], "cuba": ["auto", "torch", "triton"]}
"""The ``neuron.backend`` values of each dynamics (``scan`` is ``auto``'s, not a config choice)."""
DEFAULT_TAU = 2.0


@dataclass
class LIFConfig:
    """``neuron=lif``. The leak lambda comes from ``tau`` (lambda = 1 - 1/tau; ``DEFAULT_TAU`` when
    neither is set) or from ``decay`` directly; setting both is an error, since one would be ignored."""

    name: str = field(default="lif", metadata={"help": "the option's name (neuron=<name> selects it)"})
    tau: float | None = field(default=None, metadata={"help": f"membrane time constant τ: λ = 1 - 1/τ (null: τ = DEFAULT_TAU = {DEFAULT_TAU:g}, unless decay is set)"})
    decay: float | None = field(default=None, metadata={"help": "or set λ directly, e.g. 0.2 as in rate-BP (setting both tau and decay is an error)"})
    threshold: float = field(default=1.0, metadata={"help": "firing threshold θ: s = H(u - θ)"})
    reset: str = field(default="soft", metadata={"help": "soft (v -= θ s) | hard (v = 0 on a spike)"})
    detach_reset: bool = field(default=True, metadata={"help": "no gradient through the reset term"})
    surrogate: str = field(default="sigmoid", metadata={"help": "surrogate gradient of the spike: sigmoid | atan | triangle"})
    alpha: float = field(default=4.0, metadata={"help": "surrogate sharpness"})
    backend: str = field(default="auto", metadata={"help": "auto | torch | triton | compile"})

    def __post_init__(self) -> None:
        require(
            self.tau is None or self.decay is None, "neuron.tau", self.tau,
            f"neuron.decay={self.decay} sets the leak already; set one of them (the other null)",
        )
        if self.tau is not None:
            require(self.tau >= 1.0, "neuron.tau", self.tau, "it must be >= 1 (lambda = 1 - 1/tau)")
        if self.decay is not None:
            require(0.0 <= self.decay <= 1.0, "neuron.decay", self.decay, "it must be in [0, 1]")
        positive("neuron.threshold", self.threshold)
        one_of("neuron.reset", self.reset, ["soft", "hard"])
        one_of("neuron.surrogate", self.surrogate, sorted(SURROGATE_NAMES))
        positive("neuron.alpha", self.alpha)
        one_of("neuron.backend", self.backend, BACKEND_CHOICES["lif"])

    @property
    def lam(self) -> float:
        if self.decay is not None:
            return self.decay
        return 1.0 - 1.0 / (self.tau if self.tau is not None else DEFAULT_TAU)


@dataclass
class CUBAConfig:
    """``neuron=cuba``. ``threshold`` is one number for every layer or one per spiking layer."""

    name: str = field(default="cuba", metadata={"help": "the option's name (neuron=<name> selects it)"})
    tau_m: float = field(default=64.0, metadata={"help": "membrane time constant (steps)"})
    tau_s: float = field(default=8.0, metadata={"help": "synaptic time constant (steps)"})
    t_ref: int = field(default=2, metadata={"help": "refractory period (steps)"})
    threshold: Any = field(default=15.0, metadata={"help": "one number for all spiking layers, or a list: one per layer, e.g. [20, 8]"})
    output_inhibition: float = field(default=1.0, metadata={"help": "fixed lateral inhibition -w0 among the last layer's neurons (HM2-BP: 1; 0 = none)"})
    backend: str = field(default="auto", metadata={"help": "auto (Triton kernel on CUDA when it imports) | torch | triton"})

    def __post_init__(self) -> None:
        require(self.tau_m > 1.0, "neuron.tau_m", self.tau_m, "it must be > 1 (steps)")
        require(self.tau_s > 1.0, "neuron.tau_s", self.tau_s, "it must be > 1 (steps)")
        require(self.tau_s != self.tau_m, "neuron.tau_s", self.tau_s, "it must differ from neuron.tau_m (the PSP kernel divides by 1 - tau_s/tau_m)")
        require(isinstance(self.t_ref, int) and self.t_ref >= 1, "neuron.t_ref", self.t_ref, "an integer >= 1 (steps)")
        values = self.threshold if isinstance(self.threshold, list) else [self.threshold]
        require(
            len(values) > 0 and all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in values),
            "neuron.threshold", self.threshold, "a number > 0 or a list of them, one per spiking layer",
        )
        require(self.output_inhibition >= 0, "neuron.output_inhibition", self.output_inhibition, "it must be >= 0")
        one_of("neuron.backend", self.backend, BACKEND_CHOICES["cuba"])

    def threshold_of(self, index: int, n_layers: int) -> float:
        """The threshold of spiking layer ``index`` of ``n_layers``; ConfigError if the list does not fit."""
        if not isinstance(self.threshold, list):
            return float(self.threshold)
        if len(self.threshold) != n_layers:
            raise ConfigError(
                f"neuron.threshold={self.threshold} has {len(self.threshold)} values but the model has "
                f"{n_layers} spiking layers: give one number per layer, or a single number for all."
            )
        return float(self.threshold[index])
