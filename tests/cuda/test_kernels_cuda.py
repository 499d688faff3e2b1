"""The fused kernels on real CUDA tensors, against the torch references (gradients included).

LIF (Triton): every reset x detach x surrogate, with and without an initial membrane, float32,
bf16 and fp16 drives, neuron counts that are not multiples of the block, channels_last drives,
and ``neuron.backend=auto`` choosing Triton without falling back. CUBA and the S-PSP scan
(Triton): equal to the torch loops, on the GPU and against the CPU.
"""

from __future__ import annotations

import logging

import pytest
import torch

from snntrain.neurons import backends
from snntrain.neurons.dynamics.lif import lif_multistep
from snntrain.neurons.lif import LIF, LIFConfig
from tests.neurons.test_kernels import COMBOS, IDS


@pytest.fixture(scope="module")
def lif_triton():
    from snntrain.neurons.kernels import INTERPRETED, lif_triton

    assert not INTERPRETED, "TRITON_INTERPRET is set: the kernels would not be compiled for the GPU"
    return lif_triton.lif_triton


def draw(shape, dtype, with_v0, seed=0):
    gen = torch.Generator(device="cuda").manual_seed(seed)
    x = (torch.randn(shape, generator=gen, device="cuda") * 0.8 + 0.5).to(dtype).requires_grad_()
    v0 = torch.randn(shape[1:], generator=gen, device="cuda").requires_grad_() if with_v0 else None
    grad_s = torch.randn(shape, generator=gen, device="cuda").to(dtype)
    grad_v = torch.randn(shape[1:], generator=gen, device="cuda")
    return x, v0, grad_s, grad_v


def run(impl, x, v0, grad_s, grad_v, args):
    spikes, v = impl(x, v0, *args)
    inputs = [x] if v0 is None else [x, v0]
    return spikes, v, torch.autograd.grad([spikes, v], inputs, [grad_s, grad_v])


def assert_matches(impl, shape, args, dtype=torch.float32, with_v0=True, tol=1e-5):
    x, v0, grad_s, grad_v = draw(shape, dtype, with_v0)
    spikes, v, grads = run(impl, x, v0, grad_s, grad_v, args)
    ref_spikes, ref_v, ref_grads = run(lif_multistep, x, v0, grad_s, grad_v, args)
    assert spikes.is_cuda and spikes.dtype == dtype and v.dtype == torch.float32
    assert torch.equal(spikes, ref_spikes), "spikes differ"
    torch.testing.assert_close(v, ref_v, atol=tol, rtol=tol)
    for got, want in zip(grads, ref_grads):
        torch.testing.assert_close(got, want, atol=tol, rtol=tol)


@pytest.mark.parametrize("soft,detach,surrogate", COMBOS, ids=IDS)
@pytest.mark.parametrize("with_v0", [True, False], ids=["v0", "no-v0"])
def test_triton_lif_matches_the_reference(lif_triton, cuda, soft, detach, surrogate, with_v0):
    # 4 * 37 * 101 = 14948 neurons: 14 full blocks of 1024 and a partial one.
    assert_matches(lif_triton, (7, 4, 37, 101), (0.7, 1.0, soft, detach, surrogate, 4.0), with_v0=with_v0)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16], ids=["bf16", "fp16"])
def test_triton_lif_half_drives(lif_triton, cuda, dtype):
    assert_matches(lif_triton, (5, 3, 2049), (0.5, 0.8, True, True, "sigmoid", 2.0), dtype=dtype, tol=1e-2)


def test_triton_lif_channels_last_drive_keeps_its_layout(lif_triton, cuda):
    x = torch.randn(4, 3, 8, 9, 9, device="cuda").flatten(0, 1).contiguous(memory_format=torch.channels_last)
    x = x.unflatten(0, (4, 3)).requires_grad_()
    args = (0.5, 1.0, True, True, "atan", 4.0)
    spikes, _ = lif_triton(x, None, *args)
    ref, _ = lif_multistep(x, None, *args)
    assert spikes.stride() == x.stride() and torch.equal(spikes, ref)
    grad = torch.randn_like(ref)
    (g,) = torch.autograd.grad(spikes, x, grad)
    (g_ref,) = torch.autograd.grad(ref, x, grad)
    torch.testing.assert_close(g, g_ref, atol=1e-5, rtol=1e-5)


def test_auto_backend_runs_triton_on_cuda_without_falling_back(lif_triton, cuda, caplog):
    assert backends.auto_choice("lif", torch.empty(1, device="cuda")) == "triton"
    x = torch.randn(6, 8, 300, device="cuda")
    with caplog.at_level(logging.WARNING):
        spikes = LIF(LIFConfig(backend="auto"))(x)
    assert "failed" not in caplog.text and "not available" not in caplog.text, caplog.text
    assert torch.equal(spikes, lif_multistep(x, None, 0.5, 1.0, True, True, "sigmoid", 4.0)[0])


@pytest.mark.parametrize("inhibition", [0.0, 1.0])
def test_cuba_triton_equals_the_torch_loop_on_gpu_and_cpu(cuda, inhibition):
    from snntrain.neurons.dynamics.cuba import CUBAParams, cuba_multistep, initial_state
    from snntrain.neurons.kernels.cuba_triton import cuba_multistep_triton

    assert backends.implementation("cuba", "auto", torch.empty(1, device=cuda)) is cuba_multistep_triton
    params = CUBAParams(64.0, 8.0, 2, 3.0, inhibition)
    # Drives in steps of 1/64: every sum is exact, so the devices see the same numbers.
    drive = torch.round(torch.randn(90, 5, 700, generator=torch.Generator().manual_seed(1)) * 128) / 64
    cpu, cpu_state = cuba_multistep(drive, initial_state(drive[0]), params)
    gpu = drive.to(cuda)
    fused, fused_state = cuba_multistep_triton(gpu, initial_state(gpu[0]), params)
    loop, _ = cuba_multistep(gpu, initial_state(gpu[0]), params)
    assert cpu.any() and torch.equal(fused, loop) and torch.equal(fused.cpu(), cpu)
    torch.testing.assert_close(fused_state.voltage.cpu(), cpu_state.voltage, rtol=1e-5, atol=1e-5)


def test_psp_scan_triton_equals_the_torch_loop(cuda):
    from snntrain.methods.hm2bp.psp import PSPKernel, psp_matrix
    from snntrain.methods.hm2bp.psp_triton import psp_matrix_triton

    spikes = torch.rand(300, 4, 513, generator=torch.Generator().manual_seed(2)) < 0.05
    for window, delay in ((40, 0), (40, 2), (256, 0), (256, 2)):  # method.psp_delay=paper | official
        kernel = PSPKernel(64.0, 8.0, 2, window, delay)
        want = psp_matrix(spikes, kernel)
        got = psp_matrix_triton(spikes.to(cuda), kernel)
        torch.testing.assert_close(got.cpu(), want, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(psp_matrix(spikes.to(cuda), kernel).cpu(), want, rtol=1e-5, atol=1e-6)
