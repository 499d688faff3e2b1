"""HOSVD's cost in test accuracy: the spiking CNN on digits, default epochs and seed, against none."""

import pytest

from snntrain.engine.run import train
from tests.conftest import compose_config

RUN = ["model=cnn", "trainer.progress=false", "logger=none"]


@pytest.fixture(scope="module")
def accuracy_without_compression(tmp_path_factory) -> float:
    return train(compose_config([*RUN, "compression=none"]), tmp_path_factory.mktemp("none"))["test_acc"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "eps",
    [
        pytest.param(
            0.9,
            marks=pytest.mark.xfail(
                strict=True,
                reason="measured: 79.1 % against 95.3 % without compression. Trained from scratch, the ε=0.9 "
                "ranks (e.g. 7 of 256 batch·time directions at the first conv) bias every weight gradient "
                "towards the batch's dominant directions; the paper's ε=0.8-0.9 results are for fine-tuning.",
            ),
        ),
    ],
)
def test_hosvd_loses_at_most_one_point_of_test_accuracy(eps, accuracy_without_compression, tmp_path):
    metrics = train(compose_config([*RUN, "compression=hosvd", f"compression.eps={eps}"]), tmp_path)
    assert metrics["compression_ratio"] > 1.0
    assert metrics["test_acc"] >= accuracy_without_compression - 0.01
