"""snntrain: train spiking neural networks from Hydra configs.

From Python (docs/python-api.md): ``snntrain.train(overrides, run_dir)``, ``snntrain.load(run)``,
``snntrain.evaluate(run, split)``. They are imported on first use: ``import snntrain`` stays light
(no torch), as the commands' start-up needs.
"""

from snntrain.core.lazy import lazy_attributes

__version__ = "0.1.0"
__all__ = ["evaluate", "load", "train"]
__getattr__ = lazy_attributes("snntrain", dict.fromkeys(__all__, "snntrain.api"))
