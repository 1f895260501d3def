"""fastpar.allocator: opting in to keeping freed memory (glibc)."""

import platform
import subprocess
import sys

import pytest


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_keep_freed_memory_on_glibc():
    # In a child process: the setting is process-wide.
    code = (
        "import numpy as np, fastpar\n"
        "from fastpar.allocator import keep_freed_memory\n"
        "assert keep_freed_memory() is True\n"
        "assert keep_freed_memory() is True\n"
        "x = np.random.default_rng(0).normal(size=(4, 300_000)).cumsum(axis=1)\n"
        "a = fastpar.rsi(x, 14); b = fastpar.rsi(x, 14)\n"
        "assert np.array_equal(a, b, equal_nan=True)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
