"""Triton kernels run on the CPU through the interpreter; it must be on before triton compiles
anything (``triton.jit`` reads it when a kernel is defined), so it is set at collection time."""

import os

os.environ.setdefault("TRITON_INTERPRET", "1")
