"""The N-MNIST .bin reader on a genuine recording, round-trips, damaged files and fuzzing."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from snntrain.data.events.nmnist_writer import OVERFLOW_US, encode_bin
from snntrain.data.events.reader import EventFileError, decode_events, read_events


def test_genuine_recording_matches_its_documented_figures(shared_data):
    events = read_events(shared_data / "nmnist" / "sample.bin")
    assert len(events) == 4325
    assert events["x"].min() == 0 and events["x"].max() == 33
    assert events["y"].min() == 0 and events["y"].max() == 33
    assert (events["p"] == 1).sum() == 2145 and (events["p"] == 0).sum() == 2180
    assert events["t"][0] == 654 and events["t"][-1] == 311_175
    assert (np.diff(events["t"]) >= 0).all()


@st.composite
def recordings(draw):
    n = draw(st.integers(0, 200))
    wrap = draw(st.booleans())
    coords = st.lists(st.integers(0, 33), min_size=n, max_size=n)
    t_max = 5 * OVERFLOW_US * 100 if wrap else (1 << 23) - 1
    t = sorted(draw(st.lists(st.integers(0, t_max), min_size=n, max_size=n)))
    p = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    return np.array(draw(coords)), np.array(draw(coords)), np.array(t), np.array(p), wrap


@settings(max_examples=200, deadline=None)
@given(recordings())
def test_written_events_read_back_exactly(recording):
    x, y, t, p, wrap = recording
    events = decode_events(encode_bin(x, y, t, p, wrap=wrap), "written.bin")
    for name, expected in zip("xytp", (x, y, t, p)):
        np.testing.assert_array_equal(events[name], expected.astype(events[name].dtype))


def test_overflow_markers_add_2_to_the_13_to_later_timestamps():
    data = encode_bin([1, 2], [3, 4], [100, OVERFLOW_US * 3 + 5], [0, 1], wrap=True)
    assert len(data) == 5 * (2 + 3)  # three marker rows
    np.testing.assert_array_equal(decode_events(data, "m.bin")["t"], [100, OVERFLOW_US * 3 + 5])


@pytest.mark.parametrize(
    "data, problem",
    [
        (encode_bin([1], [1], [10], [1]) + b"\x00\x01", "not a whole number of 5-byte events"),
        (encode_bin([1, 34], [1, 2], [10, 20], [1, 0]), "x=34, y=2, outside the 34x34 sensor"),
        (encode_bin([1, 2], [1, 2], [20, 10], [1, 0]), "timestamps go backwards at event 1"),
    ],
)
def test_damaged_files_raise_an_error_naming_the_file(tmp_path, data, problem):
    path = tmp_path / "3" / "00042.bin"
    path.parent.mkdir()
    path.write_bytes(data)
    with pytest.raises(EventFileError, match=problem) as err:
        read_events(path)
    assert str(path) in str(err.value) and err.value.path == str(path)
    assert "dataset.on_bad_file=skip" in str(err.value)


def test_an_unreadable_file_is_a_damaged_file(tmp_path):
    with pytest.raises(EventFileError, match="cannot be read"):
        read_events(tmp_path / "missing.bin")


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_give_events_or_the_documented_error(data):
    try:
        events = decode_events(data, "fuzz.bin")
    except EventFileError as err:
        assert "fuzz.bin" in str(err)
        return
    assert ((events["x"] < 34) & (events["y"] < 34)).all() and (np.diff(events["t"]) >= 0).all()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(min_size=5, max_size=5), max_size=60))
def test_random_whole_events_give_events_or_the_documented_error(rows):
    try:
        decode_events(b"".join(rows), "fuzz.bin")
    except EventFileError:
        pass
