"""``dataset.augment.*``: each transform against a per-sample reference written from its definition,
determinism of the draws, config errors, and that the trainer augments training batches only."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torchvision.transforms.v2 import AutoAugment, AutoAugmentPolicy

from snntrain.app import plan, train
from snntrain.core.errors import ConfigError
from snntrain.data import BatchLoader
from snntrain.data.augment import (
    AugmentConfig,
    Draws,
    apply,
    augment,
    autoaugment,
    batch_generator,
    draw,
)
from snntrain.methods.bptt import BPTT
from tests.conftest import SMOKE, compose_config

IMAGES = (64, 3, 9, 11)  # [B, C, H, W], H != W so a swapped axis shows
EVENTS = (64, 5, 2, 9, 11)  # [B, T, C, H, W]


def batch(shape, dtype=torch.float32) -> torch.Tensor:
    """Distinct non-zero values, so any misplaced or zeroed pixel shows."""
    x = torch.arange(1, 1 + torch.Size(shape).numel()).reshape(shape) % 251 + 1
    return x.to(dtype)


def crop(sample: torch.Tensor, offset: torch.Tensor, padding: int) -> torch.Tensor:
    """torchvision RandomCrop(padding=...) with the crop's corner given: zero-pad, then slice."""
    h, w = sample.shape[-2:]
    top, left = offset.tolist()
    return F.pad(sample, (padding,) * 4)[..., top : top + h, left : left + w]


def cut(sample: torch.Tensor, centre: torch.Tensor, side: int) -> torch.Tensor:
    """Cutout: zero the rows/cols [centre - side//2, centre - side//2 + side) that lie in the image."""
    out = sample.clone()
    r, c = (int(v) - side // 2 for v in centre)
    out[..., max(r, 0) : max(r + side, 0), max(c, 0) : max(c + side, 0)] = 0
    return out


def auto_augmented(sample: torch.Tensor, policy: str, seed: int) -> torch.Tensor:
    """torchvision's AutoAugment on one sample, its draws made after seeding the global generator."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return AutoAugment(AutoAugmentPolicy(policy))(sample)


def reference(x: torch.Tensor, cfg: AugmentConfig, draws: Draws) -> torch.Tensor:
    """One sample at a time, in the documented order: crop, flip, roll, AutoAugment, Cutout."""
    out = []
    for b, sample in enumerate(x):
        if draws.crop_offset is not None:
            sample = crop(sample, draws.crop_offset[b], cfg.crop_padding)
        if draws.flip is not None and draws.flip[b]:
            sample = torch.flip(sample, (-1,))
        if draws.shift is not None:
            sample = torch.roll(sample, tuple(draws.shift[b].tolist()), (-2, -1))
        if draws.autoaugment_seed is not None:
            sample = auto_augmented(sample, cfg.autoaugment, int(draws.autoaugment_seed[b]))
        if draws.cutout_centre is not None:
            sample = cut(sample, draws.cutout_centre[b], cfg.cutout)
        out.append(sample)
    return torch.stack(out)


def augmented(cfg: AugmentConfig, shape, seed=0, dtype=torch.float32):
    x = batch(shape, dtype)
    draws = draw(cfg, shape[0], shape[-2:], torch.Generator().manual_seed(seed))
    return x, draws, apply(x, cfg, draws)


@pytest.mark.parametrize("shape", [IMAGES, EVENTS])
def test_flip_mirrors_the_chosen_samples_and_leaves_the_rest(shape):
    x, draws, out = augmented(AugmentConfig(flip=True), shape)
    assert 0 < int(draws.flip.sum()) < shape[0]
    for b in range(shape[0]):
        assert torch.equal(out[b], torch.flip(x[b], (-1,)) if draws.flip[b] else x[b])


@pytest.mark.parametrize("shape", [IMAGES, EVENTS])
def test_roll_is_torch_roll_by_the_drawn_shifts_on_both_axes(shape):
    x, draws, out = augmented(AugmentConfig(roll=3), shape)
    assert draws.shift.min() == -3 and draws.shift.max() == 3
    assert not torch.equal(draws.shift[:, 0], draws.shift[:, 1])  # independent per axis
    for b in range(shape[0]):
        assert torch.equal(out[b], torch.roll(x[b], tuple(draws.shift[b].tolist()), (-2, -1)))


def test_every_time_frame_of_a_sample_moves_alike():
    frame = batch((EVENTS[0], 1, *EVENTS[2:]))
    x = frame.expand(EVENTS).contiguous()
    cfg = AugmentConfig(flip=True, roll=2, crop_padding=2, cutout=4)
    out = apply(x, cfg, draw(cfg, EVENTS[0], EVENTS[-2:], torch.Generator().manual_seed(0)))
    assert torch.equal(out, out[:, :1].expand(EVENTS))
    assert not torch.equal(out, x)


@pytest.mark.parametrize("shape", [IMAGES, EVENTS])
def test_crop_is_pad_and_slice_at_the_drawn_corner(shape):
    cfg = AugmentConfig(crop_padding=4)
    x, draws, out = augmented(cfg, shape)
    assert draws.crop_offset.min() == 0 and draws.crop_offset.max() == 8  # RandomCrop: corner in [0, 2·padding]
    for b in range(shape[0]):
        assert torch.equal(out[b], crop(x[b], draws.crop_offset[b], 4))


@pytest.mark.parametrize("side", [4, 5])
def test_cutout_zeroes_exactly_a_clipped_square_of_the_given_side(side):
    h, w = IMAGES[-2:]
    x, draws, out = augmented(AugmentConfig(cutout=side), IMAGES)
    assert draws.cutout_centre[:, 0].unique().tolist() == list(range(h))  # centre uniform over the image
    assert draws.cutout_centre[:, 1].unique().tolist() == list(range(w))
    clipped = 0
    for b in range(IMAGES[0]):
        r, c = (int(v) - side // 2 for v in draws.cutout_centre[b])
        rows, cols = range(max(r, 0), min(r + side, h)), range(max(c, 0), min(c + side, w))
        zero = out[b] == 0
        assert zero.sum() == IMAGES[1] * len(rows) * len(cols)
        assert zero[:, rows.start : rows.stop, cols.start : cols.stop].all()
        assert torch.equal(out[b][~zero], x[b][~zero])
        clipped += len(rows) * len(cols) < side * side
    assert clipped  # some squares hang over a border and are clipped there


@pytest.mark.parametrize(("shape", "dtype"), [(IMAGES, torch.float32), (EVENTS, torch.uint8)])
def test_all_four_compose_in_order_and_keep_shape_and_dtype(shape, dtype):
    cfg = AugmentConfig(flip=True, roll=2, crop_padding=3, cutout=5)
    x, draws, out = augmented(cfg, shape, dtype=dtype)
    before = x.clone()
    assert out.dtype == dtype and out.shape == x.shape
    assert torch.equal(out, reference(x, cfg, draws))
    assert torch.equal(x, before)  # the input batch is not written to


@pytest.mark.parametrize("policy", ["cifar10", "imagenet", "svhn"])
def test_autoaugment_is_torchvisions_on_each_sample_under_its_seed_and_leaves_the_global_generator(policy):
    x, seeds = batch(IMAGES, torch.uint8), torch.arange(IMAGES[0]) * 7919
    state = torch.random.get_rng_state()
    out = autoaugment(x, policy, seeds)
    assert torch.equal(torch.random.get_rng_state(), state)
    changed = 0
    for b in range(IMAGES[0]):
        assert torch.equal(out[b], auto_augmented(x[b], policy, int(seeds[b])))
        changed += not torch.equal(out[b], x[b])
    assert changed > IMAGES[0] // 2  # samples draw their own sub-policies


def test_autoaugment_sees_the_crops_black_border_and_comes_before_cutout():
    cfg = AugmentConfig(flip=True, crop_padding=3, cutout=5, autoaugment="cifar10")
    x, draws, out = augmented(cfg, IMAGES, dtype=torch.uint8)
    assert out.dtype == torch.uint8 and torch.equal(out, reference(x, cfg, draws))


def test_channels_last_input_gives_the_same_result():
    cfg = AugmentConfig(flip=True, roll=2, crop_padding=3, cutout=5)
    x, draws, out = augmented(cfg, IMAGES)
    assert torch.equal(apply(x.contiguous(memory_format=torch.channels_last), cfg, draws), out)


def test_nothing_enabled_returns_the_batch_itself():
    x = batch(IMAGES)
    assert augment(x, AugmentConfig(), torch.Generator().manual_seed(0)) is x


@pytest.mark.parametrize(("cfg", "x"), [
    (AugmentConfig(flip=True, roll=2, crop_padding=3, cutout=5), batch(EVENTS)),
    (AugmentConfig(flip=True, crop_padding=3, cutout=5, autoaugment="cifar10"), batch(IMAGES, torch.uint8)),
])
def test_equal_generator_seeds_draw_equally_and_others_do_not(cfg, x):
    a, b, c = (augment(x, cfg, torch.Generator().manual_seed(s)) for s in (7, 7, 8))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_the_batch_generator_depends_on_seed_epoch_batch_and_rank_only():
    first = lambda *key: torch.randint(0, 2**62, (4,), generator=batch_generator(*key))  # noqa: E731
    assert torch.equal(first(0, 1, 2, 0), first(0, 1, 2, 0))
    assert torch.equal(first(-3, 1, 2, 0), first(-3, 1, 2, 0))
    draws = [first(*key) for key in [(0, 1, 2, 0), (1, 1, 2, 0), (0, 2, 2, 0), (0, 1, 3, 0), (0, 1, 2, 1)]]
    assert len({tuple(d.tolist()) for d in draws}) == len(draws)


@pytest.mark.parametrize("key", ["roll", "crop_padding", "cutout"])
def test_a_negative_size_names_the_key(key):
    with pytest.raises(ConfigError, match=rf"dataset\.augment\.{key}=-1 is not allowed: it must be >= 0"):
        plan(compose_config([f"dataset.augment.{key}=-1"]))


@pytest.mark.parametrize(("key", "value", "off"), [
    ("flip", "true", "false"), ("roll", "2", "0"), ("crop_padding", "2", "0"), ("cutout", "4", "0"), ("autoaugment", "cifar10", "null"),
    ("scale", "12", "0"), ("rotation", "12", "0"), ("elastic", "3.4", "0"),
])
def test_augmenting_flat_inputs_fails_at_plan_time_naming_the_key(key, value, off):
    cfg = compose_config(["dataset=synthetic", "dataset.input_shape=[64]", f"dataset.augment.{key}={value}"])
    with pytest.raises(ConfigError, match=rf"dataset\.augment\.{key}=.*shape \[64\].*set dataset\.augment\.{key}={off}"):
        plan(cfg)


@pytest.mark.parametrize("shape", ["[1,8,8]", "[4,8,8]", "[2,3,8,8]"])
def test_autoaugment_of_anything_but_rgb_images_fails_at_plan_time_naming_the_fix(shape):
    cfg = compose_config(["dataset=synthetic", f"dataset.input_shape={shape}", "dataset.augment.autoaugment=cifar10"])
    with pytest.raises(ConfigError, match=r"dataset\.augment\.autoaugment='cifar10' is not allowed: .*RGB images \[3, H, W\]; set dataset\.augment\.autoaugment=null"):
        plan(cfg)


def test_an_unknown_autoaugment_policy_lists_the_policies():
    with pytest.raises(ConfigError, match=r"dataset\.augment\.autoaugment='cifar' is not allowed: choose one of \[None, 'cifar10', 'imagenet', 'svhn'\]"):
        plan(compose_config(["dataset=synthetic", "dataset.input_shape=[3,8,8]", "dataset.augment.autoaugment=cifar"]))


def test_images_with_augmentation_plan_and_flat_inputs_without_it_plan():
    plan(compose_config(["dataset.augment.flip=true", "dataset.augment.cutout=4"]))
    plan(compose_config(["dataset=synthetic", "dataset.input_shape=[3,8,8]", "dataset.augment.autoaugment=svhn"]))
    plan(compose_config(["dataset=synthetic", "dataset.input_shape=[64]"]))


def test_the_trainer_augments_training_batches_only(tmp_path, monkeypatch):
    overrides = SMOKE + ["dataset.augment.flip=true", "dataset.augment.roll=1", "dataset.augment.crop_padding=1", "dataset.augment.cutout=3"]
    cfg = compose_config(overrides)
    data = plan(cfg).source.load()
    seen = {"step": [], "predict": []}
    step, predict = BPTT.step, BPTT.predict

    def record(kind, original):
        def wrapper(self, model, x, *args, **kwargs):
            seen[kind].append(x[0].clone())  # direct encoding: step 0 is the (augmented) input
            return original(self, model, x, *args, **kwargs)

        return wrapper

    monkeypatch.setattr(BPTT, "step", record("step", step))
    monkeypatch.setattr(BPTT, "predict", record("predict", predict))
    train(cfg, tmp_path, data=data)
    raw = [x for x, _ in BatchLoader(data.train, cfg.dataset.batch_size, True, cfg.seed, limit=2)]
    expected = [augment(x, AugmentConfig(**cfg.dataset.augment), batch_generator(cfg.seed, 0, i, 0)) for i, x in enumerate(raw)]
    assert all(torch.equal(s, e) and not torch.equal(s, x) for s, e, x in zip(seen["step"], expected, raw, strict=True))
    first_eval_batches = [data.val.x[: cfg.dataset.eval_batch_size], data.test.x[: cfg.dataset.eval_batch_size]]
    assert all(torch.equal(s, x) for s, x in zip(seen["predict"], first_eval_batches, strict=True))
