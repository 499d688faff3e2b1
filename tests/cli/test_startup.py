"""Start-up without torch: the schemas are dataclasses in torch-free modules, so composing a config
(``--help``, ``--cfg job``, shell completion) and reporting a config error import neither torch nor
Tonic (docs/benchmarks.md, "Start-up": the times). Each command runs in a fresh interpreter, which
prints the heavy modules it imported as its last line on stderr."""

import os
import subprocess
import sys

import pytest

HEAVY = ("torch", "tonic", "torchvision")
REPORT = "heavy modules:"
# Runs a command's ``main`` with ``sys.argv`` set; atexit reports what it imported, whatever way it exits.
WRAPPER = f"""
import atexit, sys
atexit.register(lambda: print({REPORT!r}, [m for m in {HEAVY!r} if m in sys.modules], file=sys.stderr))
module, sys.argv = sys.argv[1], sys.argv[2:]
__import__(module, fromlist=["main"]).main()
"""


def run(module: str, prog: str, args: list[str], cwd, env: dict | None = None) -> tuple[subprocess.CompletedProcess, list[str]]:
    result = subprocess.run(
        [sys.executable, "-c", WRAPPER, module, prog, *args], cwd=cwd, capture_output=True, text=True, timeout=120,
        env={**os.environ, **(env or {})},
    )
    lines = result.stderr.strip().splitlines()
    assert lines and lines[-1].startswith(REPORT), result.stderr
    return result, eval(lines[-1].removeprefix(REPORT))


def test_registering_the_schemas_imports_no_torch():
    code = (
        "import sys; from snntrain.core.registry import register_schemas; register_schemas(); "
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_help_imports_no_torch(tmp_path):
    result, heavy = run("snntrain.cli.train", "snntrain", ["--help"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "dataset: cifar10, cifar100" in result.stdout and "== Config ==" in result.stdout
    assert heavy == []


@pytest.mark.parametrize("args", [["--cfg", "job", "method=hm2bp", "dataset=nmnist"], ["--cfg", "job", "dataset=cifar10_dvs", "model=vgg11"]])
def test_cfg_job_imports_no_torch(tmp_path, args):
    result, heavy = run("snntrain.cli.train", "snntrain", args, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "dataset:" in result.stdout
    assert heavy == []


def test_shell_completion_imports_no_torch(tmp_path):
    line = "snntrain model="
    result, heavy = run("snntrain.cli.train", "snntrain", ["-sc", "query=bash"], tmp_path, {"COMP_LINE": line, "COMP_POINT": str(len(line))})
    assert result.returncode == 0, result.stderr
    assert "model=mlp" in result.stdout
    assert heavy == []


@pytest.mark.parametrize(("args", "message"), [
    (["trainer.max_epochs=0"], "trainer.max_epochs=0 is not allowed: it must be > 0."),
    (["dataset=nmnist", "dataset.framing.event_count=-1"], "dataset.framing.event_count=-1"),
    (["T=0"], "T=0"),
])
def test_a_range_error_is_one_line_before_torch(tmp_path, args, message):
    result, heavy = run("snntrain.cli.train", "snntrain", args, tmp_path)
    assert result.returncode == 2, result.stderr
    error, report = result.stderr.strip().splitlines()
    assert error.startswith("snntrain error: ") and message in error
    assert heavy == []


def test_snntrain_data_reports_a_dataset_error_before_torch(tmp_path):
    result, heavy = run("snntrain.cli.data", "snntrain-data", ["dataset.batch_size=0"], tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("snntrain-data error: dataset.batch_size=0")
    assert heavy == []


def test_the_torch_free_name_lists_match_the_implementations():
    """The values the schemas accept are the keys of what the implementations dispatch on."""
    from snntrain.models.config import CONNECT_NAMES
    from snntrain.models.resnet import CONNECT
    from snntrain.neurons.config import SURROGATE_NAMES
    from snntrain.neurons.surrogate import SURROGATES

    assert list(SURROGATES) == list(SURROGATE_NAMES)
    assert list(CONNECT) == CONNECT_NAMES
