"""trainer.recompute (alias compression.recompute): each spiking block keeps only its input; gradients stay those of none."""

import copy
from contextlib import contextmanager, nullcontext

import pytest
import torch

from snntrain.app import plan
from snntrain.compress import Codec, SavedTensorMeter, saving
from snntrain.compress.bitpack import BitpackCodec
from snntrain.compress.layers import OUTSIDE
from snntrain.core.errors import ConfigError
from snntrain.core.registry import build
from snntrain.core.spiking import SpikingModule, reset_states
from snntrain.engine.recompute import recomputing, spiking_blocks
from snntrain.neurons.lif import LIF
from tests.conftest import compose_config

T, B = 6, 16
MODELS = {
    "mlp": ["model=mlp"],
    "cnn": ["model=cnn", "model.spec=4C3-P2-8C3-P2"],
    "cnn+bn": ["model=cnn", "model.spec=4C3-P2-8C3-P2", "model.batch_norm=true"],
}


def spikes(*shape: int) -> torch.Tensor:
    return (torch.rand(*shape, generator=torch.Generator().manual_seed(1)) < 0.3).float()


@contextmanager
def saved(codec: Codec, meter: SavedTensorMeter, model, recompute: bool):
    """What the trainer's step runs under: the codec's hooks, and the recomputed blocks if asked."""
    with saving(codec, meter, model) as tracker, (recomputing(model, tracker) if recompute else nullcontext()):
        yield


def one_step(p, codec: Codec, x: torch.Tensor, recompute: bool = False):
    """The model after one training step of a copy of the planned model, and the meter."""
    model, meter = copy.deepcopy(p.model), SavedTensorMeter(samples=x.shape[1])
    reset_states(model)
    with saved(codec, meter, model, recompute):
        p.method.step(model, x, torch.arange(x.shape[1]) % 10)
    return model, meter


@pytest.mark.parametrize("method", ["bptt", "ratebp", "onestep"])
@pytest.mark.parametrize("model", list(MODELS))
def test_gradients_are_bit_for_bit_those_of_none(method, model):
    p = plan(compose_config([f"method={method}", *MODELS[model], f"T={T}"]))
    x = spikes(T, B, 1, 8, 8)
    plain, plain_meter = one_step(p, Codec(), x)
    recomputed, meter = one_step(p, BitpackCodec(), x, recompute=True)
    assert meter.stored_bytes < plain_meter.stored_bytes
    for (name, a), b in zip(plain.named_parameters(), recomputed.parameters()):
        assert torch.equal(a.grad, b.grad), name


@pytest.mark.parametrize("backend", ["torch", "compile", "triton"])
def test_fused_neuron_backends_recompute_the_same_gradients(backend):
    p = plan(compose_config(["method=bptt", *MODELS["cnn"], f"T={T}", f"neuron.backend={backend}"]))
    x = spikes(T, B, 1, 8, 8)
    plain, _ = one_step(p, Codec(), x)
    recomputed, _ = one_step(p, BitpackCodec(), x, recompute=True)
    for (name, a), b in zip(plain.named_parameters(), recomputed.parameters()):
        assert torch.equal(a.grad, b.grad), name


def test_a_block_runs_from_one_spike_tensor_to_the_next():
    p = plan(compose_config(["method=bptt", *MODELS["cnn+bn"]]))
    kinds = [[type(layer).__name__ for layer in block] for block in spiking_blocks(p.model.body)]
    assert kinds == [
        ["TimeConv2d", "TimeBatchNorm2d", "LIF"],
        ["TimeAvgPool2d", "TimeConv2d", "TimeBatchNorm2d", "LIF"],
        ["TimeAvgPool2d", "Flatten", "Linear"],
    ]


def test_saved_bytes_are_the_bit_packed_block_inputs():
    # 4C3-P2 on 1x8x8, readout 10: blocks [conv body.0, LIF] and [pool, flatten, linear body.4].
    p = plan(compose_config(["method=bptt", "model=cnn", "model.spec=4C3-P2", f"T={T}"]))
    _, plain = one_step(p, BitpackCodec(), spikes(T, B, 1, 8, 8))
    _, meter = one_step(p, BitpackCodec(), spikes(T, B, 1, 8, 8), recompute=True)
    per_sample = meter.layer_figures()["saved_bytes_per_sample_per_layer"]
    assert per_sample == {
        "body.0": T * 1 * 8 * 8 / 8,  # the input spikes, 1 bit each
        "body.4": T * 4 * 8 * 8 / 8,  # the conv layer's output spikes (before pooling), 1 bit each
        OUTSIDE: plain.layer_figures()["saved_bytes_per_sample_per_layer"][OUTSIDE],
    }
    assert meter.saved_bytes_per_sample == sum(per_sample.values())


def test_a_continued_call_keeps_the_membranes_it_starts_from():
    # One-step (k=1): the differentiated last step starts from the membranes of the T-1 steps before.
    p = plan(compose_config(["method=onestep", "model=cnn", "model.spec=4C3-P2", f"T={T}"]))
    _, meter = one_step(p, BitpackCodec(), spikes(T, B, 1, 8, 8), recompute=True)
    per_sample = meter.layer_figures()["saved_bytes_per_sample_per_layer"]
    assert per_sample["body.0"] == 1 * 8 * 8 / 8 + 4 * 8 * 8 * 4  # one step of input bits, float32 membranes
    assert per_sample["body.4"] == 4 * 8 * 8 / 8


def test_a_time_constant_input_is_kept_once_not_t_times():
    p = plan(compose_config(["method=bptt", "model=cnn", "model.spec=4C3-P2", f"T={T}"]))
    direct = torch.rand(B, 1, 8, 8).expand(T, B, 1, 8, 8)  # the direct encoder's stride-0 time axis
    plain, _ = one_step(p, Codec(), direct)
    recomputed, meter = one_step(p, Codec(), direct, recompute=True)
    assert meter.layer_figures()["saved_bytes_per_sample_per_layer"]["body.0"] == 1 * 8 * 8 * 4
    for a, b in zip(plain.parameters(), recomputed.parameters()):
        assert torch.equal(a.grad, b.grad)


def test_batch_norm_running_statistics_are_updated_once():
    p = plan(compose_config(["method=bptt", *MODELS["cnn+bn"], f"T={T}"]))
    x = spikes(T, B, 1, 8, 8)
    plain, _ = one_step(p, Codec(), x)
    recomputed, _ = one_step(p, BitpackCodec(), x, recompute=True)
    for (name, a), b in zip(plain.named_buffers(), recomputed.buffers()):
        assert torch.equal(a, b), name
    assert all(int(m.num_batches_tracked) == 1 for m in recomputed.modules() if hasattr(m, "num_batches_tracked"))


def test_backward_leaves_the_neurons_as_the_forward_left_them():
    p = plan(compose_config(["method=bptt", *MODELS["cnn"], f"T={T}"]))
    model, neurons = p.model, [m for m in p.model.modules() if isinstance(m, LIF)]
    with saved(BitpackCodec(), SavedTensorMeter(), model, recompute=True):
        loss = model(spikes(T, B, 1, 8, 8)).sum()
        after_forward = [n.v for n in neurons]
        loss.backward()
    assert all(n.v is v for n, v in zip(neurons, after_forward))


class SigmoidIntegrator(SpikingModule):
    """A spiking module that is not a LIF: a leaky integrator with a smooth output and its own state."""

    def __init__(self) -> None:
        super().__init__()
        self.register_state("u")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        u = torch.zeros_like(x[0]) if self.u is None else self.u
        out = []
        for step in x:
            u = 0.5 * u + step
            out.append(torch.sigmoid(4 * (u - 1)))
        self.u = u
        return torch.stack(out)


def test_any_spiking_module_restarts_from_its_snapshot():
    """Two calls, the second continuing from the first's state with its graph: the recomputed
    gradients are those of none, and the carried state is a kept input of the second call."""
    torch.manual_seed(0)
    model = build("model", {"name": "mlp", "hidden": [12]}, (1, 4, 4), 10, lambda index, n_layers: SigmoidIntegrator())
    x = torch.rand(T, 3, 1, 4, 4)
    meters, grads = [], []
    for recompute in [False, True]:
        net, meter = copy.deepcopy(model), SavedTensorMeter(samples=3)
        reset_states(net)
        with saved(Codec(), meter, net, recompute):
            (net(x[: T // 2]).sum() + net(x[T // 2 :]).sum()).backward()
        meters.append(meter.layer_figures()["saved_bytes_per_sample_per_layer"])
        grads.append([p.grad for p in net.parameters()])
    assert all(torch.equal(a, b) for a, b in zip(*grads))
    # body.1 (the first linear layer): both calls' input and the second call's starting state, 12 floats
    assert meters[1]["body.1"] == T * 16 * 4 + 12 * 4


@pytest.mark.parametrize("scheme", ["none", "bitpack", "hosvd"])
def test_every_scheme_takes_the_key(scheme):
    assert plan(compose_config([f"compression={scheme}", "compression.recompute=true"])).cfgs["trainer"].recompute  # the alias
    assert plan(compose_config([f"compression={scheme}", "trainer.recompute=true"])).cfgs["trainer"].recompute
    assert not plan(compose_config([f"compression={scheme}"])).cfgs["trainer"].recompute


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["method=hm2bp"], r"trainer.recompute=true \(or compression.recompute=true\) does not apply to method=hm2bp: it computes its own gradients .* Set trainer.recompute=false"),
        (["model=feedback"], r"trainer.recompute=true \(or compression.recompute=true\) needs a feed-forward model; this one has a feedback layer \(model=feedback\)"),
        (["neuron=cuba"], r"neuron='cuba' is not allowed: method=bptt differentiates the neurons through their surrogate gradient"),
    ],
)
def test_what_cannot_be_recomputed_is_refused_before_any_data_is_read(overrides, message):
    with pytest.raises(ConfigError, match=message):
        plan(compose_config([*overrides, "compression=bitpack", "compression.recompute=true"]))
