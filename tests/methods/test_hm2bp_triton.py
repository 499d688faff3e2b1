"""The Triton kernels (CUBA neuron, S-PSP scan) equal the torch loops, run by Triton's CPU
interpreter in a subprocess (TRITON_INTERPRET must be set before Triton compiles anything)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("triton")

SCRIPT = """
import torch
from snntrain.methods.hm2bp.psp import PSPKernel, psp_matrix
from snntrain.methods.hm2bp.psp_triton import psp_matrix_triton
from snntrain.neurons.dynamics.cuba import CUBAParams, cuba_multistep, initial_state
from snntrain.neurons.kernels.cuba_triton import cuba_multistep_triton

torch.manual_seed(0)
for inhibition in (0.0, 1.0):
    params = CUBAParams(64.0, 8.0, 2, 3.0, inhibition)
    drive = torch.randn(70, 3, 6) * 2
    loop, loop_state = cuba_multistep(drive, initial_state(drive[0]), params)
    fused, fused_state = cuba_multistep_triton(drive, initial_state(drive[0]), params)
    assert loop.any() and torch.equal(loop, fused), inhibition
    assert torch.equal(loop_state.voltage, fused_state.voltage)
fused = {}
for delay in (0, 2):  # method.psp_delay=paper | official (t_ref = 2)
    kernel = PSPKernel(64.0, 8.0, 2, 40, delay)  # a short window, so spikes leave it within T
    fused[delay] = psp_matrix_triton(loop, kernel)
    torch.testing.assert_close(fused[delay], psp_matrix(loop, kernel), rtol=1e-5, atol=1e-6)
assert not torch.allclose(fused[0], fused[2])
print("ok")
"""


@pytest.mark.slow
def test_triton_kernels_match_the_torch_loops():
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "TRITON_INTERPRET": "1", "PYTHONPATH": str(root)}
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
