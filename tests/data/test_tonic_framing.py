"""snntrain's framing modes against Tonic's own ``ToFrame`` on the same events, frame for frame.

Tonic is the reference: ``n_time_bins`` is its ``ToFrame(n_time_bins=T)``; ``time_window_us`` and
``event_count`` are ``ToFrame`` with the arguments docs/tonic.md names; ``span_time_bins`` and
``n_event_bins`` are snntrain's own, and the tests pin how they differ. Tonic's counts are int16 and
unbounded, snntrain's saturate at 255, so a Tonic frame is compared through ``min(count, 255)``.
"""

from __future__ import annotations

import numpy as np
import pytest
from tonic.transforms import Downsample, ToFrame

from snntrain.data.events.framing import (
    FIRST_SACCADE_END_US,
    FrameSpec,
    FramingConfig,
    densify,
    frame_events,
)
from snntrain.data.events.reader import EVENT_DTYPE, read_events
from tests.conftest import compose_config

NMNIST_SENSOR = (34, 34, 2)  # Tonic's (width, height, polarities)
STREAMS = 400


def framed(events, framing, T, first_saccade_only=False, sensor=(34, 34), size=None):
    spec = FrameSpec.from_config(FramingConfig(**framing), T, first_saccade_only, sensor, size)
    flat, values = frame_events(events, spec)
    return densify(np.array([0, len(flat)]), flat, values, np.array([0]), spec.cells).reshape(spec.frame_shape)


def tonic_frames(events, T, sensor_size=NMNIST_SENSOR, **to_frame):
    """Tonic's frames of ``events`` (a copy: ToFrame may write to them), as snntrain stores counts."""
    frames = ToFrame(sensor_size=sensor_size, **to_frame)(events.copy())
    return np.minimum(frames, 255).astype(np.uint8)


def cropped_or_padded(frames, T):
    """``frames`` cut or zero-padded to ``T``, as snntrain's time_window_us and event_count are."""
    out = np.zeros((T, *frames.shape[1:]), frames.dtype)
    out[: min(T, len(frames))] = frames[:T]
    return out


def random_stream(rng, T):
    """A random recording; about one in four is empty or tiny, lasts at most T µs, or crowds one pixel."""
    n = int(rng.integers(1, 4000)) if rng.random() < 0.75 else int(rng.choice([0, 1, 2, T, 5 * T + 3]))
    duration = int(rng.integers(1, 400_000)) if rng.random() < 0.75 else int(rng.choice([0, T - 1, T]))
    events = np.zeros(n, EVENT_DTYPE)
    events["x"], events["y"], events["p"] = rng.integers(0, 34, n), rng.integers(0, 34, n), rng.integers(0, 2, n)
    events["t"] = np.sort(int(rng.integers(0, 5_000)) + rng.integers(0, duration + 1, n))
    if n and rng.random() < 0.25:  # a hot pixel: counts past 255
        hot = rng.random(n) < 0.6
        events["x"][hot], events["y"][hot], events["p"][hot] = 7, 3, 1
    return events


def streams(seed):
    rng = np.random.default_rng(seed)
    for _ in range(STREAMS):
        T = int(rng.choice([1, 2, 3, 10, 30, int(rng.integers(1, 100))]))
        yield T, random_stream(rng, T), rng


@pytest.fixture
def sample(shared_data):
    return read_events(shared_data / "nmnist" / "sample.bin")


# ----- n_time_bins is Tonic's ToFrame(n_time_bins=T) -------------------------------------------
@pytest.mark.parametrize("first_saccade_only", [False, True])
def test_n_time_bins_is_tonics_on_the_genuine_recording_for_every_T_up_to_600(sample, first_saccade_only):
    events = sample[sample["t"] < FIRST_SACCADE_END_US] if first_saccade_only else sample  # Tonic's NMNIST(first_saccade_only=True)
    for T in range(1, 601):
        ours = framed(sample, {"n_time_bins": T}, T, first_saccade_only)
        np.testing.assert_array_equal(ours, tonic_frames(events, T, n_time_bins=T), err_msg=f"T={T}")


def test_n_time_bins_is_tonics_on_random_streams():
    for T, events, _ in streams(0):
        ours = framed(events, {"mode": "n_time_bins"}, T)
        np.testing.assert_array_equal(ours, tonic_frames(events, T, n_time_bins=T), err_msg=f"T={T}, n={len(events)}")
        binary = framed(events, {"mode": "n_time_bins", "values": "binary"}, T)
        np.testing.assert_array_equal(binary, tonic_frames(events, T, n_time_bins=T) > 0)


def test_n_time_bins_with_tonics_downsample_is_the_cifar10_dvs_frame_size():
    """128 x 128 binned to 48 x 48 is Tonic's Downsample(target_size) followed by ToFrame."""
    rng = np.random.default_rng(1)
    for _ in range(50):
        T, n = int(rng.integers(1, 20)), int(rng.integers(0, 5000))
        events = np.zeros(n, EVENT_DTYPE)
        events["x"], events["y"], events["p"] = rng.integers(0, 128, n), rng.integers(0, 128, n), rng.integers(0, 2, n)
        events["t"] = np.sort(rng.integers(0, 1_000_000, n))
        small = Downsample(sensor_size=(128, 128, 2), target_size=(48, 48))(events)
        ours = framed(events, {"n_time_bins": T}, T, sensor=(128, 128), size=(48, 48))
        np.testing.assert_array_equal(ours, tonic_frames(small, T, sensor_size=(48, 48, 2), n_time_bins=T))


# ----- time_window_us and event_count are ToFrame with stated arguments ----------------------------
@pytest.mark.parametrize("window, T", [(600, 540), (3000, 30), (1000, 400), (7, 5)])  # the HM2-BP and IDE rows first
def test_time_window_us_is_tonics_time_window_from_t0_on_the_genuine_recording(sample, window, T):
    ours = framed(sample, {"time_window_us": float(window)}, T)
    theirs = tonic_frames(sample, T, time_window=window, start_time=0, end_time=T * window)
    np.testing.assert_array_equal(ours, theirs)


def test_time_window_us_is_tonics_time_window_from_t0_on_random_streams():
    for T, events, rng in streams(2):
        window = int(rng.integers(1, 20_000))
        ours = framed(events, {"time_window_us": float(window)}, T)
        theirs = cropped_or_padded(tonic_frames(events, T, time_window=window, start_time=0, end_time=T * window), T)
        np.testing.assert_array_equal(ours, theirs, err_msg=f"T={T}, window={window}, n={len(events)}")


@pytest.mark.parametrize("count, T", [(300, 15), (300, 5), (1000, 10), (5000, 2)])
def test_event_count_is_tonics_with_the_incomplete_last_frame_on_the_genuine_recording(sample, count, T):
    theirs = cropped_or_padded(tonic_frames(sample, T, event_count=count, include_incomplete=True), T)
    np.testing.assert_array_equal(framed(sample, {"event_count": count}, T), theirs)


def test_event_count_is_tonics_with_the_incomplete_last_frame_on_random_streams():
    for T, events, rng in streams(3):
        if not len(events):  # Tonic's ToFrame returns one empty frame; snntrain pads to T
            continue
        count = int(rng.integers(1, 2 * len(events) + 2))
        theirs = cropped_or_padded(tonic_frames(events, T, event_count=count, include_incomplete=True), T)
        np.testing.assert_array_equal(framed(events, {"event_count": count}, T), theirs, err_msg=f"T={T}, count={count}")


# ----- snntrain's own modes: what they are, and where Tonic's differ ------------------------------
def test_span_time_bins_frames_every_event_from_t0(sample):
    """span_time_bins (the default, n_time_bins before it was Tonic's): bin floor(t * T / (t_last + 1))."""
    for T in (1, 10, 30, 540):
        ours = framed(sample, {}, T).astype(np.int64)
        expected = np.zeros_like(ours)
        np.add.at(expected, (sample["t"] * T // (sample["t"][-1] + 1), sample["p"], sample["y"], sample["x"]), 1)
        np.testing.assert_array_equal(ours, np.minimum(expected, 255))
        assert ours.sum() == len(sample)
    assert not np.array_equal(framed(sample, {}, 10), tonic_frames(sample, 10, n_time_bins=10))  # Tonic's starts at t_0 = 654 µs


def test_n_event_bins_is_tonics_when_T_divides_the_event_count():
    for T, events, _ in streams(4):
        n = len(events)
        ours = framed(events, {"n_event_bins": T}, T)
        theirs = tonic_frames(events, T, n_event_bins=T)
        if n % T == 0:
            np.testing.assert_array_equal(ours, theirs)
        else:  # Tonic's bins hold n // T events each and drop the last n mod T
            assert ToFrame(sensor_size=NMNIST_SENSOR, n_event_bins=T)(events.copy()).sum() == (n // T) * T < n


def test_n_event_bins_is_spikingjellys_split_by_number_when_T_divides_the_event_count():
    """SpikingJelly gives the n mod T leftover events to the last bin; snntrain spreads them one per bin."""
    sjds = pytest.importorskip("spikingjelly.datasets", reason="spikingjelly is in the bench extra (pip install -e .[bench])")
    for n, T, agree in [(1000, 10, True), (1003, 10, False), (7, 7, True), (20, 3, False)]:
        starts, ends = sjds.cal_fixed_frames_number_segment_index(np.arange(n), "number", T)
        theirs = np.concatenate([np.full(end - start, k) for k, (start, end) in enumerate(zip(starts, ends))])
        assert np.array_equal(np.arange(n) * T // n, theirs) == agree


@pytest.mark.parametrize(
    "experiment, expected",
    [
        ("hm2bp_nmnist_mlp", (540, "time_window_us", 600.0, "binary")),
        ("onestep_ide_nmnist", (30, "time_window_us", 3000, "binary")),
        ("ratebp_cifar10dvs_vggsnn", (10, "n_event_bins", None, "count")),
    ],
)
def test_the_paper_rows_keep_their_framing(experiment, expected):
    """The rows were matched to the papers' code: none of them uses n_time_bins, which became Tonic's."""
    cfg = compose_config([f"experiment={experiment}"])
    spec = FrameSpec.from_config(FramingConfig(**cfg.dataset.framing), cfg.T, False)
    assert (spec.T, spec.mode, spec.parameter, spec.values) == expected
