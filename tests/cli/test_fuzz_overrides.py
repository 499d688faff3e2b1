"""Fuzzing: random override lists fail only with the documented configuration errors.

Every field's range, one at a time, is probed systematically in test_config_ranges.py; this mixes them.
"""

from hydra.errors import HydraException
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snntrain import app as run
from snntrain.core.errors import ConfigError
from tests.conftest import compose_config

KEYS = [
    "T", "seed", "trainer.max_epochs", "trainer.device", "trainer.precision", "trainer.grad_clip",
    "dataset.batch_size", "dataset.val_fraction", "dataset.encoder", "optimizer.lr", "neuron.tau",
    "neuron.threshold", "neuron.reset", "neuron.surrogate", "model.hidden", "model.spec", "model.readout",
    "trainer.nosuch", "nosuch", "scheduler.step_size", "neuron.decay", "scheduler.eta_min", "optimizer.momentum",
    "dataset.poisson_scale", "model.pool", "trainer.bn_eval", "trainer.channels_last",
]
GROUPS = ["method", "model", "dataset", "optimizer", "scheduler", "neuron", "logger", "compression"]
VALUES = ["0", "-1", "1", "8", "0.5", "1e-3", "nan", "inf", "abc", "null", "true", "[800]", "[0]", "[]", "15C5-P2", "P9-P9", "sgd", "soft", "max", "''", "{}"]


@st.composite
def override(draw):
    if draw(st.booleans()):
        return f"{draw(st.sampled_from(KEYS))}={draw(st.sampled_from(VALUES))}"
    return f"{draw(st.sampled_from(GROUPS))}={draw(st.sampled_from(['mlp', 'cnn', 'bptt', 'adam', 'none', 'lif', 'digits', 'bogus']))}"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(override(), max_size=4))
def test_random_overrides_raise_only_documented_errors(overrides):
    try:
        run.plan(compose_config(overrides))
    except (HydraException, ConfigError):
        pass  # Hydra's composition errors and snntrain's ConfigError are the documented outcomes
