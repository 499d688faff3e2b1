"""Every experiment file composes and validates (a group it names that does not exist fails), and
each names its command and the paper's figure in its header and in ``paper.value``."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from snntrain.repro.smoke import needs_starting_weights
from tests.conftest import compose_config

FOLDER = resources.files("snntrain.configs") / "experiment"
EXPERIMENTS = sorted(p.name.removesuffix(".yaml") for p in FOLDER.iterdir() if p.name.endswith(".yaml"))
PAPER_ROWS = [n for n in EXPERIMENTS if n.startswith(("hm2bp_", "ratebp_", "onestep_", "hosvd_"))]


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiment_composes_and_validates(name):
    from snntrain.core.registry import GROUPS, typed

    cfg = compose_config([f"experiment={name}"])
    if needs_starting_weights(cfg):  # a fine-tuning row: valid once told which network to start from
        cfg = compose_config([f"experiment={name}", "trainer.init_from=trained.pt"])
    for group in GROUPS:
        typed(group, cfg[group])  # wrong keys or values fail here, before any data is read


@pytest.mark.parametrize("name", PAPER_ROWS)
def test_header_names_the_command_and_the_paper_figure(name):
    text = (FOLDER / f"{name}.yaml").read_text()
    header = "\n".join(line for line in text.splitlines() if line.startswith("#"))
    assert re.search(rf"snntrain experiment={name}(\s|$)", header), f"{name}: the header does not give its command"
    paper = OmegaConf.load(FOLDER / f"{name}.yaml").paper  # each row file states its own figure
    assert paper.value is not None and paper.source
    assert f"{paper.value:g}" in header, f"{name}: paper.value={paper.value} is not the figure in the header"


def test_the_imagenet_row_builds_sew_resnet34_for_224px_imagenet():
    from snntrain.app import plan

    assert "CONFIG ONLY" not in (FOLDER / "ratebp_imagenet_sewresnet34.yaml").read_text()
    p = plan(compose_config(["experiment=ratebp_imagenet_sewresnet34"]))  # no data is read
    assert p.source.info.input_shape == (3, 224, 224) and p.source.info.num_classes == 1000
    assert sum(q.numel() for q in p.model.parameters()) == 21_806_184  # with the official code's conv biases
    assert (p.T, p.cfgs["dataset"].batch_size, p.cfgs["optimizer"].lr, p.cfgs["model"].connect) == (4, 512, 0.2, "ADD")


# What the official rate-BP code trains for each row (Tab-ct/rate-based-backpropagation@3c70ee9):
# T, batch, lr, weight decay and epochs from experiment/{cifar,dvs,imagenet}/config/config.py (CIFAR's
# T=4 from README.md's command); parameter counts of model/resnet.py resnet19, model/vgg.py vggsnn_dvs
# and model/sew_resnet.py sew_resnet34, counted by instantiating those classes.
OFFICIAL_RATEBP = {
    "ratebp_cifar10_resnet19": (4, 128, 0.1, 5e-4, 300, 12_697_994),
    "ratebp_cifar100_resnet19": (4, 128, 0.1, 5e-4, 300, 12_721_124),
    "ratebp_cifar10dvs_vggsnn": (10, 128, 0.1, 5e-4, 300, 9_271_498),
    "ratebp_imagenet_sewresnet34": (4, 512, 0.2, 2e-5, 100, 21_806_184),
}


def test_every_rate_bp_row_is_listed_here():
    assert sorted(OFFICIAL_RATEBP) == [n for n in PAPER_ROWS if n.startswith("ratebp_")]


@pytest.mark.parametrize("name", sorted(OFFICIAL_RATEBP))
def test_rate_bp_rows_train_what_the_official_code_trains(name):
    from snntrain.app import plan

    cfg = compose_config([f"experiment={name}"])
    p = plan(cfg)  # no data is read
    c = p.cfgs
    recipe = (p.T, c["dataset"].batch_size, c["optimizer"].lr, c["optimizer"].weight_decay, c["trainer"].max_epochs)
    assert recipe == OFFICIAL_RATEBP[name][:5]
    # CustomEvaluator("rate", T): the loss gradient × 1/T; split_params: no decay on biases and BatchNorm
    assert (c["method"].name, c["method"].grad_scale, c["optimizer"].name, c["optimizer"].momentum) == ("ratebp", "1/T", "sgd", 0.9)
    assert c["optimizer"].no_decay == ["bias", "norm"] and c["scheduler"].name == "cosine" and c["scheduler"].eta_min == 0
    assert (c["neuron"].lam, c["neuron"].threshold, c["neuron"].reset, c["neuron"].detach_reset) == (0.2, 1.0, "soft", True)
    assert (c["neuron"].surrogate, c["neuron"].alpha, c["trainer"].precision, c["trainer"].grad_clip) == ("sigmoid", 4.0, "32", None)
    assert c["dataset"].val_fraction == 0  # the official code trains on the whole training split
    count = sum(q.numel() for q in p.model.parameters())
    assert count == cfg.paper.params == OFFICIAL_RATEBP[name][5]


def test_the_hosvd_row_fine_tunes_as_the_official_hosvd_code(tmp_path):
    """classification/configs/resnet18_config.yaml and scripts/HOSVD/resnet18/c10_resnet18_var0.8.sh of
    Le-TrungNguyen/NeurIPS2024-ActivationCompression: the last 2 layers trained, BatchNorm in eval
    mode, SGD lr 0.05 momentum 0 weight decay 1e-4, cosine over 50 epochs to 0.1 lr, clip 2, ε 0.8."""
    from snntrain.app import plan
    from snntrain.core.errors import ConfigError
    from snntrain.repro.smoke import starting_weights

    name = "experiment=hosvd_ratebp_cifar10_resnet19"
    with pytest.raises(ConfigError, match="trainer.init_from"):
        plan(compose_config([name]))  # it fine-tunes a trained network: refused without one
    p = plan(compose_config([name, starting_weights(compose_config([name]), tmp_path / "start.pt")]))
    c = p.cfgs
    assert (c["trainer"].finetune_last, c["trainer"].bn_eval, c["trainer"].grad_clip, c["trainer"].max_epochs) == (2, True, 2.0, 50)
    assert (c["optimizer"].lr, c["optimizer"].momentum, c["optimizer"].weight_decay, c["scheduler"].eta_min) == (0.05, 0.0, 1e-4, 0.005)
    assert (c["compression"].eps, c["compression"].scope, p.method.name) == (0.8, "weight_inputs", "ratebp")
    trained = {n for n, q in p.model.named_parameters() if q.requires_grad}
    assert {n.rsplit(".", 1)[0] for n in trained} == {"body.13", "body.15"}  # ResNet-19's two FC layers


def test_default_config_has_no_paper_figure():
    cfg = compose_config()
    assert cfg.paper.value is None and cfg.paper.source is None


def test_the_docs_table_of_rows_is_generated_from_the_row_files():
    from snntrain.repro import rows

    page = Path(__file__).resolve().parents[2] / "docs" / "reproduce.md"
    assert rows.main(["--check", str(page)]) == 0, "run: python -m snntrain.repro.rows --write docs/reproduce.md"


@pytest.mark.parametrize("name", PAPER_ROWS)
def test_each_row_lists_its_differences_as_lines(name):
    differences = compose_config([f"experiment={name}"]).paper.differences
    assert isinstance(list(differences), list)
    assert all(isinstance(d, str) and d.strip() and "\n" not in d.strip() for d in differences), differences


@pytest.mark.parametrize("name", PAPER_ROWS)
def test_the_model_has_the_official_models_parameter_count(name):
    from snntrain.app import plan

    cfg = compose_config([f"experiment={name}"])
    assert cfg.paper.params is not None, f"{name}: set paper.params to the official model's count (cite its source)"
    untuned = compose_config([f"experiment={name}", "trainer.finetune_last=null"])  # a fine-tuning row's network alone
    model = plan(untuned).model  # no data is read
    assert sum(q.numel() for q in model.parameters()) == cfg.paper.params
