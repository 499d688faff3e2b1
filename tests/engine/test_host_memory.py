"""The malloc policy: a block a step frees is reused by the next step, not unmapped and faulted in again."""

from __future__ import annotations

import resource

import pytest
import torch

from snntrain.engine.host_memory import retain_freed_memory

BLOCK = 64 * 2**20  # above glibc's largest mmap threshold (32 MiB): always mmapped without the policy
PAGE = resource.getpagesize()


def faults_of_a_fresh_block() -> int:
    """Minor page faults while allocating and filling a BLOCK-sized tensor (then freed)."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    torch.empty(BLOCK // 4).fill_(1.0)
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


def test_a_freed_block_is_reused_without_page_faults():
    if not retain_freed_memory():
        pytest.skip("the C library is not glibc: the policy does not apply")
    for _ in range(12):  # the heap grows until its free blocks fit the request (memalign's slack splits some)
        faults_of_a_fresh_block()
    # Without the policy every such block is a fresh mapping: one fault per page (16,384 here).
    assert faults_of_a_fresh_block() < BLOCK // PAGE // 100
