"""Every test here runs real CUDA kernels: marked ``cuda``, skipped (with the reason) without a GPU.

``pytest -m cuda`` runs just these (the GPU check, ``scripts/device_session.sh``). Triton must
compile for the GPU in that process, so ``TRITON_INTERPRET`` must not be set there.
"""

from __future__ import annotations

import pytest
import torch


def pytest_collection_modifyitems(config, items):
    here = __file__.rsplit("/", 1)[0]
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.cuda)
            if not torch.cuda.is_available():
                item.add_marker(pytest.mark.skip(reason="needs a CUDA device (run on a GPU machine: bash scripts/device_session.sh)"))


@pytest.fixture
def cuda() -> torch.device:
    """The GPU, with TF32 off so that matmuls round as on the CPU (restored afterwards)."""
    matmul, conv = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield torch.device("cuda")
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = matmul, conv
