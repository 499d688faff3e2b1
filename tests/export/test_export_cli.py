"""``snntrain-export`` on real run dirs: a trained network's ``model.nir`` runs in snnTorch spike for spike;
bad input is one line, exit status 2, and nothing is written."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from omegaconf import OmegaConf

nir = pytest.importorskip("nir", reason="the nir extra is not installed: pip install -e .[nir]")

from snntrain.app import plan  # noqa: E402
from snntrain.cli import export as cli  # noqa: E402
from snntrain.data.encoders import direct, poisson  # noqa: E402
from snntrain.engine import checkpoint  # noqa: E402
from snntrain.export import trained  # noqa: E402
from tests.conftest import SMOKE, compose_config  # noqa: E402
from tests.export.runs import CNN, MLP, trained_run  # noqa: E402
from tests.export.simulate import run_snntorch, run_snntrain  # noqa: E402


def export(argv, capsys) -> tuple[int, list[str]]:
    """``snntrain-export argv`` in-process: its exit status and stderr lines."""
    try:
        cli.main([str(a) for a in argv])
        code = 0
    except SystemExit as stop:
        code = stop.code
    return code, capsys.readouterr().err.strip().splitlines()


@pytest.mark.parametrize(("overrides", "encoder", "T"), [(MLP, direct, 6), (CNN, poisson, 4)], ids=["mlp", "cnn"])
def test_a_trained_runs_model_nir_spikes_in_snntorch_as_in_snntrain(overrides, encoder, T, tmp_path, capsys):
    pytest.importorskip("snntorch.import_nir", reason="snnTorch (the dev extra) is not installed: pip install -e .[dev]")
    run = trained_run(tmp_path, overrides)
    code, lines = export([run], capsys)
    assert code == 0 and len(lines) == 1 and lines[0].startswith(f"wrote {run / 'model.nir'}: "), lines
    graph = nir.read(run / "model.nir")
    assert (graph.metadata["encoder"], graph.metadata["T"], graph.metadata["dt"]) == (encoder.__name__, T, 1e-4)
    net = trained.load(run).model
    x = encoder(torch.rand(3, 1, 8, 8), 3 * T)
    _, expected = run_snntrain(net, x)
    _, got = run_snntorch(graph, x)
    assert any(e.any() for e in expected)
    assert all(torch.equal(g, e) for g, e in zip(got, expected, strict=True))


def test_a_checkpoint_file_and_an_output_path_can_be_named(tmp_path, capsys):
    run = trained_run(tmp_path, MLP)
    code, lines = export([run / "checkpoints" / "last.pt", "-o", tmp_path / "mine.nir", "--dt", "1e-3"], capsys)
    assert code == 0, lines
    assert nir.read(tmp_path / "mine.nir").metadata["dt"] == 1e-3 and not (run / "model.nir").exists()


def test_a_checkpoint_without_a_config_takes_the_run_dirs_hydra_config(tmp_path, capsys):
    cfg = compose_config(MLP)
    (tmp_path / "run" / ".hydra").mkdir(parents=True)
    OmegaConf.save(cfg, tmp_path / "run" / ".hydra" / "config.yaml")
    (tmp_path / "run" / "checkpoints").mkdir()
    checkpoint.save_atomic({"model": plan(cfg).model.state_dict()}, tmp_path / "run" / "checkpoints" / "last.pt")
    code, lines = export([tmp_path / "run"], capsys)
    assert code == 0, lines
    assert isinstance(nir.read(tmp_path / "run" / "model.nir").nodes["lif_2"], nir.LIF)


def no_files_but(folder, *names):
    return sorted(p.name for p in folder.iterdir()) == sorted(names)


def test_a_model_nir_cannot_express_is_one_line_and_writes_nothing(tmp_path, capsys):
    run = trained_run(tmp_path, ["model.hidden=[16]", "T=2"])  # neuron.reset=soft, the default
    code, lines = export([run], capsys)
    assert code == 2 and len(lines) == 1
    assert lines[0].startswith("snntrain-export error: layer body.2 (LIF, neuron.reset=soft) resets by subtraction")
    assert no_files_but(run, "checkpoints", "metrics.json")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["nope"], "nope does not exist: name a run dir or a checkpoint file"),
        (["."], "holds no checkpoints/best.pt or last.pt"),
        (["junk.pt"], "cannot be read"),
        (["bare.pt"], "records no config and"),
        ([], "the following arguments are required"),
        (["run", "--dt", "0"], "--dt=0.0 is not allowed"),
        (["run", "-o", "missing/model.nir"], "the folder missing does not exist"),
    ],
    ids=["missing", "no-checkpoints", "not-a-checkpoint", "no-config", "no-argument", "bad-dt", "no-output-folder"],
)
def test_bad_input_is_one_line_exit_2_and_nothing_written(argv, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    checkpoint.save_atomic({"model": {}}, tmp_path / "bare.pt")
    (tmp_path / "run" / "checkpoints").mkdir(parents=True)
    checkpoint.save_atomic({"model": {}, "config": {}}, tmp_path / "run" / "checkpoints" / "last.pt")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    code, lines = export(argv, capsys)
    assert code == 2 and len(lines) == 1 and lines[0].startswith("snntrain-export error: ") and message in lines[0], lines
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_without_the_nir_package_the_command_names_the_extra(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "nir", None)
    code, lines = export([tmp_path], capsys)
    assert code == 2 and lines == [lines[0]] and "pip install -e .[nir]" in lines[0]


@pytest.mark.slow
def test_the_command_as_a_user_runs_it_on_a_snntrain_run_dir(tmp_path):
    """``snntrain ... hydra.run.dir=run`` then ``python -m snntrain.cli.export run``: subprocesses, as typed."""
    done = subprocess.run(
        [sys.executable, "-m", "snntrain", *SMOKE, *MLP, "hydra.run.dir=run"], cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    done = subprocess.run([sys.executable, "-m", "snntrain.cli.export", "run"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert isinstance(nir.read(tmp_path / "run" / "model.nir"), nir.NIRGraph)
