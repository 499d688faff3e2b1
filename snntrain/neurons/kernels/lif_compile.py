"""``neuron.backend=compile``: the ``lif_scan`` loops compiled by ``torch.compile`` (inductor).

Inductor unrolls the T steps and fuses them into one C++ loop over the neurons (OpenMP and
SIMD on the CPU, Triton on CUDA): the drive is read once, spikes and u are written once, and
the backward is one reverse-time loop, as in the Triton kernels.

Compilation costs seconds per (T, neuron config, dtype, train/eval) on first use; the tensors
are scanned as [T, N] with N dynamic, so every layer width and batch size shares one
compiled loop. Inductor's on-disk cache (``TORCHINDUCTOR_CACHE_DIR``, by default under the
temp dir) makes later processes start faster. If compilation fails (no C++ compiler, say),
``neurons.backends`` warns once and runs the torch reference from then on.
"""

from __future__ import annotations

import torch

from snntrain.neurons.kernels.fused import Engine, fused_lif
from snntrain.neurons.kernels.lif_scan import backward_scan, forward_scan

_forward_scan = torch.compile(forward_scan, dynamic=False)
_backward_scan = torch.compile(backward_scan, dynamic=False)
# Each (T, reset, detach_reset, surrogate, dtype) is its own graph; dynamo's default limit of 8
# graphs per function would silently drop a process with many neuron configs back to eager.
_graph_limit = torch._dynamo.config.patch(recompile_limit=64)


def _dynamic(t: torch.Tensor | None) -> torch.Tensor | None:
    """Mark the neuron dimension (the last of [T, N] or [N]) dynamic: no recompiles for new widths."""
    if t is not None:
        torch._dynamo.maybe_mark_dynamic(t, t.dim() - 1)
    return t


@_graph_limit
def forward(x, v0, decay, threshold, soft_reset, save_u):
    return _forward_scan(_dynamic(x), _dynamic(v0), decay, threshold, soft_reset, save_u)


@_graph_limit
def backward(grad_s, grad_v, u, *args):
    return _backward_scan(_dynamic(grad_s), _dynamic(grad_v), _dynamic(u), *args)


ENGINE = Engine("compile", forward, backward)


def lif_compiled(x, v0, decay, threshold, soft_reset, detach_reset, surrogate, alpha):
    """``lif_multistep`` by the compiled scans."""
    return fused_lif(ENGINE, x, v0, decay, threshold, soft_reset, detach_reset, surrogate, alpha)
