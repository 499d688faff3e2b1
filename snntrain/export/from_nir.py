"""A NIR graph as an snntrain network: the inverse of ``to_nir`` for chains of NIR nodes.

    Flatten(start_dim=0, end_dim=-1) -> Flatten        Conv2d   -> TimeConv2d
    Affine / Linear                  -> Linear         AvgPool2d -> TimeAvgPool2d
    LIF / IF                         -> LIF, hard reset (export/neurons.py)

The readout is ``spikes`` when the last node is a neuron, ``mean`` otherwise. A graph that is not a
chain from one Input to one Output, or holds another node, is refused with an ``NIRExportError``.
``weights_for`` starts a configured run from a NIR file's weights (``trainer.init_from=model.nir``).
"""

from __future__ import annotations

from pathlib import Path

import nir
import numpy as np
import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from snntrain.core.spiking import SpikingModule
from snntrain.export.errors import NIRExportError
from snntrain.export.neurons import DT, lif_module
from snntrain.layers import Flatten, Linear, TimeAvgPool2d, TimeConv2d
from snntrain.models.base import SpikingNet
from snntrain.neurons.lif import LIF


def read(path: Path) -> nir.NIRGraph:
    """The NIR graph in ``path``; NIRExportError when it is missing or not a NIR file."""
    path = Path(path)
    if not path.is_file():
        raise NIRExportError(f"NIR file {path} does not exist.")
    try:
        return nir.read(path)
    except Exception as err:  # h5py and nir raise many types for foreign or damaged files
        raise NIRExportError(f"{path} cannot be read as a NIR graph ({type(err).__name__}: {str(err).strip()[:200]}).") from None


def from_nir(graph: nir.NIRGraph, dt: float | None = None) -> tuple[SpikingNet, tuple[int, ...]]:
    """The snntrain network of ``graph`` and its per-sample input shape. ``dt``: seconds per step
    (default: the graph's ``dt`` metadata, else snnTorch's 1e-4)."""
    if dt is None:
        dt = float(graph.metadata.get("dt", DT))
    names = chain(graph)
    input_shape = tuple(int(n) for n in graph.nodes[names[0]].input_type["input"])
    layers = [module_of(graph.nodes[name], name, dt) for name in names[1:-1]]
    readout = "spikes" if isinstance(layers[-1], LIF) else "mean"
    return SpikingNet(nn.Sequential(*layers), readout).eval(), input_shape


def chain(graph: nir.NIRGraph) -> list[str]:
    """The node names of ``graph`` from its Input to its Output; NIRExportError unless it is one chain."""
    inputs, outputs = list(graph.inputs), list(graph.outputs)
    following = {}
    for source, target in graph.edges:
        if source in following:
            raise NIRExportError(f"NIR node {source} feeds two nodes; snntrain imports chains of layers only.")
        following[source] = target
    if len(inputs) != 1 or len(outputs) != 1:
        raise NIRExportError(f"the NIR graph has {len(inputs)} inputs and {len(outputs)} outputs; snntrain imports one of each.")
    names = inputs
    while names[-1] in following and len(names) <= len(graph.nodes):
        names.append(following[names[-1]])
    if names[-1] != outputs[0] or len(names) != len(graph.nodes):
        raise NIRExportError("the NIR graph is not one chain from its input to its output; snntrain imports chains of layers only.")
    return names


def module_of(node: nir.NIRNode, name: str, dt: float) -> nn.Module:
    """The snntrain layer of one NIR node."""
    if isinstance(node, (nir.LIF, nir.IF)):
        return lif_module(node, name, dt)
    if isinstance(node, nir.Flatten) and node.start_dim == 0 and node.end_dim == -1:
        return Flatten()
    if isinstance(node, (nir.Affine, nir.Linear)):
        weight = tensor(node.weight)
        linear = Linear(weight.shape[1], weight.shape[0], bias=isinstance(node, nir.Affine))
        return loaded(linear, weight, tensor(node.bias) if isinstance(node, nir.Affine) else None)
    if isinstance(node, nir.Conv2d):
        weight = tensor(node.weight)
        padding = node.padding if isinstance(node.padding, str) else tuple(int(p) for p in node.padding)
        conv = TimeConv2d(
            weight.shape[1] * int(node.groups), weight.shape[0], tuple(weight.shape[2:]), stride=tuple(int(s) for s in np.atleast_1d(node.stride)),
            padding=padding, dilation=tuple(int(d) for d in np.atleast_1d(node.dilation)), groups=int(node.groups),
        )
        return loaded(conv, weight, tensor(node.bias))
    if isinstance(node, nir.AvgPool2d):
        return TimeAvgPool2d(tuple(int(k) for k in node.kernel_size), tuple(int(s) for s in node.stride), tuple(int(p) for p in node.padding))
    raise NIRExportError(f"NIR node {name} ({type(node).__name__}) has no snntrain layer; snntrain imports Flatten, Conv2d, Affine, Linear, AvgPool2d, LIF and IF.")


def tensor(values: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.asarray(values, dtype=np.float32))


def loaded(module: nn.Module, weight: torch.Tensor, bias: torch.Tensor | None) -> nn.Module:
    with torch.no_grad():
        module.weight.copy_(weight)
        if bias is not None:
            module.bias.copy_(bias)
    return module


def weights_for(model: nn.Module, path: Path) -> dict[str, torch.Tensor]:
    """The state dict of the NIR graph in ``path`` for ``model``, a configured network of the same
    layers (BatchNorm is folded into the graph's weights, so the model has none) whose neurons have
    the graph's constants; NIRExportError names the first thing that differs."""
    graph = read(path)
    imported, _ = from_nir(graph)
    if any(isinstance(m, _BatchNorm) for m in model.modules()):
        raise NIRExportError(f"{path} has its BatchNorm folded into the conv and linear weights; start from it with model.batch_norm=false.")
    ours = [(name, m) for name, m in model.named_modules() if isinstance(m, SpikingModule)]
    theirs = [m for m in imported.modules() if isinstance(m, LIF)]
    if len(ours) != len(theirs):
        raise NIRExportError(
            f"{path} has {len(theirs)} spiking layers (readout {imported.readout}); this run's model has {len(ours)} "
            f"(readout {getattr(model, 'readout', '?')}). Configure the model the graph was exported from."
        )
    for (name, neuron), node in zip(ours, theirs):
        same = isinstance(neuron, LIF) and neuron.cfg.reset == "hard" and np.float32(neuron.decay) == np.float32(node.decay)
        if not (same and np.float32(neuron.cfg.threshold) == np.float32(node.cfg.threshold)):
            raise NIRExportError(
                f"{path} has LIF neurons of decay {node.decay:.6g} and threshold {node.cfg.threshold:.6g} with a hard reset; "
                f"this run's layer {name} is {neuron.extra_repr() if isinstance(neuron, LIF) else type(neuron).__name__}. "
                f"Set neuron=lif neuron.decay={node.decay:.6g} neuron.threshold={node.cfg.threshold:.6g} neuron.reset=hard."
            )
    return imported.state_dict()
