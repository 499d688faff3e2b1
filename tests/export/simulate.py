"""The NIR export tests' networks, and running them step by step in snntrain and in snnTorch (the
independent simulator), recording every spiking layer's spikes."""

from __future__ import annotations

import contextlib
import io

import torch
from torch import nn

from snntrain.core.registry import build
from snntrain.core.spiking import SpikingModule
from snntrain.data.encoders import direct, poisson

T, B = 16, 4

CASES = {
    # name: (model config, neuron config, per-sample input shape, encoder)
    "mlp": ({"name": "mlp", "hidden": [32, 16]}, {"name": "lif", "reset": "hard", "decay": 0.8, "threshold": 0.5}, (1, 8, 8), poisson),
    "mlp_direct_tau1": ({"name": "mlp", "hidden": [24]}, {"name": "lif", "reset": "hard", "tau": 1.0, "threshold": 0.3}, (1, 6, 6), direct),
    "cnn_batch_norm": (
        {"name": "cnn", "spec": "4C3-P2-8C3-P2-16", "batch_norm": True},
        {"name": "lif", "reset": "hard", "tau": 4.0, "threshold": 0.4}, (2, 12, 12), poisson,
    ),
    "cnn_spiking_pool_valid_spike_readout": (
        {"name": "cnn", "spec": "6C5-P2-12", "padding": "valid", "spiking_pool": True, "readout": "spikes", "bias": False},
        {"name": "lif", "reset": "hard", "decay": 0.5, "threshold": 0.3}, (1, 13, 13), direct,
    ),
}


def case(name: str, seed: int = 0):
    """The network of case ``name`` (BatchNorm statistics made non-trivial) and its time-major input."""
    model_cfg, neuron_cfg, shape, encoder = CASES[name]
    net = network(model_cfg, neuron_cfg, shape, seed=seed)
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):  # as if trained: running statistics and affine terms away from identity
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.1, 0.1)
    x = encoder(torch.rand(B, *shape), T)
    return net, shape, x


def network(model: dict, neuron: dict, input_shape: tuple[int, ...], num_classes: int = 10, seed: int = 0) -> nn.Module:
    """The snntrain model ``model`` with neurons ``neuron`` (config dicts), in evaluation mode."""
    torch.manual_seed(seed)
    return build("model", model, input_shape, num_classes, build("neuron", neuron)).eval()


def spiking_outputs(net: nn.Module, is_spiking) -> tuple[dict[str, list[torch.Tensor]], list]:
    """Forward hooks that append each spiking module's output to a list under its name."""
    record: dict[str, list[torch.Tensor]] = {}
    hooks = []
    for name, module in net.named_modules():
        if is_spiking(module):
            record[name] = []
            hooks.append(module.register_forward_hook(lambda m, args, out, name=name: record[name].append(out.detach().clone())))
    return record, hooks


@torch.no_grad()
def run_snntrain(net: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """snntrain's output [T, B, n] for time-major input ``x`` and each spiking layer's spikes [T, B, n]
    (each sample's values flattened)."""
    for module in net.modules():
        if isinstance(module, SpikingModule):
            module.reset()
    record, hooks = spiking_outputs(net, lambda m: isinstance(m, SpikingModule))
    out = net(x)
    for hook in hooks:
        hook.remove()
    T, B = x.shape[:2]
    return out.reshape(T, B, -1), [calls[0].reshape(T, B, -1) for calls in record.values()]


@torch.no_grad()
def run_snntorch(graph, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """The same for ``graph`` imported by ``snntorch.import_nir.import_from_nir``, one step per call.

    Samples run one at a time: the importer maps NIR's ``Flatten(start_dim=0)`` (NIR has no batch
    axis) to ``torch.nn.Flatten(0)``, which would flatten the batch axis too.
    """
    import snntorch
    import snntorch.utils
    from snntorch.import_nir import import_from_nir

    with contextlib.redirect_stdout(io.StringIO()):  # the importer prints progress
        net = import_from_nir(graph)
    record, hooks = spiking_outputs(net, lambda m: isinstance(m, snntorch.Leaky))
    outputs = []
    for b in range(x.shape[1]):
        snntorch.utils.reset(net)
        steps = []
        for t in range(x.shape[0]):
            out = net(x[t, b : b + 1])
            steps.append(out[0] if isinstance(out, tuple) else out)
        outputs.append(torch.stack(steps))
    for hook in hooks:
        hook.remove()
    T, B = x.shape[:2]
    layers = [torch.stack(calls).reshape(B, T, -1).transpose(0, 1) for calls in record.values()]
    return torch.stack(outputs, 1).reshape(T, B, -1), layers
