"""host_memory.keep_freed_memory: a large block freed and taken again, from a thread started
afterwards (as XLA's are), reuses its pages instead of faulting in new ones."""

import os
import platform
import subprocess
import sys

import pytest

from tests.test_main import ROOT

# A 256 MiB block is taken, written and freed twice through malloc in a new thread (numpy would
# ask for huge pages); prints whether the settings were applied and the second round's faults.
_REUSE = """
import ctypes, resource, sys, threading
from jaxgan.cpu import host_memory
applied = host_memory.keep_freed_memory() if sys.argv[1] == "kept" else False
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.free.argtypes = ctypes.c_void_p, [ctypes.c_void_p]
faults = []
def use_block():
    block = libc.malloc(2**28)
    ctypes.memset(block, 1, 2**28)
    libc.free(block)
def work():
    use_block()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    use_block()
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
thread = threading.Thread(target=work)
thread.start()
thread.join()
print(applied, faults[0])
"""
PAGES = 2**28 // 4096  # of the 256 MiB block


def reuse(mode: str, **env: str) -> tuple[str, int]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "GLIBC_"))}
    result = subprocess.run(
        [sys.executable, "-c", _REUSE, mode],
        cwd=ROOT,
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    applied, faults = result.stdout.split()
    return applied, int(faults)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="tunes glibc's malloc")
def test_a_freed_block_is_reused_without_new_page_faults():
    # glibc's default: the block is a fresh mapping every time, every page faulted in again.
    assert reuse("default")[1] >= PAGES * 0.9
    applied, faults = reuse("kept")
    assert applied == "True" and faults < PAGES * 0.02


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="tunes glibc's malloc")
def test_the_users_own_malloc_settings_are_left_alone():
    applied, faults = reuse("kept", MALLOC_ARENA_MAX="4")
    assert applied == "False" and faults >= PAGES * 0.9
