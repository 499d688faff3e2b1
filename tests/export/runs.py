"""Trained run dirs for the export tests: one epoch of the digits data (8x8 images)."""

from __future__ import annotations

from snntrain.app import train
from tests.conftest import SMOKE, compose_config

MLP = ["neuron.reset=hard", "model.hidden=[32]", "T=6"]
CNN = ["neuron.reset=hard", "model=cnn", "model.spec=4C3-P2-8C3-P2-16", "model.batch_norm=true", "T=4", "dataset.encoder=poisson"]


def trained_run(tmp_path, overrides, name="run"):
    """A one-epoch run dir of the digits data (8x8 images) with ``overrides``."""
    train(compose_config([*SMOKE, *overrides]), tmp_path / name)
    return tmp_path / name
