"""``model=feedback``: a feedback spiking network as the official IDE code builds it (Xiao et al., NeurIPS 2021).

    [flatten →] FeedbackBlock (input connection, layers in the loop, feedback connection) → flatten → linear readout

``model.spec`` gives the connections (``spec.py``); the neurons come from ``neuron=lif``
(``neuron.threshold`` is θ, ``neuron.decay`` or ``neuron.tau`` the leak λ; 1 is integrate-and-fire).
How the block is differentiated is the method's choice: ``method=onestep`` at the equilibrium
(``method.implicit=jfb|exact``), ``method=bptt`` through time.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from snntrain.layers import Flatten, Linear
from snntrain.models.base import NeuronFactory, SpikingNet
from snntrain.models.feedback.block import FeedbackBlock
from snntrain.models.feedback.config import FeedbackConfig
from snntrain.models.feedback.neurons import rate_neurons
from snntrain.models.feedback.spec import parse_spec
from snntrain.models.feedback.synapse import Synapse, weight_matrix


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

