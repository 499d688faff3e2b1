"""HOSVD's cost in test accuracy, in the paper's protocol: a pretrained spiking CNN (digits, default
epochs and seed) whose last two conv/linear layers are fine-tuned with BatchNorm in eval mode,
compressing the inputs of those layers at ε = 0.9, against the same fine-tuning without compression.

Measured (``python scripts/bench.py hosvd_accuracy``): after 10 epochs of fine-tuning, test
accuracy at the best validation epoch 95.26 % with and without HOSVD, for 2.4x fewer saved bytes;
at the last epoch 95.54 % vs 96.10 % in one run, 95.26 % vs 96.38 % in another. From scratch the same ε costs 14 points (81.1 % vs 95.3 %): no target.
"""

import pytest

from snntrain.app import train
from tests.conftest import compose_config

RUN = ["experiment=digits_cnn", "trainer.progress=false", "logger=none"]
FINETUNE = ["trainer.finetune_last=2", "trainer.bn_eval=true", "trainer.max_epochs=10"]


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("pretrained")
    train(compose_config([*RUN, "trainer.max_epochs=30"]), folder)
    return str(folder / "checkpoints" / "best.pt")


@pytest.mark.slow
def test_fine_tuning_with_hosvd_at_eps_0_9_loses_at_most_one_point(pretrained, tmp_path):
    start = [*RUN, *FINETUNE, f"trainer.init_from={pretrained}"]
    plain = train(compose_config([*start, "compression=none"]), tmp_path / "none")
    compressed = train(compose_config([*start, "compression=hosvd", "compression.eps=0.9"]), tmp_path / "hosvd")
    assert compressed["compression_ratio"] > 2.0
    assert compressed["saved_bytes_per_sample"] < plain["saved_bytes_per_sample"] / 2
    # The honest figure (test accuracy at the best-validation epoch): the last epoch's moves by ±1 point
    # (4 of 359 test images) from one run to another with any change to the random stream.
    assert compressed["test_acc_at_best_val"] >= plain["test_acc_at_best_val"] - 0.01
