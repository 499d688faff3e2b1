"""Fused multi-step neuron kernels: the LIF scan equations and their eager engine
(``lif_scan``), the autograd Function every engine plugs into (``fused``), and the compiled
engines ``lif_compile`` (torch.compile) and ``lif_triton`` (Triton), which ``neurons.backends``
imports on first use."""

# Launch options for every Triton kernel: no fused multiply-add contraction (Triton's default on
# GPUs), so the kernels round each step exactly as the torch references do. A one-ulp difference
# in a membrane near threshold moves a spike, and over a CUBA network's hundreds of steps that was
# seen to change HM2-BP's conv gradients by 5 % between the GPU and the CPU. The kernels are
# memory-bound, so the unfused arithmetic costs no measurable time.
EXACT_ROUNDING = {"enable_fp_fusion": False}
