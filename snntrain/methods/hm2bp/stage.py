"""A model body as HM2-BP stages, and the autograd function that runs one stage.

A stage is one synaptic layer (linear, conv, or a spiking average pool) followed by its CUBA
neuron. Its forward pass simulates the layer without a graph over time and saves only what
the backward pass needs, through autograd's saved-tensor hooks (so the trainer's codec and
byte meter see it): the input trains and output trains as bool, two [B, N] factors, and the
weight. Its backward pass receives dE/ds[t] = dE/do (the loss depends on counts o = sum_t s[t],
so the gradient is the same at every step), applies ``rules.layer_gradients``, and hands the
previous stage dE/do of its inputs, again broadcast over time.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from snntrain.errors import ConfigError
from snntrain.layers import Flatten
from snntrain.methods.hm2bp.output import force_target_spikes, lateral_factor
from snntrain.methods.hm2bp.psp import PSPKernel, psp_matrix
from snntrain.methods.hm2bp.rules import Fallbacks, Rule, layer_gradients, rule_for, side_effect
from snntrain.neurons.cuba import CUBA


@dataclass(frozen=True)
class OutputTricks:
    """The output-layer switches of ``method=hm2bp`` a stage needs."""

    lateral_factor: bool
    forced_target_spikes: bool
    desired: float


@dataclass(frozen=True)
class Stage:
    """A synaptic layer and its neuron; ``flatten`` says the input is flattened first."""

    rule: Rule
    neuron: CUBA
    flatten: bool
    window_tau_m: float

    @property
    def kernel(self) -> PSPKernel:
        p = self.neuron.params
        return PSPKernel(p.tau_m, p.tau_s, p.t_ref, int(self.window_tau_m * p.tau_m))


def stages_of(body: nn.Sequential, window_tau_m: float) -> list[Stage]:
    """Split ``body`` into stages; ConfigError names any layer HM2-BP cannot train."""
    stages: list[Stage] = []
    rule: Rule | None = None
    flatten = False
    for index, layer in enumerate(body):
        where = f"model.body[{index}] ({type(layer).__name__})"
        if isinstance(layer, Flatten):
            if rule is not None:
                raise ConfigError(f"method=hm2bp: {where} follows a layer that has no neuron.")
            flatten = True
        elif isinstance(layer, CUBA):
            if rule is None:
                raise ConfigError(f"method=hm2bp: {where} has no synaptic layer before it.")
            stages.append(Stage(rule, layer, flatten, window_tau_m))
            rule, flatten = None, False
        elif getattr(layer, "is_spiking", False):
            raise ConfigError(f"method=hm2bp needs neuron=cuba; {where} is another neuron. Set neuron=cuba.")
        else:
            if rule is not None:
                raise ConfigError(
                    f"method=hm2bp: {where} follows a layer that has no neuron. Every layer needs its own "
                    "spiking neurons: use model.readout=spikes, and model.spiking_pool=true for a CNN."
                )
            rule = rule_for(layer)
            if rule is None:
                raise ConfigError(
                    f"method=hm2bp cannot train {where}: it supports linear and conv layers and spiking "
                    "average pooling (model.pool=avg, model.spiking_pool=true, model.batch_norm=false)."
                )
            if getattr(layer, "bias", None) is not None:
                raise ConfigError(f"method=hm2bp: {where} has a bias, which HM2-BP does not train. Set model.bias=false.")
    if rule is not None:
        raise ConfigError("method=hm2bp: the last layer has no neuron; its output must spike. Set model.readout=spikes.")
    return stages


def _compact(x: torch.Tensor, input_is_spikes: bool) -> tuple[torch.Tensor, bool]:
    """What to save of a stage input: one step of an input repeated over time, bool trains, or x."""
    if x.stride(0) == 0:
        return x[:1], True
    if input_is_spikes or bool(((x == 0) | (x == 1)).all()):
        return x.bool(), False
    return x, False


class StageFunction(torch.autograd.Function):
    """``apply(x, weight, stage, tricks, fallbacks, target, input_is_spikes)``: spikes [T, B, out...].

    ``tricks`` and ``target`` (the labels) are given to the output stage only.
    """

    @staticmethod
    def forward(ctx, x, weight, stage: Stage, tricks: OutputTricks | None, fallbacks: Fallbacks, target, input_is_spikes: bool):
        rule, neuron = stage.rule, stage.neuron
        drive = rule.time_major_drive(x)
        out = neuron(drive)
        spikes = out.bool()
        lateral = None
        if tricks is not None:
            if tricks.lateral_factor and neuron.params.inhibition:
                lateral = lateral_factor(spikes, target, stage.kernel, neuron.threshold, neuron.params.inhibition, fallbacks.silent_count_ratio)
            if tricks.forced_target_spikes:
                spikes = force_target_spikes(spikes, target, tricks.desired, neuron.params.t_ref)
        side = None
        if weight is not None:
            counts = spikes.sum(0).to(drive.dtype)
            psp = psp_matrix(spikes, stage.kernel, drive.dtype)
            side = side_effect(rule, drive, psp, counts, neuron.threshold, fallbacks, tuple(x.shape[2:]))
        saved_x, ctx.repeated = _compact(x, input_is_spikes)
        ctx.x_dtype, ctx.steps = x.dtype, x.shape[0]
        ctx.stage, ctx.fallbacks = stage, fallbacks
        ctx.has_side, ctx.has_lateral = side is not None, lateral is not None
        ctx.save_for_backward(saved_x, spikes, *(t for t in (side, lateral) if t is not None))
        return out

    @staticmethod
    def backward(ctx, grad_spikes):
        saved_x, spikes, *factors = ctx.saved_tensors
        side = factors.pop(0) if ctx.has_side else None
        lateral = factors.pop(0) if ctx.has_lateral else None
        x = saved_x.to(ctx.x_dtype)
        if ctx.repeated:
            x = x.expand(ctx.steps, *x.shape[1:])
        stage = ctx.stage
        weight_grad, input_grad = layer_gradients(
            stage.rule, x, spikes, grad_spikes.mean(0), stage.neuron.threshold, stage.kernel,
            ctx.fallbacks, side, lateral, need_input=ctx.needs_input_grad[0],
        )
        if input_grad is not None:
            input_grad = input_grad.unsqueeze(0).expand(ctx.steps, *input_grad.shape)
        return input_grad, weight_grad, None, None, None, None, None
