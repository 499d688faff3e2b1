"""An snntrain network as a NIR graph: one node per layer of its body, in order, after the encoder.

The graph's input is what the encoder hands the network at one step (the image for ``direct``, its
Bernoulli spikes for ``poisson``, one event frame for ``events``), per sample (NIR has no batch
axis). Each layer becomes one node:

    Flatten            -> Flatten(start_dim=0)
    Conv2d (+ BatchNorm2d) -> Conv2d, the BatchNorm folded in (running statistics)
    Linear (+ BatchNorm1d) -> Affine (Linear without a bias)
    AvgPool2d          -> AvgPool2d;  AdaptiveAvgPool2d -> AvgPool2d of the window it averages
    LIF (hard reset)   -> LIF, or IF when it does not leak (export/neurons.py)

The readout is the last node: an Affine whose per-step output the method averages over time
(``model.readout=mean``), or a LIF whose spikes are counted (``spikes``). Anything else (max pooling,
the current-based neuron, reset by subtraction, blocks with skip or feedback connections) is refused
with an ``NIRExportError`` that names the layer.
"""

from __future__ import annotations

from dataclasses import dataclass

import nir
import numpy as np
import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from snntrain.core.spiking import SpikingModule
from snntrain.export.errors import NIRExportError
from snntrain.export.neurons import DT, lif_node
from snntrain.layers import Flatten
from snntrain.models.base import SpikingNet
from snntrain.models.feedback.block import FeedbackBlock
from snntrain.models.resnet import BasicBlock
from snntrain.neurons.cuba import CUBA
from snntrain.neurons.lif import LIF

REFUSED = {
    nn.MaxPool2d: "NIR has no max pooling; train with model.pool=avg",
    CUBA: (
        "the current-based LIF holds its membrane at 0 for neuron.t_ref steps after each spike and takes its input "
        "one step late; NIR's CubaLIF has no refractory period, so the exported network would fire differently. "
        "Train with neuron=lif neuron.reset=hard"
    ),
    BasicBlock: "a residual block (two branches joined by a skip connection); snntrain exports chains of layers only",
    FeedbackBlock: (
        "a feedback (implicit) block: its loop and its readout of the equilibrium firing rates are not a chain of "
        "NIR nodes run step by step"
    ),
}


@dataclass
class Weights:
    """A conv or linear layer on its way into the graph: BatchNorm may still fold into it."""

    module: nn.Module
    weight: torch.Tensor  # float64 while folding
    bias: torch.Tensor
    input_shape: tuple[int, ...]

    def node(self) -> nir.NIRNode:
        weight, bias = self.weight.float().numpy(), self.bias.float().numpy()
        if isinstance(self.module, nn.Linear):
            return nir.Affine(weight=weight, bias=bias) if self.module.bias is not None or bias.any() else nir.Linear(weight=weight)
        m = self.module
        return nir.Conv2d(
            input_shape=self.input_shape[1:], weight=weight, stride=m.stride, padding=m.padding,
            dilation=m.dilation, groups=m.groups, bias=bias,
        )


def to_nir(model: nn.Module, input_shape: tuple[int, ...], dt: float = DT, metadata: dict | None = None) -> nir.NIRGraph:
    """The NIR graph of ``model`` (an ``SpikingNet`` whose body is a chain of layers) for per-sample
    input of ``input_shape``, one snntrain step = ``dt`` seconds; ``metadata`` goes into the graph."""
    if not isinstance(model, SpikingNet) or not isinstance(model.body, nn.Sequential):
        raise NIRExportError(
            f"{type(model).__name__} is not a chain of layers (an snntrain SpikingNet); NIR export covers "
            "model=mlp and model=cnn (and other models built as one chain, e.g. model=vgg11)."
        )
    stages: list[tuple[str, Weights | nir.NIRNode]] = []
    shape = tuple(input_shape)
    for index, module in enumerate(model.body):
        name = f"body.{index}"
        if isinstance(module, _BatchNorm):
            fold_batch_norm(module, name, stages)
            continue
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            stages.append((f"{kind(module)}_{index}", weights(module, name, shape)))
        elif isinstance(module, LIF):
            stages.append((f"lif_{index}", lif_node(module, name, shape, dt)))
        else:
            stages.append((f"{kind(module)}_{index}", stateless_node(module, name, shape)))
        shape = output_shape(module, shape)
    nodes = {"input": nir.Input(input_type={"input": np.array(input_shape)})}
    nodes.update((key, stage.node() if isinstance(stage, Weights) else stage) for key, stage in stages)
    nodes["output"] = nir.Output(output_type={"output": np.array(shape)})
    keys = list(nodes)
    return nir.NIRGraph(nodes=nodes, edges=list(zip(keys[:-1], keys[1:])), metadata=dict(metadata or {}, dt=dt))


def kind(module: nn.Module) -> str:
    """The node-name prefix of a layer: conv, linear, pool or flatten."""
    if isinstance(module, nn.Conv2d):
        return "conv"
    if isinstance(module, nn.Linear):
        return "linear"
    if isinstance(module, (nn.AvgPool2d, nn.AdaptiveAvgPool2d)):
        return "pool"
    return "flatten"


def weights(module: nn.Conv2d | nn.Linear, name: str, shape: tuple[int, ...]) -> Weights:
    if isinstance(module, nn.Conv2d) and module.padding_mode != "zeros":
        raise NIRExportError(f"layer {name} (Conv2d) pads with {module.padding_mode!r}; NIR's Conv2d pads with zeros.")
    weight = module.weight.detach().double().cpu()
    bias = module.bias.detach().double().cpu() if module.bias is not None else torch.zeros(weight.shape[0], dtype=torch.float64)
    return Weights(module, weight, bias, shape)


def fold_batch_norm(norm: _BatchNorm, name: str, stages: list) -> None:
    """Fold ``norm`` (with its running statistics, as in evaluation) into the conv/linear stage before it."""
    previous = stages[-1][1] if stages else None
    if not isinstance(previous, Weights):
        raise NIRExportError(f"layer {name} ({type(norm).__name__}) does not follow a conv or linear layer, so it cannot be folded into one; NIR has no BatchNorm.")
    if norm.running_mean is None:
        raise NIRExportError(f"layer {name} ({type(norm).__name__}) keeps no running statistics, so it normalises each batch by its own; NIR cannot express that.")
    scale = torch.rsqrt(norm.running_var.double().cpu() + norm.eps)
    shift = -norm.running_mean.double().cpu() * scale
    if norm.affine:
        gamma, beta = norm.weight.detach().double().cpu(), norm.bias.detach().double().cpu()
        scale, shift = scale * gamma, shift * gamma + beta
    previous.weight = previous.weight * scale.view(-1, *([1] * (previous.weight.dim() - 1)))
    previous.bias = previous.bias * scale + shift


def stateless_node(module: nn.Module, name: str, shape: tuple[int, ...]) -> nir.NIRNode:
    """The NIR node of a pooling or flatten layer; NIRExportError for any other module."""
    if isinstance(module, Flatten):
        return nir.Flatten(input_type={"input": np.array(shape)}, start_dim=0, end_dim=-1)
    if isinstance(module, nn.AvgPool2d) and not module.ceil_mode and module.divisor_override is None:
        if pair(module.padding) == (0, 0):
            return nir.AvgPool2d(kernel_size=np.array(pair(module.kernel_size)), stride=np.array(pair(module.stride)), padding=np.array([0, 0]))
    if isinstance(module, nn.AdaptiveAvgPool2d):
        out = output_shape(module, shape)[1:]
        if all(n % o == 0 for n, o in zip(shape[1:], out)):
            window = np.array([n // o for n, o in zip(shape[1:], out)])
            return nir.AvgPool2d(kernel_size=window, stride=window, padding=np.array([0, 0]))
    why = next((reason for cls, reason in REFUSED.items() if isinstance(module, cls)), None)
    if why is None:
        why = (f"{type(module).__name__} with these settings has no NIR node" if isinstance(module, (nn.AvgPool2d, nn.AdaptiveAvgPool2d))
               else "it has no NIR node (NIR export covers conv, linear, BatchNorm folded into them, average pooling, flatten and the LIF neuron)")
    raise NIRExportError(f"layer {name} ({type(module).__name__}) cannot be exported to NIR: {why}.")


def pair(value: int | tuple[int, ...]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


@torch.no_grad()
def output_shape(module: nn.Module, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The per-sample output shape of a time-major layer for input ``shape`` (neurons and BatchNorm keep it)."""
    if isinstance(module, SpikingModule) or isinstance(module, _BatchNorm):
        return shape
    probe = next(iter(module.parameters()), torch.zeros(()))
    return tuple(module(torch.zeros((1, 1, *shape), dtype=probe.dtype, device=probe.device)).shape[2:])
