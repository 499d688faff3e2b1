"""Optional Hydra plugins: which override needs which, and the pip extra that installs it.

Hydra reports a missing plugin as a missing config ("Could not find 'hydra/sweeper/optuna'"),
which does not say what to install; ``require_plugins`` checks the command line first.
"""

from __future__ import annotations

import importlib.util

from snntrain.core.errors import SnntrainError

# override prefix -> (plugin module, pip extra)
PLUGINS = {
    "hparams_search=optuna": ("hydra_plugins.hydra_optuna_sweeper", "sweep"),
    "hydra/sweeper=optuna": ("hydra_plugins.hydra_optuna_sweeper", "sweep"),
    "hydra/launcher=joblib": ("hydra_plugins.hydra_joblib_launcher", "sweep"),
    "hydra/launcher=slurm": ("hydra_plugins.hydra_submitit_launcher", "slurm"),
    "hydra/launcher=submitit": ("hydra_plugins.hydra_submitit_launcher", "slurm"),
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
                raise SnntrainError(
                    f"`{override}` needs the Hydra plugin {module.split('.')[-1]}, which is not installed. "
                    f"Install it with: pip install -e .[{extra}]  (or pip install 'snntrain[{extra}]')"
                )
