"""Current-based LIF layer with refractoriness (HM2-BP's neuron); its dynamics, state and
constants are in ``dynamics/cuba.py``, the backends that run them in ``backends.py``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from snntrain.core.checks import one_of, require
from snntrain.core.errors import ConfigError
from snntrain.core.spiking import SpikingModule
from snntrain.neurons import backends
from snntrain.neurons.dynamics.cuba import CUBAParams, CUBAState, initial_state


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
        one_of("neuron.backend", self.backend, backends.CHOICES["cuba"])

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


class CUBA(SpikingModule):
    """Multi-step current-based LIF layer; state (a ``CUBAState``) persists across calls until ``reset()``.

    ``forward`` returns spikes in the drive's dtype (for the next layer); ``simulate`` returns
    them as bool. Neither builds an autograd graph.
    """

    state: CUBAState | None

    def __init__(self, params: CUBAParams, backend: str = "auto") -> None:
        super().__init__()
        self.params = params
        self.backend = backend
        self.register_state("state")

    @property
    def threshold(self) -> float:
        return self.params.threshold

    def simulate(self, drive: torch.Tensor) -> torch.Tensor:
        """Bool spikes [T, B, ...] for ``drive`` [T, B, ...], continuing from the carried state."""
        state = self.state if self.state is not None else initial_state(drive[0])
        spikes, self.state = backends.run("cuba", self.backend, drive, state, self.params)
        return spikes

    def forward(self, drive: torch.Tensor) -> torch.Tensor:
        return self.simulate(drive).to(drive.dtype)

    def extra_repr(self) -> str:
        p = self.params
        return f"tau_m={p.tau_m}, tau_s={p.tau_s}, t_ref={p.t_ref}, threshold={p.threshold}, inhibition={p.inhibition}"


def build_cuba(cfg: CUBAConfig):
    """A factory ``(layer_index, n_layers) -> CUBA``: per-layer thresholds, inhibition in the last layer."""

    def make(index: int, n_layers: int) -> CUBA:
        inhibition = cfg.output_inhibition if index == n_layers - 1 else 0.0
        params = CUBAParams(cfg.tau_m, cfg.tau_s, cfg.t_ref, cfg.threshold_of(index, n_layers), inhibition)
        return CUBA(params, cfg.backend)

    return make
