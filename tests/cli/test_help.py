"""``snntrain --help`` and ``--version`` speak of snntrain, and list only the groups a user composes."""

from __future__ import annotations

import subprocess
import sys

import hydra

import snntrain


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "snntrain", *args], capture_output=True, text=True, check=False)


def test_version_names_snntrain_and_hydra():
    done = run("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"snntrain {snntrain.__version__} (Hydra {hydra.__version__})"


def test_help_lists_the_groups_a_user_composes_not_the_schemas():
    done = run("--help")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith(f"snntrain {snntrain.__version__}")
    assert "is powered by Hydra" not in out.splitlines()[0]
    assert "schema/" not in out
    for line in ("method: bptt, hm2bp, onestep, ratebp", "neuron: cuba, lif", "trainer: default"):
        assert line in out
    assert "T: 8" in out  # the composed config follows


def test_help_shows_the_config_the_overrides_compose():
    assert "name: hm2bp" in run("--help", "method=hm2bp").stdout
