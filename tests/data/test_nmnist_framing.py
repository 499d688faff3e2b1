"""Framing events into [T, 2, 34, 34]: every mode conserves events; sparse frames round-trip."""

import math

import numpy as np
import pytest

from snntrain.core.errors import ConfigError
from snntrain.data.events.framing import (
    FIRST_SACCADE_END_US,
    FrameSpec,
    FramingConfig,
    densify,
    frame_events,
)
from snntrain.data.events.nmnist_writer import encode_bin
from snntrain.data.events.reader import decode_events, read_events
from tests.conftest import compose_config


def dense(events, spec):
    flat, values = frame_events(events, spec)
    return densify(np.array([0, len(flat)]), flat, values, np.array([0]), spec.cells).reshape(spec.frame_shape)


def spec(T, mode="span_time_bins", window=1000.0, count=1000, values="count", first=False):
    key = {"time_window_us": {"time_window_us": window}, "event_count": {"event_count": count}}.get(mode, {})
    return FrameSpec.from_config(FramingConfig(mode=mode, values=values, **key), T, first)


@pytest.fixture
def sample(shared_data):
    return read_events(shared_data / "nmnist" / "sample.bin")


@pytest.mark.parametrize(
    "make",
    [
        lambda ev: spec(1),
        lambda ev: spec(32),
        lambda ev: spec(540),
        lambda ev: spec(math.ceil((ev["t"][-1] + 1) / 1000), "time_window_us", window=1000.0),
        lambda ev: spec(540, "time_window_us", window=600.0),  # HM2-BP: 540 x 600 µs covers 324 ms
        lambda ev: spec(math.ceil(len(ev) / 300), "event_count", count=300),
        lambda ev: spec(1, "event_count", count=len(ev)),
    ],
)
def test_count_frames_conserve_every_event_of_the_genuine_recording(sample, make):
    s = make(sample)
    frames = dense(sample, s)
    assert frames.shape == (s.T, 2, 34, 34) and frames.dtype == np.uint8
    assert int(frames.sum(dtype=np.int64)) == 4325
    assert int(frames[:, 1].sum(dtype=np.int64)) == 2145  # channel 1 is ON


def test_cropping_and_padding_to_T(sample):
    cropped = dense(sample, spec(10, "time_window_us", window=1000.0))
    assert cropped.sum(dtype=np.int64) == (sample["t"] < 10_000).sum()
    padded = dense(sample, spec(20, "event_count", count=1000))
    assert padded[:4].sum(dtype=np.int64) == 4000 and padded[4].sum() == 325 and not padded[5:].any()


def test_bins_follow_the_documented_boundaries():
    events = decode_events(encode_bin([0, 1, 2, 3], [0, 0, 0, 0], [0, 599, 600, 1799], [1, 1, 0, 1]), "b.bin")
    window = dense(events, spec(4, "time_window_us", window=600.0))
    assert [window[b].sum() for b in range(4)] == [2, 1, 1, 0]  # [0, 600), [600, 1200), ...
    assert window[0, 1, 0, 0] == 1 and window[1, 0, 0, 2] == 1  # (bin, polarity, y, x)
    even = dense(events, spec(2))  # span_time_bins: bins of 900 µs over [0, 1800)
    assert [even[0].sum(), even[1].sum()] == [3, 1]
    tonic = dense(events, spec(2, "n_time_bins"))  # Tonic's: bins of (1799 - 0) // 2 = 899 µs from t_0; t = 1799 >= 2 * 899 dropped
    assert [tonic[0].sum(), tonic[1].sum()] == [3, 0]
    counted = dense(events, spec(3, "event_count", count=3))
    assert [counted[0].sum(), counted[1].sum(), counted[2].sum()] == [3, 1, 0]


def test_binary_frames_and_first_saccade(sample):
    binary = dense(sample, spec(1, values="binary"))
    counts = dense(sample, spec(1))
    np.testing.assert_array_equal(binary, (counts > 0).astype(np.uint8))
    first = dense(sample, spec(1, first=True))
    assert first.sum(dtype=np.int64) == (sample["t"] < FIRST_SACCADE_END_US).sum() < 4325


def test_counts_saturate_at_255():
    n = 300
    events = decode_events(encode_bin([5] * n, [6] * n, range(n), [1] * n), "hot.bin")
    assert dense(events, spec(1))[0, 1, 6, 5] == 255


def test_an_empty_recording_gives_empty_frames():
    events = decode_events(b"", "empty.bin")
    for s in (spec(4), spec(4, "n_time_bins"), spec(4, "n_event_bins"), spec(4, "time_window_us"), spec(4, "event_count")):
        assert not dense(events, s).any()


def test_densify_gathers_any_rows_of_many_samples():
    rng = np.random.default_rng(0)
    cells, truth, flats, values = 50, [], [], []
    for _ in range(6):
        flat = np.sort(rng.choice(cells, size=rng.integers(0, 10), replace=False)).astype(np.uint32)
        value = rng.integers(1, 5, len(flat)).astype(np.uint8)
        row = np.zeros(cells, np.uint8)
        row[flat] = value
        truth.append(row)
        flats.append(flat)
        values.append(value)
    offsets = np.concatenate([[0], np.cumsum([len(f) for f in flats])])
    rows = np.array([4, 0, 4, 5])
    got = densify(offsets, np.concatenate(flats), np.concatenate(values), rows, cells)
    np.testing.assert_array_equal(got, np.stack(truth)[rows])


def test_hm2bp_setting_composes_and_hashes_differently_from_the_default():
    cfg = compose_config(["dataset=nmnist", "T=540", "dataset.framing.time_window_us=600"])
    hm2bp = FrameSpec.from_config(FramingConfig(**cfg.dataset.framing), cfg.T, cfg.dataset.first_saccade_only)
    assert (hm2bp.T, hm2bp.mode, hm2bp.parameter) == (540, "time_window_us", 600.0)
    assert hm2bp.digest() != spec(540).digest()


@pytest.mark.parametrize(
    "kwargs, key",
    [({"mode": "by_time"}, "mode"), ({"time_window_us": 0.0}, "time_window_us"), ({"event_count": 0}, "event_count"), ({"n_time_bins": -2}, "n_time_bins"), ({"values": "float"}, "values"), ({"time_window_us": 600.0, "event_count": 9}, "time_window_us"),
     ({"n_event_bins": 0}, "n_event_bins"), ({"mode": "n_event_bins", "time_window_us": 600.0}, "time_window_us"),
     ({"n_time_bins": 16, "event_count": 9}, "n_time_bins"), ({"mode": "span_time_bins", "n_time_bins": 16}, "n_time_bins")],
)
def test_bad_framing_keys_are_config_errors(kwargs, key):
    """(The contract keys n_time_bins / n_event_bins / time_window_us / event_count each choose their framing.)"""
    with pytest.raises(ConfigError, match=f"dataset.framing.{key}"):
        FramingConfig(**kwargs)


@pytest.mark.parametrize(
    "framing, mode, parameter",
    [({}, "span_time_bins", None), ({"mode": "span_time_bins"}, "span_time_bins", None), ({"n_time_bins": 16}, "n_time_bins", None), ({"time_window_us": 600.0}, "time_window_us", 600.0), ({"event_count": 50}, "event_count", 50),
     ({"n_event_bins": 16}, "n_event_bins", None), ({"mode": "n_event_bins"}, "n_event_bins", None)],
)
def test_setting_a_contract_key_chooses_its_framing(framing, mode, parameter):
    chosen = FrameSpec.from_config(FramingConfig(**framing), 16, False)
    assert (chosen.mode, chosen.parameter) == (mode, parameter)


@pytest.mark.parametrize("key", ["n_time_bins", "n_event_bins"])
def test_bin_counts_must_agree_with_T(key):
    with pytest.raises(ConfigError, match=f"dataset.framing.{key}=8 is not allowed: the frames are the T=16"):
        FrameSpec.from_config(FramingConfig(**{key: 8}), 16, False)
