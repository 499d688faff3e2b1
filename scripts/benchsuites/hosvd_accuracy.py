"""HOSVD's accuracy cost on the digits CNN: trained from scratch at each ε, and fine-tuned as the
paper does (a pretrained network, only its last N conv/linear layers trained, BatchNorm in eval mode).

The network is ``experiment=digits_cnn`` (16C3-P2-32C3-P2-128, BPTT, T=8, direct input). Each
run is a real ``snntrain`` training run (same seed); the rows give the test accuracy at the best
validation epoch and at the last epoch, the compression ratio of the saved activations, the
bytes kept per sample, and the mean Tucker rank of each mode per decomposed layer in the first
and last epochs. ``compression.scope`` is the paper's (``weight_inputs``) unless ``--scope all``.
Command: python scripts/bench.py hosvd_accuracy [--eps 0.8 0.9 0.99] [--last 2] [--out outputs/bench/hosvd]
"""

from __future__ import annotations

from pathlib import Path

from hydra import compose, initialize_config_module
from hydra.core.global_hydra import GlobalHydra

from snntrain.app import train
from snntrain.core.registry import register_schemas

register_schemas()  # the schemas the configs extend, before anything composes

QUIET = ["experiment=digits_cnn", "trainer.progress=false", "logger=none"]


def add_arguments(parser) -> None:
    parser.add_argument("--eps", nargs="+", type=float, default=[0.8, 0.9, 0.99])
    parser.add_argument("--scope", default="weight_inputs", choices=["weight_inputs", "all"])
    parser.add_argument("--scratch-epochs", type=int, default=30, help="0 skips the from-scratch runs")
    parser.add_argument("--pretrain-epochs", type=int, default=30)
    parser.add_argument("--finetune-epochs", type=int, default=10, help="0 skips the fine-tuning runs")
    parser.add_argument("--last", type=int, default=2, help="trainer.finetune_last: conv/linear layers trained")
    parser.add_argument("--out", type=Path, default=Path("outputs/bench/hosvd_accuracy"))


def run_dir_metrics(overrides: list[str], run_dir: Path) -> dict:
    GlobalHydra.instance().clear()
    with initialize_config_module(config_module="snntrain.configs", version_base="1.3"):
        cfg = compose(config_name="train", overrides=[*QUIET, *overrides])
    return train(cfg, run_dir)


def ranks(record: dict) -> str:
    """``layer: r0×r1×…`` of the epoch record's mean HOSVD ranks."""
    by_layer: dict[str, list[str]] = {}
    for key, value in sorted(record.get("hosvd_rank_per_layer", {}).items()):
        layer, mode = key.split("/")
        by_layer.setdefault(layer, []).append(f"{value:.0f}")
    return "; ".join(f"{layer}: {'x'.join(r)}" for layer, r in by_layer.items()) or "-"


def row(setting: str, scheme: str, metrics: dict) -> dict:
    history = metrics["history"]
    return {
        "suite": "hosvd_accuracy", "setting": setting, "scheme": scheme,
        "test_at_best_val": metrics["test_acc_at_best_val"], "final_test": metrics["test_acc"],
        "compression_ratio": metrics["compression_ratio"], "saved_bytes_per_sample": metrics["saved_bytes_per_sample"],
        "ranks_first_epoch": ranks(history[0]), "ranks_last_epoch": ranks(history[-1]), "epochs": metrics["epochs"],
    }


def schemes(eps_values: list[float], scope: str) -> dict[str, list[str]]:
    runs = {"none": ["compression=none"]}
    runs.update({f"hosvd eps={eps}": ["compression=hosvd", f"compression.eps={eps}", f"compression.scope={scope}"] for eps in eps_values})
    return runs


def run(args) -> list[dict]:
    rows = []
    if args.scratch_epochs:
        for name, overrides in schemes(args.eps, args.scope).items():
            metrics = run_dir_metrics([*overrides, f"trainer.max_epochs={args.scratch_epochs}"], args.out / "scratch" / name.replace(" ", "_"))
            rows.append(row(f"from scratch, {args.scratch_epochs} epochs", name, metrics))
    if args.finetune_epochs:
        run_dir_metrics([f"trainer.max_epochs={args.pretrain_epochs}"], args.out / "pretrained")
        start = args.out / "pretrained" / "checkpoints" / "best.pt"
        tuning = [f"trainer.init_from={start}", f"trainer.finetune_last={args.last}", "trainer.bn_eval=true", f"trainer.max_epochs={args.finetune_epochs}"]
        for name, overrides in schemes(args.eps, args.scope).items():
            metrics = run_dir_metrics([*overrides, *tuning], args.out / "finetune" / name.replace(" ", "_"))
            rows.append(row(f"fine-tune last {args.last} layers of a {args.pretrain_epochs}-epoch network, {args.finetune_epochs} epochs", name, metrics))
    return rows
