"""``model=feedback``: a feedback spiking network as the official IDE code builds it (Xiao et al., NeurIPS 2021).

    [flatten →] FeedbackBlock (input connection, layers in the loop, feedback connection) → flatten → linear readout

``model.spec`` gives the connections (``spec.py``); the neurons come from ``neuron=lif``
(``neuron.threshold`` is θ, ``neuron.decay`` or ``neuron.tau`` the leak λ; 1 is integrate-and-fire).
How the block is differentiated is the method's choice: ``method=onestep`` at the equilibrium
(``method.implicit=jfb|exact``), ``method=bptt`` through time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn

from snntrain.core.checks import one_of, positive, require
from snntrain.layers import Flatten, Linear
from snntrain.models.base import NeuronFactory, SpikingNet
from snntrain.models.feedback.block import INPUT_AVERAGES, FeedbackBlock
from snntrain.models.feedback.neurons import rate_neurons
from snntrain.models.feedback.spec import parse_spec
from snntrain.models.feedback.synapse import Synapse, weight_matrix


@dataclass
class FeedbackConfig:
    """``model=feedback model.spec=64C5s2-F64C5 model.batch_norm=true model.dropout=0.2``."""

    name: str = field(default="feedback", metadata={"help": "the option's name (model=<name> selects it)"})
    spec: str = field(default="256-F256", metadata={"help": (
        "input[-layer...]-F<feedback>: 400-F400 (F400), 64C5s2-F64C5, 64C5s2p1-F64C5, "
        "128C3s2-256C3-512C3s2-1024C3-512C3-F128DC3s2 (CIFARNet-F). <n>: n neurons fully connected; "
        "<n>C<k>: n filters k×k; <n>DC<k>: transposed conv; s<stride> p<padding> (default (k-1)//2); "
        "F: the feedback connection from the last layer to the first"
    )})
    bias: bool = field(default=True, metadata={"help": "bias in the input and loop connections and the readout (the feedback has none)"})
    batch_norm: bool = field(default=False, metadata={"help": "BatchNorm after the input and loop connections (official: true); not on the feedback"})
    dropout: float = field(default=0.0, metadata={"help": (
        "variational dropout after every connection: one mask per sample and neuron for the whole batch, "
        "the same at every step (official rows: 0.2)"
    )})
    spectral_norm: bool = field(default=False, metadata={"help": (
        "true: W_s = clamp(g, -1, 1)·w/σ(w) through training, σ by one power iteration per forward (the official "
        "weight_spectral_norm: ‖W_s‖ ≤ 1 once the power iteration has caught up, a few batches after initialisation); "
        "false: a plain weight"
    )})
    contraction: float | None = field(default=0.5, metadata={"help": (
        "spectral_norm=false only: scale W_s once at initialisation to ‖W_s‖₂/θ = contraction "
        "(null: the official init, U(-1,1) rows scaled to unit norm, as every connection)"
    )})
    input_average: str = field(default="official", metadata={"help": (
        "time-varying input, leaky neurons, training: official = as the official code's in-place averaging "
        "(last simulated frame := the λ-weighted mean m; equilibrium pass input (1+λ^T)·Σ_{k<T} λ^k x[T-1-k] / Σ_{k≤T} λ^k); "
        "weighted = m for both"
    )})

    def __post_init__(self) -> None:
        require(0.0 <= self.dropout < 1.0, "model.dropout", self.dropout, "it must be in [0, 1)")
        one_of("model.input_average", self.input_average, INPUT_AVERAGES)
        if self.contraction is not None:
            positive("model.contraction", self.contraction)
            require(
                not self.spectral_norm, "model.contraction", self.contraction,
                "with model.spectral_norm=true the feedback weight starts as the official re-parametrisation sets it; "
                "set model.contraction=null (or model.spectral_norm=false to scale a plain weight once)",
            )


def scale_to_contraction(synapse: Synapse, threshold: float, contraction: float) -> None:
    """Scale the feedback weight so that ‖W_s‖₂ / θ = ``contraction`` (‖·‖₂ of the [dim 0, rest] matrix)."""
    with torch.no_grad():
        weight = synapse.op.weight
        weight.mul_(contraction * threshold / torch.linalg.matrix_norm(weight_matrix(weight), ord=2))


def build_feedback(cfg: FeedbackConfig, input_shape: tuple[int, ...], num_classes: int, neuron: NeuronFactory) -> SpikingNet:
    """The network of ``model.spec``; its neurons are ``neuron=lif`` (one per spiking layer)."""
    spec = parse_spec(cfg.spec, input_shape)
    count = len(spec.shapes)
    neurons = [rate_neurons(neuron(i, count)) for i in range(count)]
    inputs = Synapse(spec.inputs, spec.input_shape, cfg.bias, cfg.batch_norm, cfg.dropout, spectral=False)
    layers = [
        Synapse(connection, shape, cfg.bias, cfg.batch_norm, cfg.dropout, spectral=False)
        for connection, shape in zip(spec.layers, spec.shapes[:-1])
    ]
    feedback = Synapse(spec.feedback, spec.shapes[-1], False, False, cfg.dropout, spectral=cfg.spectral_norm)
    if cfg.contraction is not None:
        scale_to_contraction(feedback, neurons[0].threshold, cfg.contraction)
    block = FeedbackBlock(inputs, layers, feedback, neurons, cfg.input_average)
    body = [Flatten()] if spec.flat_input else []
    body += [block, Flatten(), Linear(math.prod(spec.shapes[-1]), num_classes, bias=cfg.bias)]
    return SpikingNet(nn.Sequential(*body), "mean")

