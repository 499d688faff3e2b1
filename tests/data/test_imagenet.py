"""dataset=imagenet on a miniature ImageFolder tree of generated JPEGs: shapes, labels, transforms, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from snntrain.core.errors import ConfigError, DatasetError
from snntrain.core.registry import build
from snntrain.data import BatchLoader
from snntrain.data.imagenet import MEAN, STD, random_resized_crop_box
from tests.conftest import compose_config
from tests.data.imagenet_writer import wnids, write_tree

CLASSES = wnids(3)  # sorted: labels 0, 1, 2


@pytest.fixture
def tree(tmp_path) -> Path:
    write_tree(tmp_path, {"train": 4, "val": 2}, CLASSES)
    return tmp_path


def load(root: Path, *overrides: str, seed: int = 0):
    cfg = compose_config(["dataset=imagenet", f"dataset.root={root}", "dataset.num_classes=3", "dataset.image_size=16", "dataset.workers=2", *overrides])
    return build("dataset", cfg.dataset, seed, 4).load()


def test_splits_shapes_and_labels_from_folder_order(tree):
    data = load(tree)
    assert data.info.input_shape == (3, 16, 16) and data.info.num_classes == 3
    assert (len(data.train), len(data.test), data.val) == (12, 6, None)  # val_fraction defaults to 0
    assert data.train.y.tolist() == [0] * 4 + [1] * 4 + [2] * 4 and data.test.y.tolist() == [0, 0, 1, 1, 2, 2]
    assert [Path(f).parent.name for f in data.test.x.files] == [CLASSES[i] for i in data.test.y]
    x = data.train.x[np.array([0, 5, 11])]
    assert x.shape == (3, 3, 16, 16) and x.dtype == torch.uint8  # made float (and normalised) by data.transform


def test_evaluation_view_is_torchvisions_resize_centre_crop_normalise(tree):
    from torchvision import transforms as tv

    data = load(tree)
    reference = tv.Compose([tv.Resize(round(16 * 256 / 224)), tv.CenterCrop(16), tv.ToTensor(), tv.Normalize(MEAN, STD)])
    with Image.open(data.test.x.files[3]) as image:
        expected = reference(image.convert("RGB"))
    torch.testing.assert_close(data.transform(data.test.x[np.array([3])])[0], expected)
    torch.testing.assert_close(data.test.x[np.array([3])], data.test.x[np.array([3])])  # no randomness


def test_normalize_false_keeps_pixels_in_unit_interval(tree):
    data = load(tree, "dataset.normalize=false")
    x = data.transform(data.train.x[np.arange(12)])
    assert 0.0 <= float(x.min()) and float(x.max()) <= 1.0 and float(x.max()) > 0.5


def test_training_views_follow_seed_epoch_and_sample_only(tree):
    a, b = load(tree).train.x, load(tree).train.x
    batch = a[np.arange(12)]
    torch.testing.assert_close(batch, b[np.arange(12)], rtol=0, atol=0)  # same seed: same crops and flips
    torch.testing.assert_close(a[np.array([7])][0], batch[7], rtol=0, atol=0)  # independent of the batch it is in
    a.set_epoch(1)
    assert not torch.equal(a[np.arange(12)], batch)  # another epoch, other draws
    a.set_epoch(0)
    torch.testing.assert_close(a[np.arange(12)], batch, rtol=0, atol=0)
    assert not torch.equal(load(tree, seed=1).train.x[np.arange(12)], batch)


def test_the_batch_loader_reads_an_epoch_with_that_epochs_views(tree):
    split = load(tree).train
    loader = BatchLoader(split, 4, shuffle=True, seed=0)
    loader.set_epoch(3)
    full = [x for x, _ in loader]
    views, first = load(tree).train.x, np.sort(loader.sampler.indices()[0])
    views.set_epoch(3)
    assert torch.equal(full[0], views[first])
    views.set_epoch(0)
    assert not torch.equal(full[0], views[first])
    assert all(torch.equal(x, y) for x, y in zip([x for x, _ in loader.batches(start=1)], full[1:]))  # a resumed epoch repeats them


def test_random_resized_crop_box_draws_torchvisions_ranges():
    rng = np.random.default_rng(0)
    for _ in range(200):
        top, left, h, w = random_resized_crop_box(500, 375, rng)
        assert 0 <= top <= 375 - h and 0 <= left <= 500 - w
        assert 0.08 * 500 * 375 * 0.97 <= h * w <= 500 * 375 and 3 / 4 * 0.95 <= w / h <= 4 / 3 * 1.05
    # a strip no crop of the allowed shapes fits: the centre crop of ratio 4/3
    assert random_resized_crop_box(1000, 10, rng) == (0, 493, 10, 13)


def test_validation_share_is_held_out_with_the_evaluation_view(tree):
    data = load(tree, "dataset.val_fraction=0.25")
    assert len(data.val) == 3 and len(data.train) == 9 and sorted(data.val.y.tolist()) == [0, 1, 2]
    assert not set(data.val.x.files) & set(data.train.x.files)
    assert not data.val.x.train and data.train.x.train


def test_missing_root_names_the_layout_and_where_to_get_it(tmp_path):
    with pytest.raises(DatasetError) as info:
        load(tmp_path / "nowhere")
    message = str(info.value)
    assert str(tmp_path / "nowhere" / "train") in message and "train/<wnid>/*.JPEG" in message and "image-net.org" in message


def test_class_count_and_val_folders_are_checked(tree):
    with pytest.raises(DatasetError, match=r"has 3 class folders but dataset.num_classes=1000"):
        load(tree, "dataset.num_classes=1000")
    (tree / "val" / CLASSES[0]).rename(tree / "val" / "n99999999")
    with pytest.raises(DatasetError, match=r"different class folders"):
        load(tree)


def test_an_unreadable_image_is_named(tree):
    bad = tree / "train" / CLASSES[1] / "broken.JPEG"
    bad.write_bytes(b"\xff\xd8not a jpeg")
    split = load(tree).train
    with pytest.raises(DatasetError, match="broken.JPEG is not a readable image"):
        split.x[np.arange(len(split))]


@pytest.mark.parametrize(
    "override, key",
    [("dataset.download=true", "dataset.download"), ("dataset.encoder=poisson", "dataset.normalize"), ("dataset.image_size=4", "dataset.image_size")],
)
def test_bad_keys_fail_before_reading(override, key):
    cfg = compose_config(["dataset=imagenet", override])
    with pytest.raises(ConfigError, match=key):
        build("dataset", cfg.dataset, 0, 4)


def test_a_run_trains_sew_resnet34_on_the_tree(tree, tmp_path):
    from snntrain.app import train
    from tests.conftest import SMOKE

    data = ["dataset=imagenet", f"dataset.root={tree}", "dataset.num_classes=3", "dataset.image_size=32", "dataset.batch_size=4", "dataset.eval_batch_size=6"]
    metrics = train(compose_config(["model=sew_resnet34", "method=ratebp", "T=2", *data, *SMOKE]), tmp_path / "run")
    assert metrics["epochs"] == 1 and metrics["selected_on"] == "test" and 0 <= metrics["test_acc"] <= 1
