"""trainer.threads: the CPUs a process may use, less the busy ones; an explicit count or OMP_NUM_THREADS wins."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from snntrain.core.errors import ConfigError
from snntrain.engine import threads
from tests.conftest import SMOKE, compose_config


@pytest.fixture
def no_omp(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)


def test_an_explicit_count_is_used_as_given():
    assert threads.choose("3").threads == 3


def test_omp_num_threads_wins_over_auto(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    choice = threads.choose("auto", load=0.0)
    assert choice.threads == 1 and "OMP_NUM_THREADS" in choice.reason


@pytest.mark.parametrize("load, busy", [(0.0, 0), (0.2, 0), (1.0, 1), (1.3, 1), (2.0, 2), (7.5, 2)])
def test_auto_leaves_out_the_cores_the_load_keeps_busy(no_omp, load, busy, tmp_path):
    cpus = threads.allowed_cpus()
    choice = threads.choose("auto", load=min(load, cpus), cpu_max=tmp_path / "absent")
    assert choice.threads == max(1, cpus - min(busy, cpus))
    assert f"{cpus} CPUs allowed" in choice.reason


def test_a_cgroup_quota_caps_the_count(no_omp, tmp_path):
    cpu_max = tmp_path / "cpu.max"
    cpu_max.write_text("150000 100000\n")  # 1.5 CPUs
    assert threads.quota_cpus(cpu_max) == 1.5
    assert threads.choose("auto", load=0.0, cpu_max=cpu_max).threads == 1
    cpu_max.write_text("max 100000\n")
    assert threads.quota_cpus(cpu_max) is None


def test_the_affinity_mask_is_what_counts():
    """A process pinned to one CPU (a real affinity mask, as taskset or Slurm sets it) gets one thread."""
    code = (
        "import os; os.environ.pop('OMP_NUM_THREADS', None); os.sched_setaffinity(0, {min(os.sched_getaffinity(0))});"
        "from snntrain.engine import threads; print(threads.choose('auto', load=0.0).threads)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "1"


@pytest.mark.parametrize("value", ["0", "many", "-2"])
def test_bad_values_are_refused_naming_the_key(value):
    from snntrain.app import plan

    with pytest.raises(ConfigError, match="trainer.threads"):
        plan(compose_config([f"trainer.threads={value}"]))


def test_a_run_logs_its_choice(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "snntrain", *SMOKE, "trainer.max_epochs=1", f"hydra.run.dir={tmp_path}"],
        capture_output=True, text=True, check=False, env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "1 CPU thread (OMP_NUM_THREADS is set)" in (tmp_path / "train.log").read_text()
