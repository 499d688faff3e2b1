"""Saved activations per sample: O(T) for BPTT, independent of T for rate-BP and one-step (k=1)."""

from __future__ import annotations

import pytest

from snntrain.compress import SavedTensorMeter, saving
from snntrain.core.spiking import reset_states
from snntrain.data import ENCODERS
from tests.methods.method_helpers import build, digits_batch


def saved_bytes_per_sample(method: list[str], T: int) -> float:
    """The trainer's meter around one ``method.step`` on a spiking CNN."""
    p = build([*method, "model=cnn", "model.batch_norm=true", f"T={T}"])
    x, y = digits_batch(8)
    meter = SavedTensorMeter(samples=len(y))
    reset_states(p.model)
    with saving(p.codec, meter, p.model):
        p.method.step(p.model, ENCODERS["poisson"](x, T), y)
    return meter.saved_bytes_per_sample


@pytest.mark.parametrize("method", [["method=ratebp"], ["method=onestep", "method.k=1"]])
def test_saved_bytes_do_not_grow_with_t(method):
    short, long = saved_bytes_per_sample(method, 4), saved_bytes_per_sample(method, 32)
    assert 0 < long <= 1.2 * short


def test_bptt_saved_bytes_grow_with_t():
    assert saved_bytes_per_sample(["method=bptt"], 32) >= 4 * saved_bytes_per_sample(["method=bptt"], 4)
