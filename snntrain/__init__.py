"""snntrain: train spiking neural networks from Hydra configs."""

__version__ = "0.1.0"
