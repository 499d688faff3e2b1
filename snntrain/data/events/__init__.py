"""Event-camera datasets: the N-MNIST .bin reader, framing, the frame cache and ``dataset=nmnist``.

Modules, one job each: ``reader`` decodes and validates a recording, ``framing`` turns events
into frames, ``store`` is the on-disk frame cache format, ``convert`` builds a cache in worker
processes, ``archive`` extracts and downloads the official archives, ``nmnist`` is the
registered dataset, ``preview`` draws frames for TensorBoard.
"""
