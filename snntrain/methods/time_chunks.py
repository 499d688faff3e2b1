"""Graph-free passes over time in chunks: they hold one chunk's activations, not all T steps'.

Rate-BP's spike pass and one-step's first T − k steps keep no graph, yet run as one call they
hold a layer's whole ``[T, B, ...]`` drive and spikes at once: at T = 32 on the conv SNN that
made their peak memory 0.32× / 0.42× of BPTT's although they save 0.031× its bytes. Neurons
carry their state across calls and rate-BP's records accumulate across them, so consecutive
slices of ``CHUNK_STEPS`` steps give what one call gives, for a *time-local* model: one whose
layers compute each step from that step alone (plus the neurons' carried state). BatchNorm in
training mode is not: it normalises a call with the statistics of all of that call's steps, so a
model with it (and a model with an equilibrium layer, which runs all T steps in one call) runs unchunked.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from snntrain.core.capabilities import EquilibriumLayer, layers_with

# Two steps, not more: between slices the neurons' state and rate records are live too, so the peak
# is that of one slice plus the state, and it must not exceed that of a short pass in one call
# (conv SNN, batch 32: rate-BP 66 MB at every T from 4 to 64 with 2-step slices, 64 MB for T = 4
# in one call; 4-step slices gave 102 MB from T = 8 on).
CHUNK_STEPS = 2


def time_local(model: nn.Module) -> bool:
    """Whether ``model`` run on consecutive time slices gives what one call over them gives."""
    batch_statistics = any(isinstance(m, _BatchNorm) and m.training for m in model.modules())
    return not batch_statistics and not layers_with(model, EquilibriumLayer)


def run_in_chunks(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``model(x)`` for ``x`` [T, B, ...], in slices of ``CHUNK_STEPS`` steps when the model is
    time-local and T exceeds two slices (the outputs concatenated over time), else in one call."""
    if x.shape[0] <= 2 * CHUNK_STEPS or not time_local(model):  # two slices or fewer: the calls cost more than they save
        return model(x)
    return torch.cat([model(chunk) for chunk in x.split(CHUNK_STEPS)])
