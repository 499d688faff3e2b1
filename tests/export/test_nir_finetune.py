"""``trainer.init_from=model.nir``: a run starts from a NIR graph's weights (snntrain -> NIR ->
snntrain computes as before) when its config builds the same layers and neurons; otherwise one line
says what to set."""

from __future__ import annotations

import sys

import pytest
import torch

nir = pytest.importorskip("nir", reason="the nir extra is not installed: pip install -e .[nir]")

from snntrain.app import make_trainer, plan  # noqa: E402
from snntrain.core.errors import SnntrainError  # noqa: E402
from snntrain.data.encoders import poisson  # noqa: E402
from snntrain.export import trained  # noqa: E402
from snntrain.export.errors import NIRExportError  # noqa: E402
from snntrain.export.to_nir import to_nir  # noqa: E402
from tests.conftest import SMOKE, compose_config  # noqa: E402
from tests.export.runs import CNN, MLP, trained_run  # noqa: E402
from tests.export.simulate import run_snntrain  # noqa: E402


def exported_run(tmp_path, overrides):
    """A trained run's network and its graph written to ``model.nir``."""
    run = trained.load(trained_run(tmp_path, overrides))
    path = tmp_path / "model.nir"
    nir.write(path, to_nir(run.model, run.input_shape))
    return run.model, path


@pytest.mark.parametrize(("overrides", "configured"), [(MLP, MLP), (CNN, [*CNN, "model.batch_norm=false"])], ids=["mlp", "cnn-bn-folded"])
def test_a_run_started_from_model_nir_computes_as_the_network_exported(overrides, configured, tmp_path):
    original, path = exported_run(tmp_path, overrides)
    started = plan(compose_config([*configured, f"trainer.init_from={path}"])).model.eval()
    x = poisson(torch.rand(4, 1, 8, 8), 8)
    expected_out, expected = run_snntrain(original, x)
    out, got = run_snntrain(started, x)
    assert all(torch.equal(g, e) for g, e in zip(got, expected, strict=True))
    torch.testing.assert_close(out, expected_out, rtol=1e-5, atol=1e-6)  # exact but for the folded BatchNorm's rounding
    make_trainer(compose_config([*SMOKE, *configured, f"trainer.init_from={path}"]), tmp_path / "finetune").fit()


@pytest.mark.parametrize(
    ("configured", "message"),
    [
        (["neuron.reset=hard", "neuron.decay=0.9", "model.hidden=[32]"], r"decay 0.5 and threshold 1 .* Set neuron=lif neuron.decay=0.5 neuron.threshold=1 neuron.reset=hard"),
        (["model.hidden=[32]"], r"this run's layer body.2 is decay=0.5, threshold=1.0, reset=soft"),
        (["neuron.reset=hard", "model.hidden=[32]", "model.readout=spikes"], r"has 1 spiking layers \(readout mean\); this run's model has 2"),
        (["neuron.reset=hard", "model.hidden=[16]"], r"does not fit this model"),
    ],
    ids=["other-decay", "soft-reset", "other-readout", "other-width"],
)
def test_a_config_unlike_the_graph_is_refused_saying_what_to_set(configured, message, tmp_path):
    _, path = exported_run(tmp_path, MLP)
    with pytest.raises(SnntrainError, match=message):
        plan(compose_config([*configured, f"trainer.init_from={path}"]))


def test_batch_norm_in_the_config_is_refused_since_the_graph_folded_it(tmp_path):
    _, path = exported_run(tmp_path, CNN)
    with pytest.raises(NIRExportError, match="folded .* model.batch_norm=false"):
        plan(compose_config([*CNN, f"trainer.init_from={path}"]))


def test_without_the_nir_package_init_from_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "nir", None)
    with pytest.raises(SnntrainError, match=r"trainer.init_from=.*model.nir needs the nir package.*pip install -e .\[nir\]"):
        plan(compose_config([*MLP, f"trainer.init_from={tmp_path / 'model.nir'}"]))
