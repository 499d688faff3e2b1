"""HM2-BP learns: the embedded digits through the CLI's path, and real MNIST images.

Slow-marked. The MNIST check reads the official test-set files in ../shared/data (first 8,000
images to train, last 2,000 to test) and trains 784-400-10 for 4 epochs at T = 100 with the
digits recipe (direct input, desired counts 15 / 0, lr 5e-3, the regulariser on): 95.55 % in
about 2 minutes on one busy CPU core (the paper's 784-800-10 at T = 400 for 200 epochs is
experiment=hm2bp_mnist_mlp). The official batch gradient (mean + regulariser) makes the
regulariser weigh 32 times more at batch 32 than the batch sum did, which costs this short
recipe about a point at 3 epochs (94.4 %; 95.6 % without the regulariser).
"""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from snntrain.app import plan, train
from snntrain.data import DataBundle, DatasetInfo, Split
from snntrain.data.augment import AugmentConfig
from snntrain.data.pipeline import input_pipeline
from snntrain.data.vision import read_idx
from snntrain.engine.logger import RunLogger
from snntrain.engine.trainer import RunContext, Trainer, TrainingParts
from tests.conftest import compose_config

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
def test_digits_reach_95_percent(tmp_path):
    metrics = train(compose_config(["method=hm2bp", *QUIET]), tmp_path)
    assert max(metrics["test_acc"], metrics["best_test_acc"]) >= 0.95


def mnist_bundle(root) -> DataBundle:
    images = read_idx(root / "mnist" / "raw" / "t10k-images-idx3-ubyte.gz")
    labels = read_idx(root / "mnist" / "raw" / "t10k-labels-idx1-ubyte.gz")
    x = torch.from_numpy(images.astype("float32") / 255.0).unsqueeze(1)
    y = torch.from_numpy(labels.astype("int64"))
    info = DatasetInfo((1, 28, 28), 10)
    return DataBundle(Split(x[:8000], y[:8000]), None, Split(x[-2000:], y[-2000:]), info)


@pytest.mark.slow
def test_real_mnist_mlp_reaches_95_percent(shared_data, tmp_path):
    cfg = compose_config(["method=hm2bp", "dataset=mnist", *MNIST, *QUIET])
    p = plan(cfg)
    # The test set's digits as they are: direct input, no augmentation.
    dcfg = replace(p.cfgs["dataset"], encoder="direct", poisson_scale=1.0, augment=AugmentConfig(), eval_batch_size=500)
    pipeline = input_pipeline(mnist_bundle(shared_data), dcfg, p.T)
    parts = TrainingParts(p.model, p.method, p.optimizer, p.scheduler, p.codec)
    trainer = Trainer(p.cfgs["trainer"], parts, pipeline, RunContext(tmp_path, RunLogger(enabled=False)))
    metrics = trainer.fit()
    assert metrics["test_acc"] >= 0.95


MNIST = ["T=100", "model.hidden=[400]", "neuron.threshold=[20,8]", "method.desired=15", "method.undesired=0",
         "method.margin=2", "optimizer.lr=5e-3", "dataset.batch_size=32", "trainer.max_epochs=4"]
