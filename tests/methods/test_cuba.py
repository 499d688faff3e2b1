"""The current-based LIF neuron (METHODS.md §1) against sequences computed by hand.

tau_s = 2, tau_m = 4, t_ref = 1, threshold 1 keep every number exact in binary floats:
I <- I/2 + c[t-1];  V <- 3V/4 + I/2;  refractory: V = 0;  spike when V > 1, then V = 0.
"""

from __future__ import annotations

import pytest
import torch

from snntrain.core.errors import ConfigError
from snntrain.neurons.cuba import CUBA, CUBAConfig, CUBAParams, build_cuba

PARAMS = CUBAParams(tau_m=4.0, tau_s=2.0, t_ref=1, threshold=1.0)


def run(drive: list, params: CUBAParams = PARAMS, chunks: int = 1) -> tuple[torch.Tensor, list[float]]:
    """Spikes and the voltage after every step, feeding ``drive`` [T] or [T, N] in ``chunks`` calls."""
    x = torch.tensor(drive, dtype=torch.float32)
    x = x.view(len(drive), 1, -1)
    neuron = CUBA(params, backend="torch")
    spikes, voltages = [], []
    for part in x.split(len(drive) // chunks):
        for step in part.split(1):
            spikes.append(neuron.simulate(step))
            voltages.append(neuron.state.voltage.clone())
    return torch.cat(spikes)[:, 0], [v[0].tolist() for v in voltages]


def test_hand_computed_sequence():
    # t: 0 nothing arrives yet (one-step delay); 1: I=4, V=2 -> spike; 2: I=2, V=1 but refractory
    # -> 0; 3: I=1, V=.5; 4: I=.5, V=.625; 5: I=.25, V=.59375; 6: I=2.125, V=1.5078125 -> spike;
    # 7: refractory although V would be 1.53125; 8: V=.765625; 9: .95703125; 10: .9091796875
    spikes, voltages = run([4, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0])
    assert torch.nonzero(spikes[:, 0]).flatten().tolist() == [1, 6]
    expected = [0, 0, 0, 0.5, 0.625, 0.59375, 0, 0, 0.765625, 0.95703125, 0.9091796875]
    assert [v[0] for v in voltages] == expected


def test_state_carries_across_calls():
    whole, _ = run([4, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 0])
    split, _ = run([4, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 0], chunks=3)
    assert torch.equal(whole, split)


def test_lateral_inhibition_delays_the_other_neuron():
    # Neuron 1 alone reaches V = 1.125 at t=2. Neuron 0's spike at t=1 subtracts 1 from
    # neuron 1's input at t=2 (I = .5, V = .625), so neuron 1 fires at t=3 (V = 1.09375).
    drive = [[4, 1], [0, 1], [0, 1], [0, 1]]
    free, _ = run(drive)
    inhibited, voltages = run(drive, CUBAParams(4.0, 2.0, 1, 1.0, inhibition=1.0))
    assert torch.nonzero(free[:, 1]).flatten().tolist()[0] == 2
    assert torch.nonzero(inhibited[:, 1]).flatten().tolist()[0] == 3
    assert voltages[2][1] == 0.625


def test_per_layer_thresholds_and_inhibition_of_the_last_layer():
    make = build_cuba(CUBAConfig(threshold=[20, 8], output_inhibition=1.0))
    first, last = make(0, 2), make(1, 2)
    assert (first.threshold, first.params.inhibition) == (20.0, 0.0)
    assert (last.threshold, last.params.inhibition) == (8.0, 1.0)
    with pytest.raises(ConfigError, match="neuron.threshold"):
        make(0, 3)


@pytest.mark.parametrize("bad", [{"threshold": [10, -1]}, {"threshold": "x"}, {"t_ref": 0}, {"tau_s": 64.0}, {"backend": "cuda"}])
def test_config_rejects_bad_values(bad):
    with pytest.raises(ConfigError):
        CUBAConfig(**bad)
