"""``trainer.recompute=true`` (alias ``compression.recompute=true``): autograd keeps each spiking block's input; the rest is recomputed.

A spiking block is a run of body layers from one spike tensor to the next: the body of a
``SpikingNet`` cut after every layer that contains a neuron (``[pool ->] conv/linear -> [BN ->]
neuron``, or a whole residual block), and the layers after the last neuron (the readout) as the
last block. Each block runs under non-reentrant ``torch.utils.checkpoint``, so what autograd
keeps of it goes through the codec's saved-tensor hooks as the block's inputs only: the input
spikes (1 bit each under ``bitpack``) and, when a call continues from an earlier one (one-step's
differentiated steps), the state its neurons start from (their ``SpikingModule.snapshot()``: the
LIF membranes; state held in a structure rather than a tensor is kept by reference, uncounted).
The drives, BatchNorm inputs and membranes of the T steps are recomputed in backward, one block
at a time.

The recomputation reproduces the forward exactly: each spiking module is restored to the state it
started from in the forward and is left in the state it was found in; BatchNorm normalises with
the same batch statistics, and its running statistics keep the values the forward gave them.
The meter counts a block's inputs at its first layer with weights (whose weight gradient needs
them), else at its first layer. Without grad mode (evaluation, rate-BP's spike pass) checkpoint
keeps nothing and the blocks simply run.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.utils.checkpoint import checkpoint

from snntrain.compress.layers import LayerTracker
from snntrain.core.capabilities import RATE, EquilibriumLayer, RateRecording, layers_with, switched
from snntrain.core.errors import ConfigError
from snntrain.core.spiking import SpikingModule

SWITCHES = ("rate_pass",)
"""Module attributes a forward depends on that a method changes before backward (rate-BP leaves
rate mode first): the recomputation runs with the values the forward had."""


def spiking_blocks(body: nn.Sequential) -> list[list[nn.Module]]:
    """The layers of ``body`` in order, cut after each layer that contains a neuron."""
    blocks: list[list[nn.Module]] = [[]]
    for layer in body:
        blocks[-1].append(layer)
        if any(isinstance(m, SpikingModule) for m in layer.modules()):
            blocks.append([])
    return [block for block in blocks if block]


def check_recompute(model: nn.Module, method) -> None:
    """ConfigError unless every block of ``model`` can be recomputed for ``method``'s gradients."""
    if not getattr(method, "autograd_through_model", True):
        raise ConfigError(
            f"trainer.recompute=true (or compression.recompute=true) does not apply to method={method.name}: it computes its own "
            "gradients outside autograd's graph, so there is no forward to recompute (it already keeps "
            "only spike trains). Set trainer.recompute=false and compression.recompute=false."
        )
    if layers_with(model, EquilibriumLayer):
        raise ConfigError(
            "trainer.recompute=true (or compression.recompute=true) needs a feed-forward model; this one has a feedback layer "
            "(model=feedback), whose equilibrium and implicit gradient are not a block to recompute. "
            "Set trainer.recompute=false and compression.recompute=false."
        )


def _starting_state(module: SpikingModule) -> dict[str, Any]:
    """The state ``module``'s next forward starts from: its snapshot, or nothing for a neuron in
    rate-BP's rate pass, which reads only its records and changes no state."""
    return {} if isinstance(module, RateRecording) and module.rate_pass == RATE else module.snapshot()


class _Block:
    """One block's forward: what checkpoint runs in the forward pass and again in backward."""

    def __init__(self, layers: list[nn.Module], steps: int | None) -> None:
        self.layers = layers
        self.steps = steps
        """T when the input was passed as its first step only (time-constant input), else None."""
        modules = [m for layer in layers for m in layer.modules()]
        self.neurons = [m for m in modules if isinstance(m, SpikingModule)]
        self.start_names: list[tuple[str, ...]] = []
        """Per neuron, the names of the state it starts from (the values go through checkpoint only)."""
        self.norms = [m for m in modules if isinstance(m, _BatchNorm) and m.training and m.track_running_stats]
        self.switches = [(m, name, getattr(m, name)) for m in modules for name in SWITCHES if hasattr(m, name)]
        self.ran = False

    def start_values(self) -> list[Any]:
        """The values of the states the neurons start from, in order, for checkpoint to keep (the
        tensors through the codec); the block keeps only their names."""
        starts = [_starting_state(n) for n in self.neurons]
        self.start_names = [tuple(start) for start in starts]
        return [value for start in starts for value in start.values()]

    def __call__(self, x: torch.Tensor, *start_values: Any) -> torch.Tensor:
        if not self.ran:
            self.ran = True
            return self._run(x)
        with self._replaying(start_values):
            return self._run(x)

    def _run(self, x: torch.Tensor) -> torch.Tensor:
        if self.steps is not None:
            x = x.expand(self.steps, *x.shape[1:])
        for layer in self.layers:
            x = layer(x)
        return x

    @contextmanager
    def _replaying(self, start_values: tuple[Any, ...]) -> Iterator[None]:
        """Neurons restart from ``start_values`` (as ``start_values()`` gave them), switches are as in
        the forward; afterwards neurons, switches and running statistics are as before.

        BatchNorm runs as in the forward (the same saved tensors, which checkpoint checks) and its
        buffers are then given back the values they had, undoing the second update.
        """
        carried = [n.snapshot() for n in self.neurons]
        switched_now = [(m, name, getattr(m, name)) for m, name, _ in self.switches]
        buffers = [b for m in self.norms for b in m.buffers(recurse=False)]
        values = [b.clone() for b in buffers]
        given = iter(start_values)
        for neuron, names in zip(self.neurons, self.start_names):
            neuron.restore({name: next(given) for name in names})
        for m, name, value in self.switches:
            setattr(m, name, value)
        try:
            yield
        finally:
            for neuron, state in zip(self.neurons, carried):
                neuron.restore(state)
            for m, name, value in switched_now:
                setattr(m, name, value)
            with torch.no_grad():
                for buffer, value in zip(buffers, values):
                    buffer.copy_(value)


class BlockRecompute:
    """Runs a body block by block under checkpoint (a ``SpikingNet.body_runner``)."""

    def __init__(self, tracker: LayerTracker) -> None:
        self.tracker = tracker

    def __call__(self, body: nn.Sequential, x: torch.Tensor) -> torch.Tensor:
        for layers in spiking_blocks(body):
            x = self._checkpointed(layers, x)
        return x

    def _checkpointed(self, layers: list[nn.Module], x: torch.Tensor) -> torch.Tensor:
        constant = x.shape[0] > 1 and x.stride(0) == 0  # the direct encoder's input: keep one step, not T
        block = _Block(layers, x.shape[0] if constant else None)
        owner = next((layer for layer in layers if next(layer.parameters(), None) is not None), layers[0])
        with self.tracker.inside(owner):
            # early_stop=False: the stop signal is an exception raised inside the neuron, which a
            # fused backend's fallback guard would take for a failure (the block ends in the neuron
            # anyway, so stopping early would save nothing).
            return checkpoint(block, x[:1] if constant else x, *block.start_values(), use_reentrant=False, early_stop=False)


@contextmanager
def recomputing(model: nn.Module, tracker: LayerTracker) -> Iterator[None]:
    """Within the block, every ``SpikingNet`` in ``model`` runs its body under ``BlockRecompute``."""
    with switched([m for m in model.modules() if hasattr(m, "body_runner")], "body_runner", BlockRecompute(tracker)):
        yield
