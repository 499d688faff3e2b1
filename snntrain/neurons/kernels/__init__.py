"""Fused multi-step neuron kernels: the LIF scan equations and their eager engine
(``lif_scan``), the autograd Function every engine plugs into (``fused``), and the compiled
engines ``lif_compile`` (torch.compile) and ``lif_triton`` (Triton), which ``neurons.backends``
imports on first use."""
