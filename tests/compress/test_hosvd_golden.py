"""HOSVD_ε against numbers computed by the official code (Le-TrungNguyen/NeurIPS2024-ActivationCompression@6e7b650).

``../shared/golden/hosvd_official.npz`` (its README, section 4) holds, for four activations
(low-rank, binary spikes, rates, smooth) at ε = 0.8, 0.9 and 0.99, the official ``hosvd`` ranks,
the reconstruction ``restore_hosvd`` gives and ``Conv2d_HOSVD_op``'s conv weight gradient, all in
float64. snntrain's ``hosvd`` must choose the same ranks exactly, and its reconstruction and both
of its weight-gradient routes (from the reconstruction, and from the factors with
``factor_grad``) must agree to 1e-11 (the README's float64 tolerance).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from snntrain.compress.factor_grad import conv2d_weight_grad_from_factors
from snntrain.compress.hosvd import hosvd
from tests.golden import golden_arrays, relative_error

TOLERANCE = 1e-11
TENSORS = ["lowrank", "spikes", "rates", "smooth"]
EPS = {"eps80": 0.8, "eps90": 0.9, "eps99": 0.99}


@pytest.fixture(scope="module")
def golden() -> dict[str, np.ndarray]:
    return golden_arrays("hosvd_official.npz")


def test_the_file_covers_the_tensors_and_thresholds_tested(golden):
    assert "NeurIPS2024-ActivationCompression@6e7b650" in str(golden["source"])
    assert golden["tensor_names"].tolist() == TENSORS
    assert golden["eps_values"].tolist() == list(EPS.values())


@pytest.mark.parametrize("eps_key", list(EPS))
@pytest.mark.parametrize("name", TENSORS)
def test_ranks_reconstruction_and_weight_gradients_match_the_official_code(golden, name, eps_key):
    a = torch.from_numpy(golden[f"{name}_A"])
    weight = golden[f"{name}_conv_weight"]
    grad_output = torch.from_numpy(golden[f"{name}_grad_output"])
    stride, padding = int(golden[f"{name}_conv_stride"]), int(golden[f"{name}_conv_padding"])
    expected = f"{name}_{eps_key}"

    tucker = hosvd(a, EPS[eps_key])
    assert list(tucker.ranks) == golden[f"{expected}_ranks"].tolist()
    reconstruction = tucker.restore()
    from_reconstruction = torch.nn.grad.conv2d_weight(reconstruction, weight.shape, grad_output, stride, padding)
    from_factors = conv2d_weight_grad_from_factors(tucker, grad_output, weight.shape[2:], stride, padding)
    errors = {
        "reconstruction": relative_error(reconstruction, golden[f"{expected}_reconstruction"]),
        "grad from reconstruction": relative_error(from_reconstruction, golden[f"{expected}_grad_weight"]),
        "grad from factors": relative_error(from_factors, golden[f"{expected}_grad_weight"]),
    }
    assert max(errors.values()) <= TOLERANCE, errors
