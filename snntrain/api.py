"""snntrain from Python (docs/python-api.md): ``train`` composes and trains the config the ``snntrain``
command does, ``load`` gives a run's trained model, ``evaluate`` scores a checkpoint as
``snntrain-eval`` does.

Overrides are Hydra's, as a list (``["model=cnn", "T=4"]``) or a dict (``{"model": "cnn", "T": 4}``;
nested dicts are dotted keys: ``{"trainer": {"max_epochs": 2}}`` is ``trainer.max_epochs=2``).
Every error a user can fix is an SnntrainError (ConfigError, CheckpointError, ...) with a one-line message.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf, open_dict

from snntrain import storage
from snntrain.core.errors import ConfigError

Overrides = list[str] | Mapping[str, Any] | None
HYDRA_FOLDER = ".hydra"


def train(overrides: Overrides = None, run_dir: str | Path | None = None) -> dict[str, Any]:
    """Train the config ``snntrain`` composes with ``overrides`` and return its metrics (the content of
    ``metrics.json``, ``core/metrics.py``).

    The run dir is ``run_dir``, else ``hydra.run.dir`` when an override sets it, else a new
    ``outputs/<date>/<time>`` below the working directory (``_1``, ``_2``... when that second's is
    taken). It gets what a ``snntrain`` run leaves, ``.hydra/config.yaml`` (and ``overrides.yaml``,
    ``hydra.yaml``) included, so ``snntrain-report``, ``snntrain-eval``, ``load`` and
    ``trainer.resume=auto`` work on it; it is locked for the run, as the command locks it.
    """
    from snntrain import app
    from snntrain.cli.plugins import require_plugins
    from snntrain.engine.run_lock import lock_dir, unlock_dir

    args = override_list(overrides)
    require_plugins(args)
    run = composed(args)
    folder = (Path(run_dir) if run_dir is not None else run.run_dir or new_run_dir()).absolute()
    lock_dir(folder, "run_dir")
    try:
        save_hydra_files(folder, run)
        with run_logging(folder):
            return app.train(run.cfg, folder)
    finally:
        unlock_dir(folder)


def load(run_dir_or_ckpt: str | Path, which: str = "best"):
    """``(model, cfg)``: the model of a run dir's ``checkpoints/<which>.pt`` (``best`` or ``last``),
    or of the checkpoint file named, rebuilt from the config its weights were trained with (``cfg``,
    the checkpoint's copy of ``.hydra/config.yaml``), holding them, on the CPU, in eval mode.

    Score it as the trainer does: ``snntrain.evaluate``, or ``method.predict(model, x)`` on time-major
    input with the neurons reset before each batch (docs/python-api.md).
    """
    from snntrain.saved_run import restore

    restored = restore(run_dir_or_ckpt, which, ["++trainer.device=cpu"])
    return restored.plan.model, restored.saved


def evaluate(run_dir_or_ckpt: str | Path, split: str = "test", overrides: Overrides = None, which: str = "best") -> dict[str, Any]:
    """Score a checkpoint (as ``load`` finds it) on ``split`` (``val`` or ``test``) as the trainer
    scores it, with ``overrides`` (``key=value`` only) over its config: ``T=16`` evaluates at another
    number of time steps, ``trainer.limit_eval_batches=null`` on the whole split. Writes
    ``eval_<split>_T<T>.json`` into the run dir and returns its content: split, T, accuracy, correct,
    samples, checkpoint, epoch, device, overrides.

    A CheckpointError, naming the keys, when the overrides change the model (``model.*``) or its
    parameters do not fit the checkpoint's.
    """
    from snntrain.core.checks import one_of
    from snntrain.saved_run import SPLITS, restore, score, write_score

    one_of("split", split, list(SPLITS))  # before anything is read
    args = override_list(overrides)
    restored = restore(run_dir_or_ckpt, which, args)
    record = {**score(restored, split), "overrides": args}
    write_score(record)
    return record


def override_list(overrides: Overrides) -> list[str]:
    """``overrides`` as Hydra override strings."""
    if overrides is None:
        return []
    if isinstance(overrides, str):
        raise ConfigError(f"overrides={overrides!r} is one string; pass a list of them (e.g. ['T=4']) or a dict.")
    if isinstance(overrides, Mapping):
        from snntrain.engine.resume import flat  # nested dicts as dotted keys

        return [f"{key}={hydra_value(value)}" for key, value in flat(dict(overrides)).items()]
    return [str(override) for override in overrides]


def hydra_value(value: Any) -> str:
    """``value`` in Hydra's override grammar: strings quoted, ``None`` as ``null``, lists and dicts nested."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(hydra_value(item) for item in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{key}:{hydra_value(item)}" for key, item in value.items()) + "}"
    raise ConfigError(f"override value {value!r} ({type(value).__name__}) is not a string, number, bool, None, list or dict.")


@dataclass
class Composed:
    """A config composed as the ``snntrain`` command composes it, and the Hydra facts its run dir records."""

    cfg: DictConfig
    overrides: list[str]
    choices: dict[str, Any]
    run_dir: Path | None
    """``hydra.run.dir`` when an override sets it."""


def composed(overrides: list[str]) -> Composed:
    """``train.yaml`` composed with ``overrides`` in-process (``snntrain``'s config, ``_target_`` overrides
    taken as the command takes them); a ConfigError, in one line, when Hydra refuses them."""
    from hydra import compose, initialize_config_module
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException

    from snntrain.core.registry import register_schemas
    from snntrain.core.targets import accepting_targets

    register_schemas()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_module(config_module="snntrain.configs", version_base="1.3"):
            cfg = compose(config_name="train", overrides=accepting_targets(overrides), return_hydra_config=True)
    except HydraException as err:
        causes = [str(err), *([str(err.__cause__)] if err.__cause__ else [])]
        raise ConfigError(" ".join(" ".join(causes).split())) from err
    hydra = cfg.hydra
    sets_dir = any(o.startswith("hydra.run.dir=") for o in hydra.overrides.hydra)
    run = Composed(
        cfg, list(hydra.overrides.task), OmegaConf.to_container(hydra.runtime.choices),
        Path(str(hydra.run.dir)) if sets_dir else None,
    )
    with open_dict(cfg):
        del cfg["hydra"]
    return run


def new_run_dir() -> Path:
    """``outputs/<date>/<time>``, as the command names a run dir, with ``_1``, ``_2``... if it exists."""
    now = datetime.now()
    base = Path("outputs") / now.strftime("%Y-%m-%d") / now.strftime("%H-%M-%S")
    folder, n = base, 0
    while folder.exists():
        n += 1
        folder = base.with_name(f"{base.name}_{n}")
    return folder


def save_hydra_files(folder: Path, run: Composed) -> None:
    """``.hydra/config.yaml`` (the composed config, as Hydra saves it), ``overrides.yaml`` and the part
    of ``hydra.yaml`` that snntrain reads (the group choices), each written atomically."""
    after = "Nothing was trained; fix that, or choose another run_dir."
    hydra = folder / HYDRA_FOLDER
    with storage.guarded(hydra, "the run's config folder", after):
        hydra.mkdir(exist_ok=True)
    facts = {"hydra": {"runtime": {"choices": run.choices, "output_dir": str(folder.absolute())}, "overrides": {"task": run.overrides}, "job": {"name": "train"}}}
    for name, text in [
        ("config.yaml", OmegaConf.to_yaml(run.cfg)),
        ("overrides.yaml", OmegaConf.to_yaml(OmegaConf.create(run.overrides))),
        ("hydra.yaml", OmegaConf.to_yaml(OmegaConf.create(facts))),
    ]:
        storage.write_text_atomic(hydra / name, text, f"the run's {HYDRA_FOLDER}/{name}", after)


@contextmanager
def run_logging(folder: Path) -> Iterator[None]:
    """For the length of a run: snntrain's log records (INFO and up) in ``<folder>/train.log``, as the
    command writes it, and on stdout unless the program has set up logging of its own."""
    from snntrain.engine.console import RunLogFile

    log = logging.getLogger("snntrain")
    formatter = logging.Formatter("[%(asctime)s][%(name)s][%(levelname)s] - %(message)s")
    handlers: list[logging.Handler] = [RunLogFile(str(folder / "train.log"))]
    if not logging.getLogger().handlers:
        handlers.append(logging.StreamHandler(sys.stdout))
    level = log.level
    log.setLevel(logging.INFO)
    for handler in handlers:
        handler.setFormatter(formatter)
        log.addHandler(handler)
    try:
        yield
    finally:
        for handler in handlers:
            log.removeHandler(handler)
            handler.close()
        log.setLevel(level)
