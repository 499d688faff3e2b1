"""The saving context: per-layer attribution, parameters left alone, the meter's figures."""

import torch
from torch import nn

from snntrain.compress import Codec, SavedTensorMeter, saving
from snntrain.compress.bitpack import BitpackCodec
from snntrain.compress.layers import OUTSIDE


class Recorder(Codec):
    def __init__(self):
        self.seen: list[tuple[str | None, tuple[int, ...]]] = []

    def pack(self, t, layer=None):
        self.seen.append((layer, tuple(t.shape)))
        return t


def net() -> nn.Module:
    return nn.Sequential(nn.Linear(6, 5), nn.Sequential(nn.Sigmoid(), nn.Linear(5, 3)))


def test_each_saved_tensor_is_attributed_to_the_innermost_running_module():
    model, codec = net(), Recorder()
    with saving(codec, SavedTensorMeter(), model):
        model(torch.randn(4, 6)).pow(2).sum().backward()
    assert codec.seen == [("0", (4, 6)), ("1.0", (4, 5)), ("1.1", (4, 5)), (None, (4, 3))]


def test_parameters_are_neither_packed_nor_counted():
    model, meter = net(), SavedTensorMeter()
    with saving(Recorder(), meter, model):
        model(torch.randn(4, 6)).sum().backward()
    assert meter.raw_bytes == 4 * (6 + 5 + 5) * 4
    assert all(p.grad is not None for p in model.parameters())


def test_hooks_are_removed_when_the_block_ends():
    model = net()
    with saving(Codec(), SavedTensorMeter(), model):
        assert any(m._forward_pre_hooks for m in model.modules())
    assert all(not m._forward_pre_hooks and not m._forward_hooks for m in model.modules())


def test_meter_reports_per_layer_ratios_bytes_and_mean_ranks():
    meter = SavedTensorMeter(samples=2)
    meter.add(800, 100, "body.0", ranks=(3, 2))
    meter.add(800, 300, "body.0", ranks=(5, 2))
    meter.add(40, 40)
    figures = meter.layer_figures()
    assert figures["compression_ratio_per_layer"] == {"body.0": 4.0, OUTSIDE: 1.0}
    assert figures["saved_bytes_per_sample_per_layer"] == {"body.0": 200.0, OUTSIDE: 20.0}
    assert figures["hosvd_rank_per_layer"] == {"body.0/mode0": 4.0, "body.0/mode1": 2.0}
    assert meter.compression_ratio == 1640 / 440
    assert SavedTensorMeter(**meter.totals()).layer_figures() == figures


def test_bitpack_stores_a_spiking_layers_input_in_one_thirty_second():
    model, meter = nn.Sequential(nn.Linear(64, 4)), SavedTensorMeter(samples=1)
    spikes = (torch.rand(8, 64) < 0.3).float()
    with saving(BitpackCodec(), meter, model):
        model(spikes).sum().backward()
    assert meter.layer_figures()["compression_ratio_per_layer"]["0"] == 32.0
