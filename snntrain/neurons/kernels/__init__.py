"""Fused multi-step neuron kernels: the LIF scan equations and their eager engine
(``lif_scan``), the autograd Function every engine plugs into (``fused``), and the compiled
engines ``lif_compile`` (torch.compile) and ``lif_triton`` (Triton); ``cuba_triton`` (Triton) for
CUBA. ``neurons.backends`` imports each on first use."""

import os

import torch

INTERPRETED = os.environ.get("TRITON_INTERPRET") == "1"
"""Triton runs the kernels in its interpreter, on CPU tensors too (tests without a GPU)."""

# Launch options for every Triton kernel: no fused multiply-add contraction (Triton's default on
# GPUs), so the kernels round each step exactly as the torch references do. A one-ulp difference
# in a membrane near threshold moves a spike, and over a CUBA network's hundreds of steps that was
# seen to change HM2-BP's conv gradients by 5 % between the GPU and the CPU. The kernels are
# memory-bound, so the unfused arithmetic costs no measurable time.
EXACT_ROUNDING = {"enable_fp_fusion": False}


def require_triton_device(x: torch.Tensor) -> None:
    """RuntimeError unless Triton can run on ``x``: a CUDA tensor, or any under the interpreter
    (``neurons.backends`` then runs the reference on that device)."""
    if not (x.is_cuda or INTERPRETED):
        raise RuntimeError("the Triton kernels run CUDA tensors only (CPU tensors under TRITON_INTERPRET=1)")
