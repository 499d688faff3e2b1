"""Fused multi-step neuron kernels: the LIF scans (``lif_scan``), the autograd Function they
share (``fused``), and the engines that run them: ``lif_compile`` (torch.compile) and
``lif_triton`` (Triton). ``neurons.backends`` imports the engines on first use."""
