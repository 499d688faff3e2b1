"""Fused LIF backends against the torch reference: the eager scan equations, the Triton kernels
(interpreted on the CPU), the compiled loop; the dispatcher's fallbacks and ``auto`` choice, channels_last.

Inputs are fresh random draws (the seed is in the failure message), with neuron counts that are
not multiples of the Triton block.
"""

from __future__ import annotations

import functools
import itertools
import logging
import random
import shutil
import sys
from types import SimpleNamespace

import pytest
import torch

from snntrain.compress import Codec, SavedTensorMeter, saving
from snntrain.neurons import backends
from snntrain.neurons.cuba import CUBA
from snntrain.neurons.dynamics.cuba import CUBAParams, cuba_multistep, initial_state
from snntrain.neurons.dynamics.lif import lif_multistep
from snntrain.neurons.kernels.fused import fused_lif
from snntrain.neurons.kernels.lif_scan import ENGINE as SCAN
from snntrain.neurons.kernels.lif_scan import lif_scan
from snntrain.neurons.lif import LIF, LIFConfig

COMBOS = list(itertools.product([True, False], [True, False], ["sigmoid", "atan", "triangle"]))
IDS = [f"{'soft' if s else 'hard'}-{'detach' if d else 'attached'}-{g}" for s, d, g in COMBOS]


def draw(shape, with_v0=True, dtype=torch.float32):
    """Drive, initial membrane and upstream gradients; most steps near the threshold."""
    seed = random.randrange(2**31)
    gen = torch.Generator().manual_seed(seed)
    x = (torch.randn(shape, generator=gen) * 0.8 + 0.5).to(dtype).requires_grad_()
    v0 = torch.randn(shape[1:], generator=gen).requires_grad_() if with_v0 else None
    grad_s = torch.randn(shape, generator=gen).to(dtype)
    grad_v = torch.randn(shape[1:], generator=gen)
    return seed, x, v0, grad_s, grad_v


def outputs_and_grads(impl, x, v0, grad_s, grad_v, args):
    spikes, v = impl(x, v0, *args)
    inputs = [x] if v0 is None else [x, v0]
    grads = torch.autograd.grad([spikes, v], inputs, [grad_s, grad_v])
    return spikes, v, grads


def assert_matches_reference(impl, shape, args, with_v0=True, dtype=torch.float32, tol=1e-5):
    seed, x, v0, grad_s, grad_v = draw(shape, with_v0, dtype)
    spikes, v, grads = outputs_and_grads(impl, x, v0, grad_s, grad_v, args)
    ref_spikes, ref_v, ref_grads = outputs_and_grads(lif_multistep, x, v0, grad_s, grad_v, args)
    assert spikes.dtype == x.dtype and v.dtype == torch.float32, f"seed {seed}"
    assert torch.equal(spikes, ref_spikes), f"seed {seed}: spikes differ"
    torch.testing.assert_close(v, ref_v, atol=tol, rtol=tol, msg=lambda m: f"seed {seed}: v_last {m}")
    for name, got, want in zip(["x", "v0"], grads, ref_grads):
        torch.testing.assert_close(got, want, atol=tol, rtol=tol, msg=lambda m, n=name: f"seed {seed}: grad {n} {m}")


@pytest.mark.parametrize("soft,detach,surrogate", COMBOS, ids=IDS)
def test_scan_equations_match_reference(soft, detach, surrogate):
    assert_matches_reference(lif_scan, (6, 3, 7, 5), (0.6, 1.0, soft, detach, surrogate, 4.0))


def test_scan_keeps_the_drive_layout_and_saves_only_u():
    x = torch.randn(5, 4, 3, 6, 6).flatten(0, 1).contiguous(memory_format=torch.channels_last)
    x = x.unflatten(0, (5, 4)).requires_grad_()
    meter = SavedTensorMeter()
    with saving(Codec(), meter, torch.nn.Linear(1, 1)):
        spikes, _ = fused_lif(SCAN, x, None, 0.5, 1.0, True, True, "sigmoid", 4.0)
    assert spikes.stride() == x.stride()
    assert meter.stored_bytes == x.numel() * 4
    ref, _ = lif_multistep(x, None, 0.5, 1.0, True, True, "sigmoid", 4.0)
    assert torch.equal(spikes, ref)


# ----- Triton, interpreted on the CPU ------------------------------------------------------------
@pytest.fixture(scope="module")
def lif_triton():
    pytest.importorskip("triton")
    from snntrain.neurons.kernels import INTERPRETED, lif_triton

    if not INTERPRETED:
        # tests/conftest.py sets TRITON_INTERPRET=1 where there is no GPU (CI); with one, the
        # kernels compile for it and tests/cuda checks them on CUDA tensors instead.
        pytest.skip("Triton compiles for the GPU in this process; tests/cuda covers the kernels")
    return lif_triton.lif_triton


@pytest.mark.parametrize("soft,detach,surrogate", COMBOS, ids=IDS)
def test_triton_matches_reference(lif_triton, soft, detach, surrogate):
    # 3 * 37 * 11 = 1221 neurons: one full block of 1024 and a partial one.
    assert_matches_reference(lif_triton, (5, 3, 37, 11), (0.7, 1.0, soft, detach, surrogate, 4.0))


def test_triton_without_initial_state_and_bf16_drive(lif_triton):
    args = (0.5, 0.8, True, True, "sigmoid", 2.0)
    assert_matches_reference(lif_triton, (4, 2, 33), args, with_v0=False)
    assert_matches_reference(lif_triton, (4, 2, 33), args, dtype=torch.bfloat16, tol=1e-2)


def test_triton_strided_drive_and_inference(lif_triton):
    x = torch.randn(3, 2, 4, 5, 5).flatten(0, 1).contiguous(memory_format=torch.channels_last).unflatten(0, (3, 2))
    args = (0.5, 1.0, False, False, "atan", 4.0)
    with torch.no_grad():
        spikes, v = lif_triton(x, None, *args)
    ref, ref_v = lif_multistep(x, None, *args)
    assert spikes.stride() == x.stride() and torch.equal(spikes, ref) and torch.equal(v, ref_v)


# ----- torch.compile -----------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.skipif(not (shutil.which("g++") or shutil.which("clang++")), reason="inductor needs a C++ compiler")
@pytest.mark.parametrize("soft,detach,surrogate", [COMBOS[0], COMBOS[-1]], ids=[IDS[0], IDS[-1]])
def test_compile_matches_reference(soft, detach, surrogate, caplog):
    impl = functools.partial(backends.run, "lif", "compile")
    with caplog.at_level(logging.WARNING):
        assert_matches_reference(impl, (5, 2, 17), (0.6, 1.0, soft, detach, surrogate, 4.0))
        assert_matches_reference(impl, (5, 3, 29), (0.6, 1.0, soft, detach, surrogate, 4.0))
    assert "failed" not in caplog.text, "the compile backend fell back to torch"


# ----- the dispatcher: fallbacks and auto --------------------------------------------------------
LIF_ARGS = (0.5, 1.0, True, True, "sigmoid", 4.0)


@pytest.fixture
def fresh_backends(monkeypatch):
    """The dispatcher's memory as in a process that has run no neuron yet."""
    monkeypatch.setattr(backends, "_loaded", {})
    monkeypatch.setattr(backends, "_unavailable", set())
    monkeypatch.setattr(backends, "_failed", set())
    return backends


def test_missing_triton_falls_back_to_the_reference_with_one_warning(fresh_backends, monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "triton", None)  # `import triton` raises ImportError
    for module in ["snntrain.neurons.kernels.lif_triton", "snntrain.neurons.kernels.cuba_triton"]:
        monkeypatch.delitem(sys.modules, module, raising=False)
    x = torch.randn(3, 4)
    with caplog.at_level(logging.WARNING):
        assert fresh_backends.implementation("lif", "triton", x) is lif_multistep
        spikes = LIF(LIFConfig(backend="triton"))(x)
        assert fresh_backends.implementation("cuba", "triton", x) is cuba_multistep
        CUBA(CUBAParams(4.0, 2.0, 1, 0.5), backend="triton")(x)
    assert torch.equal(spikes, lif_multistep(x, None, *LIF_ARGS)[0])
    assert caplog.text.count("neuron.backend=triton is not available here for neuron=lif") == 1
    assert caplog.text.count("neuron.backend=triton is not available here for neuron=cuba") == 1


def test_triton_outside_the_interpreter_runs_cpu_tensors_by_the_reference(fresh_backends, monkeypatch, caplog):
    pytest.importorskip("triton")
    from snntrain.neurons import kernels

    monkeypatch.setattr(kernels, "INTERPRETED", False)
    x = torch.randn(3, 4)
    params = CUBAParams(4.0, 2.0, 1, 0.5)
    with caplog.at_level(logging.WARNING):
        spikes = [LIF(LIFConfig(backend="triton"))(x) for _ in range(2)]
        cuba_spikes = CUBA(params, backend="triton")(x)
    assert all(torch.equal(s, lif_multistep(x, None, *LIF_ARGS)[0]) for s in spikes)
    assert torch.equal(cuba_spikes, cuba_multistep(x, initial_state(x[0]), params)[0].float())
    assert caplog.text.count("neuron.backend=triton failed on cpu") == 2, caplog.text  # once for LIF, once for CUBA
    assert "CUDA tensors only" in caplog.text


def test_unknown_backend_name_falls_back_to_the_reference(fresh_backends, caplog):
    with caplog.at_level(logging.WARNING):
        assert fresh_backends.implementation("lif", "nope", torch.empty(1)) is lif_multistep
    assert "neuron.backend=nope is not available here for neuron=lif (no such backend)" in caplog.text


def test_failing_backend_is_replaced_by_the_reference_on_its_device(fresh_backends, caplog):
    calls = []

    def broken(x, *args):
        calls.append(1)
        raise RuntimeError("no compiler")

    fresh_backends._loaded[("lif", "broken")] = broken
    x = torch.randn(3, 4)
    with caplog.at_level(logging.WARNING):
        spikes, _ = fresh_backends.run("lif", "broken", x, None, *LIF_ARGS)
        fresh_backends.run("lif", "broken", x, None, *LIF_ARGS)
    assert torch.equal(spikes, lif_multistep(x, None, *LIF_ARGS)[0])
    assert len(calls) == 1 and caplog.text.count("neuron.backend=broken failed on cpu") == 1
    assert fresh_backends.implementation("lif", "broken", x) is lif_multistep
    assert fresh_backends.implementation("lif", "broken", torch.empty(1, device="meta")) is broken  # other devices keep it
    fresh_backends._loaded[("lif", "broken2")] = broken
    with pytest.raises(RuntimeError):  # the reference rejects it too: an input error, raised
        fresh_backends.run("lif", "broken2", x, torch.zeros(5), *LIF_ARGS)


def test_auto_chooses_by_dynamics_device_and_size():
    small, large = torch.empty(8, 100, device="meta"), torch.empty(8, backends.CPU_COMPILE_MIN_NUMEL // 8, device="meta")
    long = torch.empty(backends.CPU_COMPILE_MAX_STEPS + 1, backends.CPU_COMPILE_MIN_NUMEL, device="meta")
    cuda = SimpleNamespace(is_cuda=True, numel=lambda: 1)
    assert backends.auto_choice("lif", small) == "scan"
    assert backends.auto_choice("lif", large) == "compile"
    assert backends.auto_choice("lif", long) == "scan"  # the unrolled loop would take minutes to compile
    assert backends.auto_choice("lif", large, training=False) == "scan"
    assert backends.auto_choice("lif", cuda) == backends.auto_choice("lif", cuda, training=False) == "triton"
    assert backends.auto_choice("cuba", large) == "torch"
    assert backends.auto_choice("cuba", cuda) == "triton"


def test_auto_on_a_small_cpu_tensor_runs_the_eager_scan(fresh_backends, caplog):
    x = torch.randn(4, 2, 3, requires_grad=True)
    with caplog.at_level(logging.WARNING):
        spikes = LIF(LIFConfig(backend="auto"))(x)
    assert caplog.text == "" and fresh_backends.implementation("lif", "auto", x) is lif_scan
    assert set(fresh_backends._loaded) == {("lif", "torch"), ("lif", "scan")}
    assert torch.equal(spikes, lif_multistep(x, None, *LIF_ARGS)[0])


def test_auto_in_evaluation_mode_runs_the_eager_scan_whatever_the_size(fresh_backends):
    """Evaluation compiles nothing: a drive above the compile threshold goes to the scan too."""
    x = torch.rand(8, backends.CPU_COMPILE_MIN_NUMEL // 8 + 1)
    with torch.no_grad():
        spikes = LIF(LIFConfig(backend="auto")).eval()(x)
    assert set(fresh_backends._loaded) == {("lif", "torch"), ("lif", "scan")}  # compile was never imported
    assert torch.equal(spikes, lif_multistep(x, None, *LIF_ARGS)[0])


# ----- channels_last through a model -------------------------------------------------------------
def test_channels_last_cnn_matches_contiguous():
    """The fused LIF scans channels_last conv output in place and hands on the same layout."""
    from snntrain.core.registry import build

    torch.manual_seed(0)
    neuron = build("neuron", {"name": "lif", "backend": "torch"})
    net = build("model", {"name": "cnn", "spec": "4C3-P2-6C3-P2"}, (2, 12, 12), 3, neuron)
    for module in net.modules():
        if isinstance(module, LIF):
            module.backend = "scan"
    x = torch.rand(3, 2, 2, 12, 12)
    reference = net(x)
    net.to(memory_format=torch.channels_last)
    spikes_seen = []
    net.body[1].register_forward_hook(lambda m, i, out: spikes_seen.append(out))
    torch.testing.assert_close(net(x), reference)
    assert spikes_seen[0][0].is_contiguous(memory_format=torch.channels_last)  # no layout copies


@pytest.mark.slow
def test_trainer_channels_last_switch(tmp_path):
    from snntrain.app import train
    from tests.conftest import SMOKE, compose_config

    cfg = compose_config([*SMOKE, "model=cnn", "model.spec=4C3-P2", "trainer.channels_last=true", "T=2"])
    metrics = train(cfg, tmp_path)
    assert metrics["epochs"] == 1 and metrics["final_train_loss"] > 0


# ----- rounding on the GPU -----------------------------------------------------------------------
@pytest.mark.parametrize("module", ["snntrain.neurons.kernels.lif_triton", "snntrain.neurons.kernels.cuba_triton", "snntrain.methods.hm2bp.psp_triton"])
def test_every_triton_launch_rounds_like_the_reference(module):
    """Each ``kernel[grid](...)`` launch passes ``**EXACT_ROUNDING`` (no fused multiply-adds).

    Only compiled GPU kernels fuse, so tests/cuda sees the effect (identical spikes on both
    devices); the interpreter never does, which is why this checks the launches themselves.
    """
    import ast
    import importlib
    import inspect

    pytest.importorskip("triton")
    tree = ast.parse(inspect.getsource(importlib.import_module(module)))
    launches = [node for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Subscript)]
    assert launches, f"no kernel launch found in {module}"
    for call in launches:
        spread = [k.value.id for k in call.keywords if k.arg is None and isinstance(k.value, ast.Name)]
        assert "EXACT_ROUNDING" in spread, f"{module}, line {call.lineno}: launch without **EXACT_ROUNDING"
