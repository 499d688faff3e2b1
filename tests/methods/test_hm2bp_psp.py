"""The S-PSP in matrix form equals the direct double sum over spike pairs (METHODS.md §5)."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch

from snntrain.methods.hm2bp.psp import PSPKernel, psp_matrix
from tests.methods import hm2bp_reference as ref

KERNEL = PSPKernel(ref.TAU_M, ref.TAU_S, ref.T_REF, ref.WINDOW)


@pytest.mark.parametrize("delay", [0, ref.T_REF])
@pytest.mark.parametrize("steps, post_rate, pre_rate", [(600, 0.02, 0.05), (300, 0.3, 0.3), (40, 0.1, 0.5)])
def test_matrix_form_equals_double_sum(steps, post_rate, pre_rate, delay):
    """Long trains cross the 4 tau_m window; dense ones keep hitting the refractory period; with the
    official presynaptic delay and without it."""
    g = torch.Generator().manual_seed(steps)
    post = ref.refractory_train((steps, 6), post_rate, g)
    pre = torch.rand((steps, 9), generator=g) < pre_rate
    post[:, 0] = False  # a silent output neuron: no effect at all
    post[:, 1] = False
    post[steps - 1, 1] = True  # a single spike at the very end
    p = psp_matrix(post, replace(KERNEL, delay=delay), dtype=torch.float64)
    matrix = p.T @ pre.double()
    direct = torch.tensor([[ref.effect(post[:, i], pre[:, j], delay) for j in range(9)] for i in range(6)], dtype=torch.float64)
    assert direct[2:].abs().sum() > 0
    torch.testing.assert_close(matrix, direct, rtol=1e-11, atol=1e-12)


def test_delay_drops_inputs_that_arrive_within_t_ref_of_the_output_spike():
    """One output spike at 20: the official kernel sees an input at t as eps(20 - t - t_ref) and
    nothing from the last t_ref steps before the spike (eps(0) = 0 at t = 20 - t_ref)."""
    post = torch.zeros(30, 1, dtype=torch.bool)
    post[20] = True
    p = psp_matrix(post, replace(KERNEL, delay=ref.T_REF), dtype=torch.float64)
    for t in range(20 - ref.T_REF):
        assert math.isclose(float(p[t, 0]), ref.eps(20 - t - ref.T_REF), rel_tol=1e-12)
    assert float(p[20 - ref.T_REF :].abs().sum()) == 0.0


def test_matrix_form_batched_over_leading_dims():
    """P treats every trailing index as its own neuron: [T, B, C, H, W] == per-neuron [T]."""
    g = torch.Generator().manual_seed(1)
    post = ref.refractory_train((300, 2, 3, 2, 2), 0.05, g)
    p = psp_matrix(post, KERNEL, dtype=torch.float64)
    single = psp_matrix(post[:, 1, 2, 0, 1], KERNEL, dtype=torch.float64)
    torch.testing.assert_close(p[:, 1, 2, 0, 1], single)


def test_first_spike_sees_plain_psp():
    """One output spike: each earlier input spike adds eps(tau) (no reset before the first spike)."""
    post = torch.zeros(30, 1, dtype=torch.bool)
    post[20] = True
    p = psp_matrix(post, KERNEL, dtype=torch.float64)
    for t in range(20):
        assert math.isclose(float(p[t, 0]), ref.eps(20 - t), rel_tol=1e-12)
    assert float(p[20:].abs().sum()) == 0.0
