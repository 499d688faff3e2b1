"""Training on CUDA: every method's step against the CPU, AMP (bf16, fp16), channels_last,
block recomputation bit for bit, HM2-BP against the CPU, augmentation on the device, the codecs,
and the trainer end to end with ``trainer.device=cuda``.

Weights and inputs are quantised to multiples of 1/64 where a test compares devices or layouts
(no BatchNorm there: its batch statistics round differently): every matmul and conv sum is then
exact in float32, so both sides see the same membrane potentials and fire the same spikes, and
what is compared is the methods' arithmetic.
"""

from __future__ import annotations

import copy
from contextlib import nullcontext

import pytest
import torch

from snntrain.app import plan, train
from snntrain.compress import Codec, SavedTensorMeter, saving
from snntrain.compress.bitpack import BitpackCodec
from snntrain.core.spiking import reset_states
from snntrain.data.augment import AugmentConfig, augment
from snntrain.engine.recompute import recomputing
from tests.conftest import SMOKE, compose_config

T, B = 6, 16
CNN = ["model=cnn", "model.spec=8C3-P2-16C3-P2"]


def quantised(model: torch.nn.Module) -> torch.nn.Module:
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.round(p * 64) / 64)
    return model


def spikes(*shape: int, p: float = 0.3) -> torch.Tensor:
    return (torch.rand(*shape, generator=torch.Generator().manual_seed(1)) < p).float()


def step(method, model, x, y, codec: Codec | None = None, recompute: bool = False):
    """One method step from reset state on ``x``'s device (``recompute``: as trainer.recompute runs it);
    the loss and {name: grad}."""
    model = model.to(x.device)
    reset_states(model)
    model.zero_grad(set_to_none=True)
    with saving(codec or Codec(), SavedTensorMeter(samples=x.shape[1]), model) as tracker:
        with recomputing(model, tracker) if recompute else nullcontext():
            result = method.step(model, x, y)
    return result.loss.item(), {n: p.grad.detach().cpu() for n, p in model.named_parameters() if p.grad is not None}


def assert_grads_close(got: dict, want: dict, rtol: float = 1e-4) -> None:
    assert got.keys() == want.keys()
    for name in want:
        scale = want[name].abs().max().clamp_min(1e-12)
        err = (got[name] - want[name]).abs().max() / scale
        assert err <= rtol, f"{name}: max error {err:.2e} of the largest gradient"


@pytest.mark.parametrize("method", ["bptt", "ratebp", "onestep"])
@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_each_method_on_cuda_equals_the_cpu(cuda, method, model):
    p = plan(compose_config([f"method={method}", *(CNN if model == "cnn" else ["model=mlp"]), f"T={T}"]))
    net = quantised(p.model)
    x, y = spikes(T, B, 1, 8, 8), torch.arange(B) % 10
    cpu_loss, cpu_grads = step(p.method, copy.deepcopy(net), x, y)
    gpu_loss, gpu_grads = step(p.method, copy.deepcopy(net), x.to(cuda), y.to(cuda))
    assert abs(cpu_loss - gpu_loss) <= 1e-5 * max(1.0, abs(cpu_loss))
    assert_grads_close(gpu_grads, cpu_grads)


@pytest.fixture
def deterministic_cudnn():
    """cuDNN's deterministic algorithms: two identical steps give identical bits (restored afterwards)."""
    saved = torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
    yield
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = saved


@pytest.mark.parametrize("method", ["bptt", "ratebp", "onestep"])
def test_recompute_is_bit_for_bit_on_cuda(cuda, deterministic_cudnn, method):
    p = plan(compose_config([f"method={method}", *CNN, "model.batch_norm=true", f"T={T}"]))
    x, y = spikes(T, B, 1, 8, 8).to(cuda), (torch.arange(B) % 10).to(cuda)
    _, plain = step(p.method, copy.deepcopy(p.model), x, y)
    _, again = step(p.method, copy.deepcopy(p.model), x, y, BitpackCodec(), recompute=True)
    for name in plain:
        assert torch.equal(plain[name], again[name]), name


def test_bitpack_stores_spikes_in_bits_on_cuda(cuda, deterministic_cudnn):
    p = plan(compose_config(["method=bptt", *CNN, f"T={T}"]))
    x, y = spikes(T, B, 1, 8, 8).to(cuda), (torch.arange(B) % 10).to(cuda)
    _, plain = step(p.method, copy.deepcopy(p.model), x, y)
    meter = SavedTensorMeter(samples=B)
    model = copy.deepcopy(p.model).to(cuda)
    reset_states(model)
    with saving(BitpackCodec(), meter, model):
        p.method.step(model, x, y)
    assert meter.compression_ratio > 1.5
    for name, param in model.named_parameters():
        assert torch.equal(param.grad.cpu(), plain[name]), name


def test_hosvd_compresses_on_cuda(cuda):
    p = plan(compose_config(["method=bptt", *CNN, f"T={T}", "compression=hosvd", "compression.eps=0.9"]))
    x, y = spikes(T, B, 1, 8, 8).to(cuda), (torch.arange(B) % 10).to(cuda)
    _, exact = step(p.method, copy.deepcopy(p.model), x, y)
    _, approx = step(p.method, copy.deepcopy(p.model), x, y, p.codec)
    flat = lambda g: torch.cat([t.flatten() for t in g.values()])  # noqa: E731
    cosine = torch.nn.functional.cosine_similarity(flat(exact), flat(approx), dim=0)
    assert 0.5 < cosine < 1.0, cosine


@pytest.mark.parametrize("overrides", [["method=hm2bp"], ["experiment=hm2bp_mnist_cnn", "dataset=synthetic", "dataset.input_shape=[1,28,28]", "T=80"]],
                         ids=["mlp", "cnn-spiking-pool"])
def test_hm2bp_on_cuda_equals_the_cpu(cuda, overrides):
    p = plan(compose_config(overrides))
    net = quantised(p.model)
    shape = tuple(p.source.info.input_shape)
    x, y = spikes(p.T, 8, *shape, p=0.2), torch.arange(8) % 10
    cpu_loss, cpu_grads = step(p.method, copy.deepcopy(net), x, y)
    gpu_loss, gpu_grads = step(p.method, copy.deepcopy(net), x.to(cuda), y.to(cuda))
    assert any(g.abs().sum() > 0 for g in cpu_grads.values())
    assert abs(cpu_loss - gpu_loss) <= 1e-5 * max(1.0, abs(cpu_loss))
    assert_grads_close(gpu_grads, cpu_grads)


def test_augmentation_on_the_device_equals_the_cpu(cuda):
    x = torch.randint(0, 256, (32, 3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(3))
    geometric = AugmentConfig(flip=True, roll=3, crop_padding=4, cutout=8)
    gen = lambda: torch.Generator().manual_seed(7)  # noqa: E731
    assert torch.equal(augment(x.to(cuda), geometric, gen()).cpu(), augment(x, geometric, gen()))
    recipe = AugmentConfig(flip=True, crop_padding=4, cutout=16, autoaugment="cifar10")
    on_gpu, on_cpu = augment(x.to(cuda), recipe, gen()).cpu(), augment(x, recipe, gen())
    differ = (on_gpu.int() - on_cpu.int()).abs()
    assert on_gpu.dtype == torch.uint8 and (differ > 1).float().mean() < 0.01, f"{(differ > 1).float().mean():.3%} differ by more than 1"


@pytest.mark.parametrize("precision", ["bf16", "16"])
@pytest.mark.parametrize("method", ["bptt", "ratebp", "onestep"])
def test_mixed_precision_trains_on_cuda(tmp_path, precision, method):
    cfg = compose_config([*SMOKE, *CNN, f"method={method}", "model.batch_norm=true", "trainer.device=cuda",
                          f"trainer.precision={precision}", "trainer.limit_batches=4", "T=4"])
    metrics = train(cfg, tmp_path)
    assert metrics["epochs"] == 1 and torch.isfinite(torch.tensor(metrics["final_train_loss"]))
    assert metrics["peak_mem_bytes"] > 0


def test_hm2bp_trains_under_bf16_autocast(tmp_path):
    cfg = compose_config([*SMOKE, "method=hm2bp", "trainer.device=cuda", "trainer.precision=bf16", "T=40"])
    metrics = train(cfg, tmp_path)
    assert torch.isfinite(torch.tensor(metrics["final_train_loss"]))


def test_channels_last_on_cuda_matches_contiguous(cuda):
    p = plan(compose_config(["method=bptt", *CNN, f"T={T}", "neuron.backend=triton"]))
    net = quantised(p.model)
    x, y = spikes(T, B, 1, 8, 8).to(cuda), (torch.arange(B) % 10).to(cuda)
    _, plain = step(p.method, copy.deepcopy(net), x, y)
    nhwc = copy.deepcopy(net).to(cuda, memory_format=torch.channels_last)
    _, grads = step(p.method, nhwc, x, y)
    assert_grads_close(grads, plain)


def test_a_cuda_fp16_run_resumes_on_cuda_as_uninterrupted_and_on_the_cpu(tmp_path):
    """The checkpoint holds the CUDA generator states and the fp16 loss scale: a run resumed after
    epoch 1 draws the same Poisson spikes as the uninterrupted one; the same checkpoint resumes on
    the CPU in float32 (the scale is dropped there)."""
    from snntrain.engine import checkpoint

    run = [*SMOKE, "trainer.limit_batches=3", "trainer.keep_checkpoints=2", "dataset.encoder=poisson", "T=4", "trainer.max_epochs=2"]
    cuda16 = ["trainer.device=cuda", "trainer.precision=16"]
    train(compose_config([*run, *cuda16]), tmp_path / "straight")
    after_one = tmp_path / "straight" / "checkpoints" / "epoch_0001.pt"
    state = checkpoint.load(after_one)
    assert "cuda" in state["rng"][0] and state["scaler"]
    train(compose_config([*run, *cuda16, f"trainer.resume={after_one}"]), tmp_path / "resumed")
    a, b = (checkpoint.load(tmp_path / name / "checkpoints" / "last.pt")["model"] for name in ("straight", "resumed"))
    for key in a:
        assert torch.allclose(a[key], b[key], atol=1e-6, rtol=0), key
    last = tmp_path / "straight" / "checkpoints" / "last.pt"
    metrics = train(compose_config([*run, "trainer.device=cpu", "trainer.max_epochs=3", f"trainer.resume={last}"]), tmp_path / "cpu")
    assert [h["epoch"] for h in metrics["history"]] == [1, 2, 3]
