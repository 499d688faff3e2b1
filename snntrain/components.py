"""Import every component module so that its registration runs (one place to add a new one)."""

from snntrain import compress, data, methods, models  # noqa: F401
from snntrain.data.events import cifar10_dvs, nmnist  # noqa: F401
from snntrain.engine import logger, optim, trainer  # noqa: F401
from snntrain.neurons import cuba, lif  # noqa: F401
