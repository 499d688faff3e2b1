"""CUBA dynamics (current-based LIF with refractoriness, METHODS.md §1, HM2-BP's neuron): the
torch reference ``cuba_multistep``, the state it carries and its constants.

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

from dataclasses import dataclass

import torch


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
