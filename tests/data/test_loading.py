"""The DataLoader-based batch loader: today's seeded order, exact mid-epoch resume, the same batches
whichever process reads them, and torch's global random stream left alone."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from snntrain.app import train
from snntrain.data import BatchLoader, Split
from snntrain.data.augment import AugmentConfig, augment, batch_generator
from tests.conftest import SMOKE, compose_config

N = 23
RECIPE = AugmentConfig(flip=True, roll=1, cutout=2)


def images() -> Split:
    g = torch.Generator().manual_seed(0)
    return Split(torch.rand(N, 1, 6, 6, generator=g), torch.arange(N))


def todays_order(n: int, batch_size: int, seed: int, epoch: int, rank: int, world_size: int) -> list[list[int]]:
    """The order snntrain's loader has always read (the reference): a permutation from seed + epoch,
    global batches of batch_size x world_size, rank r every world_size-th sample of each (dropping a
    last global batch too small for every rank), each batch sorted."""
    order = np.random.default_rng(seed + epoch).permutation(n)
    step = batch_size * world_size
    batches = [order[i : i + step] for i in range(0, n, step)]
    return [sorted(b[rank::world_size].tolist()) for b in batches if len(b) >= world_size]


@pytest.mark.parametrize("workers", [0, 2])
@pytest.mark.parametrize(("rank", "world_size"), [(0, 1), (1, 3)])
def test_batches_come_in_todays_seeded_order(workers, rank, world_size):
    split = images()
    loader = BatchLoader(split, 4, True, seed=5, rank=rank, world_size=world_size, equal_steps=True, workers=workers)
    for epoch in (0, 1, 7):
        loader.set_epoch(epoch)
        expected = todays_order(N, 4, 5, epoch, rank, world_size)
        assert [y.tolist() for _, y in loader] == expected and len(loader) == len(expected)
        assert all(torch.equal(x, split.x[y]) for x, y in loader)


@pytest.mark.parametrize("workers", [0, 2])
def test_a_resumed_epoch_continues_with_the_same_augmented_batches(workers):
    loader = BatchLoader(images(), 4, True, seed=1, augmentation=RECIPE, workers=workers)
    loader.set_epoch(2)
    full = list(loader)
    for start in (1, 4):
        assert all(torch.equal(a, b) and torch.equal(ya, yb) for (a, ya), (b, yb) in zip(loader.batches(start=start), full[start:], strict=True))
    raw = images().x
    expected = [augment(raw[y], RECIPE, batch_generator(1, 2, i, 0)) for i, (_, y) in enumerate(full)]
    assert all(torch.equal(x, e) for (x, _), e in zip(full, expected, strict=True))


def test_reading_leaves_torchs_global_random_stream_alone():
    state = torch.get_rng_state()
    list(BatchLoader(images(), 4, True, seed=0, augmentation=RECIPE))
    assert torch.equal(torch.get_rng_state(), state)


@pytest.mark.slow
def test_loader_processes_change_no_result(tmp_path):
    """A run whose batches are read and augmented by two loader processes ends where one that reads
    them in the training process ends (metrics apart from timings)."""
    runs = []
    for workers in (0, 2):
        overrides = [*SMOKE, "trainer.limit_batches=6", "dataset.augment.flip=true", "dataset.augment.cutout=2",
                     "dataset.encoder=poisson", f"dataset.loader_workers={workers}"]
        train(compose_config(overrides), tmp_path / str(workers))
        metrics = json.loads((tmp_path / str(workers) / "metrics.json").read_text())
        runs.append({k: metrics[k] for k in ("test_acc", "best_val_acc", "final_train_loss")})
    assert runs[0] == runs[1]
