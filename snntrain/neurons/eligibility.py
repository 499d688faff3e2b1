"""Rate-BP's spike-pass record of an LIF layer: its firing rate and eligibility (METHODS.md §3).

For a drive that is constant in time, ``c[t] = c̄``, the eligibility is the derivative of the
rate with respect to that constant, with the surrogate standing in for H':

    e = (1/T) Σ_t ∂s[t]/∂c̄ = (1/T) Σ_t sg(u[t] - θ) κ[t],      κ[t] = ∂u[t]/∂c̄

``record_lif`` runs the LIF update of ``dynamics.lif.lif_multistep`` (no graph) together with this
forward-mode derivative, so κ follows the neuron's reset exactly as BPTT differentiates it:

    soft reset, detach_reset:   κ[t+1] = 1 + λ κ[t]
    hard reset, detach_reset:   κ[t+1] = 1 + λ κ[t] (1 - s[t])
    soft reset, no detach:      κ[t+1] = 1 + λ κ[t] (1 - θ sg(u[t] - θ))
    hard reset, no detach:      κ[t+1] = 1 + λ κ[t] (1 - s[t] - u[t] sg(u[t] - θ))

(the last is METHODS.md's hard-reset form). Hence, for any reset, rate-BP reproduces BPTT's
weight gradient of a layer whose input is constant in time and whose rate alone reaches the loss.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from snntrain.neurons.surrogate import SURROGATES


@dataclass
class RateRecord:
    """Running sums over the recorded steps; they carry across calls until the neuron resets."""

    spike_sum: torch.Tensor
    eligibility_sum: torch.Tensor
    state_tangent: torch.Tensor | float
    """∂v/∂c̄ of the carried membrane, so a later call continues the κ recursion."""
    steps: int

    @property
    def rate(self) -> torch.Tensor:
        return self.spike_sum / self.steps

    @property
    def eligibility(self) -> torch.Tensor:
        return self.eligibility_sum / self.steps

    def straight_through(self, drive: torch.Tensor) -> torch.Tensor:
        """``[1, B, ...]`` time-mean drive c̄ -> the recorded rate r̄ as value, ``e`` as derivative.

        Returns ``r̄ + c̄·e - (c̄·e).detach()``.
        """
        ce = drive[0] * self.eligibility
        return (self.rate + ce - ce.detach()).unsqueeze(0)


@torch.no_grad()
def record_lif(
    x: torch.Tensor,
    v0: torch.Tensor | None,
    record: RateRecord | None,
    decay: float,
    threshold: float,
    soft_reset: bool,
    detach_reset: bool,
    surrogate: str,
    alpha: float,
) -> tuple[torch.Tensor, torch.Tensor, RateRecord]:
    """``lif_multistep``'s spikes [T, ...] and final membrane for drive ``x``, and ``record`` extended
    (its sums grow in place).

    The update is lif_multistep's, step for step (a test holds them equal); ``du``, ``ds``, ``dv``
    are the derivatives of u, s, v with respect to a constant drive (``du`` is κ).
    """
    grad_of = SURROGATES[surrogate]
    v = torch.zeros_like(x[0]) if v0 is None else v0
    # dv stays a number while it is the same for every neuron (soft reset with detach_reset).
    dv = record.state_tangent if record is not None and v0 is not None else 0.0
    # A call that continues a record adds its steps to the record's sums (in place: the record it
    # extends is replaced) one by one, so the sums are those of one call over all the steps, to the
    # last bit (time_chunks relies on it).
    if record is not None:
        spike_sum, eligibility_sum = record.spike_sum, record.eligibility_sum
    else:
        spike_sum, eligibility_sum = torch.zeros_like(v), torch.zeros_like(v)
    spikes = torch.empty_like(x)  # written in place: no list of steps to stack (peak memory)
    for t in range(x.shape[0]):
        u = decay * v + x[t]
        du = decay * dv + 1.0
        above = u - threshold
        s = (above >= 0).to(x.dtype)
        ds = grad_of(above, alpha) * du
        if soft_reset:
            v = u - threshold * s
            dv = du if detach_reset else du - threshold * ds
        else:
            v = u * (1.0 - s)
            dv = du * (1.0 - s) if detach_reset else du * (1.0 - s) - u * ds
        spike_sum += s
        eligibility_sum += ds
        spikes[t] = s
    steps = x.shape[0] + (record.steps if record is not None else 0)
    return spikes, v, RateRecord(spike_sum, eligibility_sum, dv, steps)
