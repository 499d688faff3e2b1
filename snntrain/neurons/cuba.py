"""Current-based LIF neuron with refractoriness (METHODS.md §1, HM2-BP's neuron).

Per step, in this order (dt = 1 step):

    I <- I (1 - 1/tau_s);  V <- V (1 - 1/tau_m)      leak
    I <- I + c[t-1]                                  synaptic input, one-step delay
    V <- V + I / tau_s
    if refractory counter > 0: V = 0, counter -= 1
    s[t] = [V > threshold];  on a spike: V = 0, counter = t_ref

``c[t] = W s_in[t]`` is the drive the layer before computes; the one-step delay lives here, so
the neuron keeps the drive of the last step as state. The last spiking layer can carry fixed
lateral inhibition: every spike at t-1 adds ``-output_inhibition`` to the input current of the
other neurons of that layer (HM2-BP's output layer). No autograd graph is built over time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from snntrain.core.checks import one_of, require
from snntrain.core.errors import ConfigError


@dataclass
class CUBAState:
    """What a CUBA layer carries from one call to the next, each [B, ...]."""

    current: torch.Tensor
    voltage: torch.Tensor
    refractory: torch.Tensor  # steps left in the refractory period (float)
    pending: torch.Tensor  # input that arrives at the next step (the one-step delay)


@dataclass(frozen=True)
class CUBAParams:
    """The constants of one CUBA layer's dynamics."""

    tau_m: float
    tau_s: float
    t_ref: int
    threshold: float
    inhibition: float = 0.0

    @property
    def decay_m(self) -> float:
        return 1.0 - 1.0 / self.tau_m

    @property
    def decay_s(self) -> float:
        return 1.0 - 1.0 / self.tau_s


def initial_state(like: torch.Tensor) -> CUBAState:
    """The resting state for one step of ``like`` [B, ...]: no current, no voltage, no input."""
    zeros = torch.zeros_like(like, dtype=torch.float32)
    return CUBAState(zeros, zeros.clone(), zeros.clone(), zeros.clone())


def lateral_input(spikes: torch.Tensor, strength: float) -> torch.Tensor:
    """Input each neuron of [B, N] gets from the spikes (0/1 floats) of the *other* neurons: -strength each."""
    return -strength * (spikes.sum(-1, keepdim=True) - spikes)


@torch.no_grad()
def cuba_multistep(drive: torch.Tensor, state: CUBAState, p: CUBAParams) -> tuple[torch.Tensor, CUBAState]:
    """Reference implementation: run ``drive.shape[0]`` steps; returns bool spikes and the new state.

    ``drive`` is [T, B, ...] (any float dtype, simulated in float32). Lateral inhibition acts
    across the last dimension. Fused backends are tested against this function. The loop uses
    in-place float arithmetic only (masks as 0/1 floats): on CPUs, ops on bool masks cost
    several times more. The refractory counter is a float holding small integers.
    """
    current, voltage = state.current.clone(), state.voltage.clone()
    refractory, pending = state.refractory.clone(), state.pending
    spikes = torch.empty(drive.shape, dtype=torch.bool, device=drive.device)
    free, fired = torch.empty_like(voltage), torch.empty_like(voltage)
    inv_tau_s = 1.0 / p.tau_s
    for t in range(drive.shape[0]):
        current.mul_(p.decay_s).add_(pending)
        voltage.mul_(p.decay_m).add_(current, alpha=inv_tau_s)
        torch.sub(1.0, refractory, out=free).clamp_(min=0.0)  # 1 where the counter is 0
        voltage.mul_(free)
        refractory.sub_(1.0).clamp_(min=0.0)
        torch.sub(voltage, p.threshold, out=fired).clamp_(min=0.0).sign_()  # 1 where V > threshold
        voltage.addcmul_(voltage, fired, value=-1.0)
        refractory.add_(fired, alpha=p.t_ref)
        spikes[t].copy_(fired)
        pending = drive[t].float()
        if p.inhibition:
            pending = pending + lateral_input(fired, p.inhibition)
    return spikes, CUBAState(current, voltage, refractory, pending)


def _fused_impl() -> Callable | None:
    """The Triton kernel's entry point when Triton imports, else None."""
    try:
        from snntrain.neurons.kernels.cuba_triton import cuba_multistep_triton
    except ImportError:
        return None
    return cuba_multistep_triton


BACKENDS = ["auto", "torch", "triton"]


def cuba_impl(backend: str, device: torch.device) -> Callable:
    """``triton`` (CUDA only) or the torch reference; ``auto`` takes Triton on CUDA when it imports."""
    fused = _fused_impl() if device.type == "cuda" and backend in ("auto", "triton") else None
    return fused or cuba_multistep


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
        one_of("neuron.backend", self.backend, BACKENDS)

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


class CUBA(nn.Module):
    """Multi-step current-based LIF layer; state persists across calls until ``reset()``.

    ``forward`` returns spikes in the drive's dtype (for the next layer); ``simulate`` returns
    them as bool. Neither builds an autograd graph.
    """

    is_spiking = True

    def __init__(self, params: CUBAParams, backend: str = "auto") -> None:
        super().__init__()
        self.params = params
        self.backend = backend
        self.state: CUBAState | None = None

    @property
    def threshold(self) -> float:
        return self.params.threshold

    def reset(self) -> None:
        self.state = None

    def detach_state(self) -> None:
        """Nothing to cut: the state never carries a graph."""

    def simulate(self, drive: torch.Tensor) -> torch.Tensor:
        """Bool spikes [T, B, ...] for ``drive`` [T, B, ...], continuing from the carried state."""
        state = self.state if self.state is not None else initial_state(drive[0])
        spikes, self.state = cuba_impl(self.backend, drive.device)(drive, state, self.params)
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
