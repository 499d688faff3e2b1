"""A model body as HM2-BP stages, and the one autograd function that runs them all.

A stage is one synaptic layer (a ``SynapticLayer``: linear, conv, or a spiking average pool)
followed by its CUBA neuron. The forward pass simulates every stage without a graph over time and saves, through
autograd's saved-tensor hooks (so the trainer's codec and byte meter see them), only what the
backward pass needs: the network input, each stage's output trains once, as bool (they are
also the next stage's input), and one float per neuron, its gain (1 + side) lat. The backward
pass receives dE/ds[t] = dE/do of the output layer (the loss depends on the counts
o = sum_t s[t], so that gradient is the same at every step) and walks the stages in reverse
with ``rules.layer_gradients``, handing each stage dE/do of its inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from snntrain.core.capabilities import SynapticLayer
from snntrain.core.errors import ConfigError
from snntrain.core.spiking import SpikingModule
from snntrain.layers import Flatten
from snntrain.methods.hm2bp.output import force_target_spikes, lateral_factor
from snntrain.methods.hm2bp.psp import PSPKernel, psp_matrix
from snntrain.methods.hm2bp.rules import Fallbacks, layer_gradients, side_effect, time_major_drive
from snntrain.neurons.cuba import CUBA


@dataclass(frozen=True)
class OutputTricks:
    """The output-layer switches of ``method=hm2bp`` a stage needs."""

    lateral_factor: bool
    forced_target_spikes: bool
    desired: float


@dataclass(frozen=True)
class Stage:
    """A synaptic layer and its neuron; ``flatten`` says the input is flattened first; ``delayed``:
    the S-PSP counts input spikes t_ref steps late (``method.psp_delay=official``)."""

    synapse: SynapticLayer
    neuron: CUBA
    flatten: bool
    window_tau_m: float
    delayed: bool

    @property
    def kernel(self) -> PSPKernel:
        p = self.neuron.params
        return PSPKernel(p.tau_m, p.tau_s, p.t_ref, int(self.window_tau_m * p.tau_m), p.t_ref if self.delayed else 0)


def stages_of(body: nn.Sequential, window_tau_m: float, delayed: bool) -> list[Stage]:
    """Split ``body`` into stages; ConfigError names any layer HM2-BP cannot train."""
    stages: list[Stage] = []
    synapse: SynapticLayer | None = None
    flatten = False
    for index, layer in enumerate(body):
        where = f"model.body[{index}] ({type(layer).__name__})"
        if isinstance(layer, Flatten):
            if synapse is not None:
                raise ConfigError(f"method=hm2bp: {where} follows a layer that has no neuron.")
            flatten = True
        elif isinstance(layer, CUBA):
            if synapse is None:
                raise ConfigError(f"method=hm2bp: {where} has no synaptic layer before it.")
            stage = Stage(synapse, layer, flatten, window_tau_m, delayed)
            if stage.kernel.window <= stage.kernel.delay:
                raise ConfigError(
                    f"method.psp_window={window_tau_m} is not allowed: {where} gets a window of {stage.kernel.window} "
                    f"steps, which must exceed the presynaptic delay of {stage.kernel.delay} steps; use a larger method.psp_window."
                )
            stages.append(stage)
            synapse, flatten = None, False
        elif isinstance(layer, SpikingModule):
            raise ConfigError(f"neuron={type(layer).__name__.lower()} is not allowed with method=hm2bp ({where}): it needs the current-based LIF. Set neuron=cuba.")
        else:
            if synapse is not None:
                raise ConfigError(
                    f"method=hm2bp: {where} follows a layer that has no neuron. Every layer needs its own "
                    "spiking neurons: use model.readout=spikes, and model.spiking_pool=true for a CNN."
                )
            if not isinstance(layer, SynapticLayer):
                raise ConfigError(
                    f"method=hm2bp cannot train {where}: it supports linear and conv layers and spiking "
                    "average pooling (model.pool=avg, model.spiking_pool=true, model.batch_norm=false)."
                )
            if getattr(layer, "bias", None) is not None:
                raise ConfigError(f"method=hm2bp: {where} has a bias, which HM2-BP does not train. Set model.bias=false.")
            synapse = layer
    if synapse is not None:
        raise ConfigError("method=hm2bp: the last layer has no neuron; its output must spike. Set model.readout=spikes.")
    return stages


def _compact(x: torch.Tensor) -> tuple[torch.Tensor, bool]:
    """What to save of the network input, exactly: one step of an input repeated over time, bool
    trains, uint8 for small integer counts (event frames with ``values=count``: 4x fewer bytes than
    float32), or x."""
    if x.stride(0) == 0:
        return x[:1], True
    if not bool(((x >= 0) & (x <= 255) & (x == x.trunc())).all()):
        return x, False
    return (x.bool() if bool((x <= 1).all()) else x.to(torch.uint8)), False


@dataclass(frozen=True)
class Run:
    """Everything but tensors that one call of ``NetworkFunction`` needs."""

    stages: list[Stage]
    tricks: OutputTricks
    fallbacks: Fallbacks
    target: torch.Tensor


class NetworkFunction(torch.autograd.Function):
    """``apply(x, run, *weights)``: the output spikes [T, B, C] of all stages; ``weights`` are the
    weights of the stages that have them, in order (autograd returns their gradients)."""

    @staticmethod
    def forward(ctx, x, run: Run, *weights):
        saved_x, ctx.repeated = _compact(x)
        ctx.x_dtype, ctx.steps, ctx.run = x.dtype, x.shape[0], run
        trains, gains, shapes = [], [], []
        out = x
        for index, stage in enumerate(run.stages):
            synapse, neuron = stage.synapse, stage.neuron
            if stage.flatten:
                out = out.flatten(2)
            shapes.append(tuple(out.shape))
            drive = time_major_drive(synapse, out)
            out = neuron(drive)
            last = index == len(run.stages) - 1
            original = out.bool()
            spikes = force_target_spikes(original, run.target, run.tricks.desired, neuron.params.t_ref) if last and run.tricks.forced_target_spikes else original
            if synapse.synaptic_weight is not None:
                dtype = torch.promote_types(drive.dtype, torch.float32)  # at least float32 under autocast
                psp = psp_matrix(spikes, stage.kernel, dtype)
                counts = spikes.view(torch.uint8).sum(0, dtype=dtype)
                side = side_effect(synapse, drive, psp, counts, neuron.threshold, run.fallbacks, shapes[-1][2:])
                lateral = 1.0
                if last and run.tricks.lateral_factor and neuron.params.inhibition:
                    # forced spikes only fill silent neurons, whose kernel was 0 before them
                    lateral = lateral_factor(original, psp * original.any(0), run.target, neuron.threshold, neuron.params.inhibition, run.fallbacks.silent_count_ratio)
                gains.append((1.0 + side) * lateral)
            trains.append(spikes)
        ctx.shapes = shapes
        ctx.save_for_backward(saved_x, *trains, *gains)
        return out

    @staticmethod
    def backward(ctx, grad_spikes):
        run = ctx.run
        saved_x, *rest = ctx.saved_tensors
        trains, gains = rest[: len(run.stages)], iter(rest[len(run.stages) :])
        x = saved_x.to(ctx.x_dtype)
        if ctx.repeated:
            x = x.expand(ctx.steps, *x.shape[1:])
        inputs = [x, *trains[:-1]]
        gain_of = [next(gains) if stage.synapse.synaptic_weight is not None else None for stage in run.stages]
        grad_count = grad_spikes.mean(0)
        weight_grads = []
        for index in range(len(run.stages) - 1, -1, -1):
            stage = run.stages[index]
            weight_grad, input_grad = layer_gradients(
                stage.synapse, inputs[index].reshape(ctx.shapes[index]), trains[index], grad_count, stage.neuron.threshold,
                stage.kernel, run.fallbacks, gain_of[index], need_input=index > 0,
            )
            if weight_grad is not None:
                weight_grads.append(weight_grad.to(stage.synapse.synaptic_weight.dtype))
            if input_grad is not None:
                grad_count = input_grad.reshape(trains[index - 1].shape[1:])
        return (None, None, *reversed(weight_grads))
