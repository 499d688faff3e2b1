"""Shared fixtures: the real-data folder beside the checkout, and in-process config composition."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

if not torch.cuda.is_available():
    # Without a GPU, Triton kernels run in its interpreter; the variable must be set before any
    # kernel module is imported, which any test module may do first.
    os.environ.setdefault("TRITON_INTERPRET", "1")
from hydra import compose, initialize_config_module
from hydra.core.global_hydra import GlobalHydra

from snntrain.core.registry import register_schemas
from snntrain.repro.smoke import SMOKE  # noqa: F401  (tests import it from here)

register_schemas()  # the schemas the configs extend, before anything composes

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """``../shared/data`` beside the checkout; tests that need it skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is absent (it lives beside the checkout, never in it)")
    return SHARED_DATA


def compose_config(overrides: list[str] | None = None):
    """Compose ``train.yaml`` with ``overrides`` exactly as the CLI does, in-process."""
    GlobalHydra.instance().clear()
    with initialize_config_module(config_module="snntrain.configs", version_base="1.3"):
        return compose(config_name="train", overrides=overrides or [])


