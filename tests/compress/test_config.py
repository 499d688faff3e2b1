"""Compression settings that cannot work fail before any data is read, naming the key and the fix."""

import pytest

from snntrain.app import plan
from snntrain.core.errors import ConfigError
from tests.conftest import compose_config


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["compression.eps=0"], r"compression.eps=0.0 is not allowed: it must be in \(0, 1\]"),
        (["compression.eps=1.5"], r"compression.eps=1.5 is not allowed: it must be in \(0, 1\]"),
        (["compression.min_numel=-1"], r"compression.min_numel=-1 is not allowed: it must be >= 0"),
        (["compression.spikes=gzip"], r"compression.spikes='gzip' is not allowed: choose one of \['none', 'bitpack'\]"),
        (["model=cnn", "compression.layers=[body.0,conv9]"], r"compression.layers names \['conv9'\], which are not modules of this model; choose among \['body', 'body.0'"),
    ],
)
def test_bad_hosvd_settings_are_config_errors(overrides, message):
    with pytest.raises(ConfigError, match=message):
        plan(compose_config(["compression=hosvd", *overrides]))


def test_unknown_compression_key_fails_at_composition():
    with pytest.raises(Exception, match="Could not override 'compression.rank'"):
        compose_config(["compression=bitpack", "compression.rank=4"])


def test_eps_of_one_is_allowed():
    assert plan(compose_config(["compression=hosvd", "compression.eps=1"])).codec.eps == 1.0
