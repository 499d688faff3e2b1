"""Current-based LIF layer with refractoriness (HM2-BP's neuron); its dynamics, state and
constants are in ``dynamics/cuba.py``, the backends that run them in ``backends.py``."""

from __future__ import annotations

import torch

from snntrain.core.spiking import SpikingModule
from snntrain.neurons import backends
from snntrain.neurons.config import CUBAConfig
from snntrain.neurons.dynamics.cuba import CUBAParams, CUBAState, initial_state


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
