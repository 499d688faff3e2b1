"""HM2-BP learns: the embedded digits through the CLI's path, and real MNIST images, in short runs.

The long runs with the 95 % targets (``snntrain method=hm2bp`` as shipped; 784-400-10 for 4 epochs
on real MNIST) are the bench suite ``python scripts/bench.py hm2bp_accuracy``. Here: a narrower
hidden layer and fewer epochs, against a lower bar than the long runs reach (chance is 10 %).
"""

from __future__ import annotations

import pytest
import torch

from snntrain.app import train
from tests.conftest import compose_config
from tests.engine.test_real_mnist import mnist_8000_2000

QUIET = ["logger=none", "trainer.progress=false"]


@pytest.fixture(autouse=True)
def one_thread():
    """HM2-BP's time loops are many small ops; on a busy 2-core box a second intra-op thread
    mostly spins between them (four times the CPU time, measured): run these on one."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.slow
def test_digits_reach_90_percent_in_8_epochs(tmp_path):
    """``snntrain method=hm2bp model.hidden=[100] trainer.max_epochs=8`` (the preset's T, thresholds, counts
    and lr): 92.5 % measured; the shipped 64-800-10 for 15 epochs reaches 95-96 % (bench hm2bp_accuracy)."""
    metrics = train(compose_config(["method=hm2bp", "model.hidden=[100]", "trainer.max_epochs=8", *QUIET]), tmp_path)
    assert metrics["test_acc"] >= 0.90


# The digits recipe (direct input, desired counts 15 / 0, margin 2, lr 5e-3, the regulariser on) at T = 100.
MNIST = ["T=100", "neuron.threshold=[20,8]", "method.desired=15", "method.undesired=0", "method.margin=2",
         "optimizer.lr=5e-3", "dataset.batch_size=32", "dataset.eval_batch_size=500"]


@pytest.mark.slow
def test_real_mnist_mlp_reaches_85_percent_in_one_epoch(shared_data, tmp_path):
    """784-100-10, one epoch over the official test set's first 8,000 images, tested on its last 2,000:
    89 % measured (784-400-10 for 4 epochs: 95.55 %, bench hm2bp_accuracy)."""
    cfg = compose_config(["method=hm2bp", "dataset=mnist", *MNIST, "model.hidden=[100]", "trainer.max_epochs=1", *QUIET])
    metrics = train(cfg, tmp_path, data=mnist_8000_2000(shared_data))
    assert metrics["test_acc"] >= 0.85
