"""Event-camera datasets: readers, framing, the frame cache, ``dataset=nmnist`` and ``dataset=cifar10_dvs``.

Modules, one job each: ``reader`` validates events and decodes N-MNIST's ``.bin``, ``aedat``
decodes CIFAR10-DVS's AEDAT 2 / AEDAT 4 files, ``framing`` turns events into frames, ``store``
is the on-disk frame cache format, ``convert`` builds a cache in worker processes, ``archive``
extracts and downloads the official archives, ``dataset`` is what every event dataset shares
(config keys, class folders, cached splits), ``nmnist`` and ``cifar10_dvs`` are the registered
datasets, ``preview`` draws frames for TensorBoard.
"""
