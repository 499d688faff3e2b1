"""The process's malloc policy: memory a step frees stays mapped for the next step.

glibc's malloc serves a block above its mmap threshold (128 KiB, raised as blocks are freed to at
most 32 MiB) with a fresh ``mmap`` and unmaps it on ``free``. A merged ``[T·B, ...]`` activation of
a conv SNN passes 32 MiB from T·B = 256 on (``[256, 32, 34, 34]`` float32 is 38 MB), so every step
mapped its activations anew and the kernel faulted in and zeroed them page by page: filling a fresh
38 MB tensor took 21 ms against 1.7 ms for reused memory, and a conv forward on it 64 ms against
12 ms (one thread; scripts/bench.py frameworks counts the page faults per step). That kernel time
grows with the machine's load and does not shrink with more threads, and it hit frameworks that
batch over time (snntrain, SpikingJelly's multi-step mode) but hardly those that run one step at a
time, whose blocks stay under the threshold. Without per-block mmaps and with trimming off, freed
blocks return to malloc's free lists and the next step reuses them, as PyTorch's CUDA caching
allocator does on the GPU. The resident set then stays at its peak between steps.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

# mallopt parameters (glibc's malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_MMAP_MAX = -4
NEVER_TRIM = 2**31 - 1  # mallopt takes an int: trim only above 2 GiB of free memory at the top of the heap
MEASURING_THRESHOLD = 256 * 1024


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    """The C library when it is glibc (it has mallopt), else None (musl, macOS, Windows)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    libc = ctypes.CDLL(name)
    return libc if hasattr(libc, "gnu_get_libc_version") and hasattr(libc, "mallopt") else None


@functools.cache
def retain_freed_memory() -> bool:
    """Set the policy above for this process (and the worker processes it forks); once per process.

    Returns whether it is in effect: False where the C library is not glibc.
    """
    libc = _glibc()
    return libc is not None and bool(libc.mallopt(M_MMAP_MAX, 0)) and bool(libc.mallopt(M_TRIM_THRESHOLD, NEVER_TRIM))


def resident_set_follows_live_memory() -> bool:
    """For measuring peak memory: every block above 256 KiB gets its own mapping and is unmapped
    when freed (glibc's threshold fixed, not raised as blocks are freed), so the resident set is what
    is live plus a small heap, and its peak a step's peak. Returns whether in effect."""
    libc = _glibc()
    return libc is not None and bool(libc.mallopt(M_MMAP_THRESHOLD, MEASURING_THRESHOLD))
