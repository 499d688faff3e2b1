"""Each gradient method's own ``check(model)`` refuses what it cannot train (``app.plan`` has no method branch)."""

from __future__ import annotations

import pytest
from torch import nn

from snntrain.core.errors import ConfigError
from snntrain.core.registry import build
from snntrain.neurons.cuba import CUBA, CUBAParams
from snntrain.neurons.lif import LIF, LIFConfig


@pytest.mark.parametrize("method", ["bptt", "onestep", "ratebp"])
def test_methods_that_differentiate_the_forward_refuse_a_neuron_without_a_surrogate_gradient(method):
    step = build("method", {"name": method}, 4)
    step.check(nn.Sequential(nn.Linear(3, 3), LIF(LIFConfig())))
    cuba = nn.Sequential(nn.Linear(3, 3), CUBA(CUBAParams(5.0, 3.0, 1, 1.0, 0.0)))
    with pytest.raises(ConfigError, match=rf"neuron='cuba' is not allowed: method={method} differentiates the neurons through their surrogate gradient"):
        step.check(cuba)
