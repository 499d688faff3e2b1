"""snntrain: train spiking neural networks from Hydra configs.

From Python (docs/python-api.md): ``snntrain.train(overrides, run_dir)``, ``snntrain.load(run)``,
``snntrain.evaluate(run, split)``. They are imported on first use: ``import snntrain`` stays light
(no torch), as the commands' start-up needs.
"""

__version__ = "0.1.0"
__all__ = ["evaluate", "load", "train"]


def __getattr__(name: str):
    if name in __all__:
        from snntrain import api

        return getattr(api, name)
    raise AttributeError(f"module 'snntrain' has no attribute {name!r}")
