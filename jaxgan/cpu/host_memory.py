"""The C allocator's handling of the large blocks XLA:CPU takes and frees on every call.

XLA:CPU allocates a compiled step's temporaries as one block per call (about 120 MB for DCGAN
64 at batch 32), from the thread that runs it. glibc's malloc serves a block that large from
a fresh mmap and unmaps it when it is freed, so every step the kernel hands out and zero-fills
some 30,000 new pages: 80-110 ms of system CPU time per step on 2 cores. With one allocation
arena for all threads, no mmap and no trimming, the block is taken from the heap and reused:
about 2,500 page faults and 15 ms of system time per step, and the step runs about 7% faster
(BENCHMARKS.md). What it costs: the process keeps the heap it once needed instead of handing
freed memory back to the system, as PyTorch's and JAX's GPU allocators do with device memory.

`keep_freed_memory()` sets this up. It must run before JAX starts its CPU client, whose
threads keep the arena they were first given; jaxgan's commands call it first thing. It does
nothing where glibc is not the C library, or where the user tunes malloc through the
environment (MALLOC_ARENA_MAX, MALLOC_MMAP_MAX_, MALLOC_TRIM_THRESHOLD_ or GLIBC_TUNABLES).
"""

import ctypes
import os
import platform

# mallopt parameters (glibc's malloc.h).
M_TRIM_THRESHOLD, M_MMAP_MAX, M_ARENA_MAX = -1, -4, -8
USER_SETTINGS = ("MALLOC_ARENA_MAX", "MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES")


def keep_freed_memory() -> bool:
    """Freed memory stays in this process for reuse: one arena, no mmap, no trimming.
    Returns whether the settings were applied."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    if any(name in os.environ for name in USER_SETTINGS):
        return False
    libc = ctypes.CDLL(None)
    settings = ((M_ARENA_MAX, 1), (M_MMAP_MAX, 0), (M_TRIM_THRESHOLD, 2**31 - 1))
    return all(libc.mallopt(parameter, value) == 1 for parameter, value in settings)
