"""Sizing fastpar's native thread pool.

One pool serves the whole process. Its size is the number of threads that
may work on one job, the calling thread included: ``FASTPAR_NUM_THREADS``
if that holds an integer in [1, MAX_THREADS], else the number of CPUs.
Calls from many Python threads at once each get their own job; the calling
thread always works on its own job, so they never wait for each other.
"""

from __future__ import annotations

from . import _fastpar

__all__ = ["get_num_threads", "set_num_threads", "MAX_THREADS"]

#: The largest pool size accepted.
MAX_THREADS: int = _fastpar.MAX_THREADS


def get_num_threads() -> int:
    """The pool's size: threads that may work on one job, caller included."""
    return _fastpar.get_num_threads()


def set_num_threads(n: int) -> None:
    """Resize the pool to ``n`` threads (caller included; 1 = no workers).

    Jobs already running finish normally. Raises TypeError for a non-integer
    (a bool included) and ValueError for ``n`` outside [1, MAX_THREADS],
    however large.
    """
    _fastpar.set_num_threads(n)
