"""Keeping freed memory in the process, so repeated calls reuse warm pages.

Every fastpar call allocates its outputs. By default glibc hands large freed
blocks back to the operating system, so the next call's outputs land on
fresh pages and pay a page fault per 4 kB they write: for fast kernels as
much as the computation, and a cost that does not scale across threads
(docs/threading.md). This is process-wide, so fastpar never does it by
itself: a batch job opts in.
"""

from __future__ import annotations

__all__ = ["keep_freed_memory"]

_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_M_ARENA_MAX = -8


def keep_freed_memory(trim_threshold: int = 1 << 30) -> bool:
    """Tell glibc to keep up to ``trim_threshold`` bytes of freed memory, to
    serve large blocks from its heap instead of fresh mappings, and to use
    one arena for all threads: a worker thread's own arena lives in mappings
    that glibc unmaps when they empty, so its outputs would fault in fresh
    pages again. Call it before starting worker threads.

    Returns True if the allocator was changed, False where glibc's
    ``mallopt`` is not available (other C libraries, other systems).
    Calling it again is harmless.
    """
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return (
        mallopt(_M_TRIM_THRESHOLD, trim_threshold) == 1
        and mallopt(_M_MMAP_MAX, 0) == 1
        and mallopt(_M_ARENA_MAX, 1) == 1
    )
