"""dataset=cifar10 keeps uint8 images and turns them into (normalised) floats after augmentation:
the model sees what it saw before when nothing is augmented, and black where padding and Cutout
zero a pixel; the rate-BP CIFAR rows switch AutoAugment on."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from snntrain.app import plan, train
from snntrain.core.errors import ConfigError
from snntrain.data import BatchLoader
from snntrain.data.augment import AugmentConfig, augment, batch_generator
from snntrain.data.vision import CIFAR10_SPEC
from snntrain.methods.bptt import BPTT
from tests.conftest import SMOKE, compose_config

PER_FILE = 10  # images in each of the five training files; the test file holds as many


@pytest.fixture
def fake_cifar10(tmp_path, monkeypatch):
    """A cifar-10-batches-py folder of random images in torchvision's pickle layout (its checksums
    are those of the real files, so the check is switched off)."""
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        entry = {"data": rng.integers(0, 256, (PER_FILE, 3 * 32 * 32), dtype=np.uint8), "labels": list(range(PER_FILE))}
        (folder / name).write_bytes(pickle.dumps(entry))
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": [str(c) for c in range(10)]}))
    monkeypatch.setattr("torchvision.datasets.cifar.check_integrity", lambda *args, **kwargs: True)
    return tmp_path


def as_before(x: torch.Tensor, normalize: bool) -> torch.Tensor:
    """The floats CIFAR splits stored before they stayed uint8: x / 255, then (x - mean) / std."""
    x = x.float() / 255.0
    if normalize:
        x = (x - torch.tensor(CIFAR10_SPEC.mean).view(3, 1, 1)) / torch.tensor(CIFAR10_SPEC.std).view(3, 1, 1)
    return x


def run_recording_inputs(cfg, run_dir, monkeypatch) -> tuple[dict[str, list[torch.Tensor]], object]:
    """Train ``cfg``; return the step-0 input of every training step and prediction, and the data."""
    data = plan(cfg).source.load()
    seen = {"step": [], "predict": []}
    originals = {"step": BPTT.step, "predict": BPTT.predict}

    def record(kind):
        def wrapper(self, model, x, *args, **kwargs):
            seen[kind].append(x[0].clone())  # direct encoding: step 0 is the batch itself
            return originals[kind](self, model, x, *args, **kwargs)

        return wrapper

    for kind in seen:
        monkeypatch.setattr(BPTT, kind, record(kind))
    train(cfg, run_dir, data=data)
    return seen, data


def cifar_run(root, *extra: str):
    return compose_config(SMOKE + ["dataset=cifar10", f"dataset.root={root}", "dataset.batch_size=8", "dataset.eval_batch_size=8", "model.hidden=[16]", "T=2", *extra])


@pytest.mark.parametrize("normalize", [True, False])
def test_without_augmentation_the_model_sees_the_floats_it_saw_before(normalize, fake_cifar10, tmp_path, monkeypatch):
    cfg = cifar_run(fake_cifar10, f"dataset.normalize={normalize}")
    seen, data = run_recording_inputs(cfg, tmp_path / "run", monkeypatch)
    assert data.train.x.dtype == torch.uint8 and data.train.x.shape == (40, 3, 32, 32)
    raw = [x for x, _ in BatchLoader(data.train, 8, True, cfg.seed, limit=2)]
    expected = {"step": [as_before(x, normalize) for x in raw], "predict": [as_before(data.val.x[:8], normalize), as_before(data.test.x[:8], normalize)]}
    for kind in seen:
        assert len(seen[kind]) == len(expected[kind])
        assert all(torch.equal(s, e) for s, e in zip(seen[kind], expected[kind], strict=True))


def test_crop_padding_and_cutout_are_black_before_normalisation(fake_cifar10, tmp_path, monkeypatch):
    cfg = cifar_run(fake_cifar10, "dataset.augment.crop_padding=4", "dataset.augment.flip=true", "dataset.augment.cutout=16")
    seen, data = run_recording_inputs(cfg, tmp_path / "run", monkeypatch)
    black = ((0.0 - torch.tensor(CIFAR10_SPEC.mean)) / torch.tensor(CIFAR10_SPEC.std)).view(1, 3, 1, 1)
    augment_cfg = AugmentConfig(**cfg.dataset.augment)
    raw = [x for x, _ in BatchLoader(data.train, 8, True, cfg.seed, limit=2)]
    for step, (x, s) in enumerate(zip(raw, seen["step"], strict=True)):
        zeroed = augment(torch.ones_like(x), augment_cfg, batch_generator(cfg.seed, 0, step, 0)) == 0  # padding or hole
        assert zeroed.any()
        assert torch.equal(s, as_before(augment(x, augment_cfg, batch_generator(cfg.seed, 0, step, 0)), True))
        assert torch.equal(s[zeroed], black.expand_as(s)[zeroed])


def test_poisson_encoding_of_normalised_cifar_is_refused_naming_the_fix():
    with pytest.raises(ConfigError, match=r"dataset\.normalize=True is not allowed: the poisson encoder needs intensities in \[0, 1\].*set dataset\.normalize=false"):
        plan(compose_config(["dataset=cifar10", "dataset.encoder=poisson"]))
    plan(compose_config(["dataset=cifar10", "dataset.encoder=poisson", "dataset.normalize=false"]))


@pytest.mark.parametrize("dataset", ["cifar10", "cifar100"])
def test_dataset_mean_and_std_replace_the_statistics_normalize_uses(dataset):
    from torchvision.transforms import Normalize

    mean, std = [0.4914, 0.4822, 0.4465], [0.2023, 0.1994, 0.2010]  # the official rate-BP CIFAR-10 Normalize
    transform = plan(compose_config([f"dataset={dataset}", f"dataset.mean={mean}", f"dataset.std={std}"])).source.scaling
    x = torch.randint(0, 256, (4, 3, 32, 32), dtype=torch.uint8)
    torch.testing.assert_close(transform(x.clone()), Normalize(mean, std)(x.float() / 255), rtol=0, atol=1e-6)
    assert not torch.allclose(plan(compose_config([f"dataset={dataset}"])).source.scaling(x.clone()), Normalize(mean, std)(x.float() / 255))


# The official rate-BP code's Normalize per dataset (util/data.py load_dataset).
OFFICIAL_NORMALIZE = {
    "cifar10": ([0.4914, 0.4822, 0.4465], [0.2023, 0.1994, 0.2010]),
    "cifar100": ([0.5071, 0.4867, 0.4408], [0.2675, 0.2565, 0.2761]),
}


@pytest.mark.parametrize("row", ["ratebp_cifar10_resnet19", "ratebp_cifar100_resnet19", "hosvd_ratebp_cifar10_resnet19"])
def test_the_rate_bp_cifar_rows_use_the_official_recipe_with_autoaugment(row):
    dataset = compose_config([f"experiment={row}"]).dataset
    off = {"scale": 0, "rotation": 0, "elastic": 0, "roll": 0}
    assert dict(dataset.augment) == {**off, "flip": True, "crop_padding": 4, "cutout": 16, "autoaugment": "cifar10"}
    AugmentConfig(**dataset.augment).check_input((3, 32, 32))
    assert dataset.normalize and (list(dataset.mean), list(dataset.std)) == OFFICIAL_NORMALIZE[dataset.name]
