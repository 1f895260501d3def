"""Python threads calling fastpar at once: identical results, real parallelism."""

import sys
import threading
import time

import numpy as np
import pytest

import fastpar

N_THREADS = 8


def every_kernel(h, l, c, threads=None):
    """One call of every public kernel, results flattened to a list."""
    out = [
        fastpar.sma(c, 20, threads=threads),
        fastpar.ema(c, 20, threads=threads),
        fastpar.wma(c, 20, threads=threads),
        fastpar.rsi(c, 14, threads=threads),
        fastpar.rsi(c, 14, method="simple", threads=threads),
        fastpar.stddev(c, 20, 1.5, threads=threads),
        fastpar.atr(h, l, c, 14, threads=threads),
    ]
    out += fastpar.bbands(c, 20, 2.0, 2.0, threads=threads)
    out += fastpar.envelope(c, 20, 0.02, threads=threads)
    out += fastpar.macd(c, 12, 26, 9, threads=threads)
    out += fastpar.stoch(h, l, c, 5, 3, 3, threads=threads)
    return out


def run_at_once(fn, n_threads=N_THREADS):
    """Run fn(i) in n_threads threads released together by a barrier."""
    barrier = threading.Barrier(n_threads)
    results = [None] * n_threads
    errors = []

    def body(i):
        try:
            barrier.wait()
            results[i] = fn(i)
        except BaseException as e:  # reported below, in the test's thread
            errors.append(e)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


def assert_same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_threads_share_one_input_1d(bars):
    h, l, c = bars["high"][0], bars["low"][0], bars["close"][0]
    expected = every_kernel(h, l, c)
    for got in run_at_once(lambda i: every_kernel(h, l, c)):
        assert_same(got, expected)


def test_threads_share_one_input_2d_on_the_pool(bars):
    h, l, c = bars["high"], bars["low"], bars["close"]
    expected = every_kernel(h, l, c, threads=1)
    # Eight submitters at once, each with its own pool job: no deadlock,
    # results identical to the single-threaded run.
    for got in run_at_once(lambda i: every_kernel(h, l, c, threads=None if i % 2 else 2)):
        assert_same(got, expected)


def test_inputs_are_not_modified_by_concurrent_calls(bars):
    c = bars["close"].copy()
    before = c.copy()
    run_at_once(lambda i: fastpar.bbands(c, 20))
    np.testing.assert_array_equal(c, before)


@pytest.mark.thread_unsafe(reason="changes the interpreter-wide switch interval")
def test_gil_is_released_while_a_kernel_runs():
    """Another Python thread makes progress while a kernel call is running.

    With the switch interval set very long, the interpreter never takes the
    GIL away from the calling thread by itself; so if the other thread's
    counter moved between the start and the end of the call, the kernel
    released the GIL. No timing threshold is involved.
    """
    x = np.random.default_rng(1).normal(size=(32, 200_000)).cumsum(axis=1) + 1000.0
    started = threading.Event()
    stop = threading.Event()
    counter = [0]

    def spinner():
        started.wait()
        while not stop.is_set():
            counter[0] += 1
            time.sleep(0)  # hands the GIL back, so the caller can return

    old = sys.getswitchinterval()
    t = threading.Thread(target=spinner)
    t.start()
    try:
        sys.setswitchinterval(1000.0)
        for _ in range(20):  # each try is independent; one success proves it
            before = counter[0]
            started.set()
            fastpar.ema(x, 30, threads=1)
            if counter[0] > before:
                break
    finally:
        sys.setswitchinterval(old)
        stop.set()
        started.set()
        t.join()
    assert counter[0] > before, "no other thread ran during the kernel call"
