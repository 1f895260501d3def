"""fastpar's native pool seen from Python: sizing, rows on the pool, fork, Ctrl-C."""

import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
import warnings

import numpy as np
import pytest

import fastpar
from fastpar import _fastpar


@pytest.fixture
def restore_pool_size():
    size = fastpar.get_num_threads()
    yield
    fastpar.set_num_threads(size)


def test_pool_size_defaults_to_cpu_count():
    code = "import fastpar; print(fastpar.get_num_threads())"
    env = {k: v for k, v in os.environ.items() if k != "FASTPAR_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert int(out.stdout) == len(os.sched_getaffinity(0))


@pytest.mark.parametrize("value, expected", [("3", 3), ("1", 1), ("0", None), ("many", None), ("-2", None)])
def test_pool_size_from_environment(value, expected):
    code = "import fastpar; print(fastpar.get_num_threads())"
    env = dict(os.environ, FASTPAR_NUM_THREADS=value)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert int(out.stdout) == (expected or len(os.sched_getaffinity(0)))


def test_set_num_threads_round_trip(restore_pool_size, bars):
    c = bars["close"]
    expected = fastpar.rsi(c, 14, threads=1)
    for n in (1, 2, 3, 8, 2):
        fastpar.set_num_threads(n)
        assert fastpar.get_num_threads() == n
        np.testing.assert_array_equal(fastpar.rsi(c, 14), expected)


@pytest.mark.parametrize("bad, exc, match", [
    (0, ValueError, r"number of threads must be in \[1, 1024\], got 0"),
    (-1, ValueError, "got -1"),
    (1025, ValueError, "got 1025"),
    (10**6, ValueError, "got 1000000"),
    (2**63, ValueError, "got 9223372036854775808"),  # was an OverflowError
    (-(2**70), ValueError, "got -1180591620717411303424"),
    (2.0, TypeError, "n must be an integer, got float"),
    ("2", TypeError, "n must be an integer, got str"),
    (True, TypeError, "n must be an integer, got bool"),  # was taken as 1
])
def test_set_num_threads_rejects_bad_values(restore_pool_size, bad, exc, match):
    size = fastpar.get_num_threads()
    with pytest.raises(exc, match=match):
        fastpar.set_num_threads(bad)
    assert fastpar.get_num_threads() == size
    with pytest.raises(exc, match=match):
        _fastpar.set_num_threads(bad)  # the glue checks it too, not only fastpar.pool
    assert fastpar.get_num_threads() == size


@pytest.mark.parametrize("threads", [None, 1, 2, 7])
def test_rows_on_the_pool_match_row_by_row(bars, threads):
    h, l, c = bars["high"], bars["low"], bars["close"]
    got = fastpar.stoch(h, l, c, 14, 3, 3, threads=threads)
    for row in range(c.shape[0]):
        one = fastpar.stoch(h[row], l[row], c[row], 14, 3, 3)
        np.testing.assert_array_equal(got[0][row], one[0])
        np.testing.assert_array_equal(got[1][row], one[1])


def test_error_in_one_row_names_the_row(bars):
    c = bars["close"].copy()
    c[5, 100] = np.nan
    with pytest.raises(ValueError, match=r"row 5.*NaN or inf"):
        fastpar.sma(c, 10)


@pytest.mark.parametrize("threads", [1, 2, None])
@pytest.mark.parametrize("bad", [(0, 7, 11), (3, 4), (15,)])
def test_the_first_bad_row_is_named(bars, bad, threads):
    """With several bad rows, the message names the first, whichever thread
    ran which row."""
    c = bars["close"].copy()
    for row in bad:
        c[row, 50 + row] = np.inf
    with pytest.raises(ValueError, match=rf"^rsi\(\), row {bad[0]}: input contains NaN or inf "
                                         r"after its leading NaNs$"):
        fastpar.rsi(c, 14, threads=threads)


def _rsi_in_child(seed):
    x = np.random.default_rng(seed).normal(size=(8, 10_000)).cumsum(axis=1) + 100.0
    return fastpar.rsi(x, 14, threads=2)


@pytest.mark.thread_unsafe(reason="forks: the other threads' pool jobs would be copied mid-run")
def test_pool_survives_fork():
    """Children forked after the parent's pool ran use pools of their own."""
    fastpar.rsi(np.random.default_rng(0).normal(size=(8, 1000)).cumsum(axis=1), 14, threads=2)
    ctx = multiprocessing.get_context("fork")
    with warnings.catch_warnings():
        # Python warns that forking a process with threads may deadlock; the
        # pool's fork handlers are what make it safe here.
        warnings.simplefilter("ignore", DeprecationWarning)
        with ctx.Pool(2) as procs:
            got = procs.map(_rsi_in_child, range(4))
    for seed, child in enumerate(got):
        np.testing.assert_array_equal(child, _rsi_in_child(seed))


def _interrupt_after(delay):
    def send():
        time.sleep(delay)
        os.kill(os.getpid(), signal.SIGINT)

    t = threading.Thread(target=send)
    t.start()
    return t


@pytest.mark.parametrize("threads", [1, 2])
def test_ctrl_c_cancels_a_running_job(restore_pool_size, sigint_raises, threads):
    """SIGINT during a long pool job raises KeyboardInterrupt within a
    fraction of a second, not when the job would have ended (8 s here), and
    the pool works normally afterwards."""
    fastpar.set_num_threads(2)
    sender = _interrupt_after(0.3)
    t0 = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        _fastpar._sleep_job(800 * threads, 10_000, threads)  # 8 s of 10 ms tasks
    elapsed = time.perf_counter() - t0
    sender.join()
    assert elapsed < 1.5
    assert _fastpar._sleep_job(20, 1_000, threads) == 20


def test_jobs_from_many_threads_all_complete(restore_pool_size):
    """Sixteen Python threads submit jobs at once to a 2-thread pool: each
    job completes (its submitter works on it), none waits for the others."""
    fastpar.set_num_threads(2)
    done = []
    barrier = threading.Barrier(16)

    def submit():
        barrier.wait()
        done.append(_fastpar._sleep_job(50, 200, None))

    threads = [threading.Thread(target=submit) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert done == [50] * 16
