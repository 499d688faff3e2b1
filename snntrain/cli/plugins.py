"""Optional Hydra plugins and loggers: which override needs which, and the pip extra that installs it.

Hydra reports a missing plugin as a missing config ("Could not find 'hydra/sweeper/optuna'"),
which does not say what to install, and a missing logger package would be found only once the data
is read; ``require_plugins`` checks the command line first.
"""

from __future__ import annotations

import importlib.util

from snntrain.core.errors import SnntrainError, missing_extra  # noqa: F401  (callers catch SnntrainError from here)

# override prefix -> (plugin module, pip extra)
PLUGINS = {
    "hparams_search=optuna": ("hydra_plugins.hydra_optuna_sweeper", "sweep"),
    "hydra/sweeper=optuna": ("hydra_plugins.hydra_optuna_sweeper", "sweep"),
    "hydra/launcher=joblib": ("hydra_plugins.hydra_joblib_launcher", "sweep"),
    "hydra/launcher=slurm": ("hydra_plugins.hydra_submitit_launcher", "slurm"),
    "hydra/launcher=submitit": ("hydra_plugins.hydra_submitit_launcher", "slurm"),
    "logger=wandb": ("wandb", "wandb"),
    "logger=mlflow": ("mlflow", "mlflow"),
}


def installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def require_plugins(overrides: list[str]) -> None:
    """Raise SnntrainError naming the extra to install for the first override whose plugin is missing."""
    for override in overrides:
        for prefix, (module, extra) in PLUGINS.items():
            if override.lstrip("+~").startswith(prefix) and not installed(module):
                plugin = module.startswith("hydra_plugins.")
                raise missing_extra(override, f"the Hydra plugin {module.split('.')[-1]}" if plugin else f"the {module} package", extra)
