"""Stress: 32 Python threads for a bounded time, each calling every entry
point in its own random order on inputs all threads share, every result
checked against the answer computed sequentially first.

The run lasts FASTPAR_STRESS_SECONDS (default 3) after every thread has
started, plus the calls under way then. The mix: each indicator on 1-D
input (the caller's thread) and on 2-D input (pool jobs, threads=None, 1
and 2, many submitters at once), pandas Series in and out, expected errors
(NaN, bad period, bad dtype, a failing pool row), scenario batches on the
pool with one bad scenario, single scenarios, and pool resizes. On the
free-threaded build (`make test-ft`) the 32 threads run Python at once too.
"""

import os
import random
import threading
import time

import numpy as np
import pytest

import fastpar
from fastpar.scenarios import ScenarioError, run_scenario, run_scenarios
from fastpar.synthetic import random_walk_ohlc
from fastpar.ticks import TickArraysData
from scenario_factory import make_scenario

pytestmark = pytest.mark.thread_unsafe(reason="starts its own 32 threads and resizes the pool")

N_THREADS = 32
SECONDS = float(os.environ.get("FASTPAR_STRESS_SECONDS", "3"))

TOTALS = {}  # filled by the test, for the record (docs/reliability.md)


def indicator_calls(h, l, c, threads=None):  # noqa: E741
    kw = {"threads": threads}
    return {
        "sma": lambda: fastpar.sma(c, 20, **kw),
        "ema": lambda: fastpar.ema(c, 30, **kw),
        "wma": lambda: fastpar.wma(c, 10, **kw),
        "rsi": lambda: fastpar.rsi(c, 14, **kw),
        "rsi_simple": lambda: fastpar.rsi(c, 14, method="simple", **kw),
        "stddev": lambda: fastpar.stddev(c, 20, 1.5, **kw),
        "bbands": lambda: fastpar.bbands(c, 20, 2.0, 1.5, **kw),
        "envelope": lambda: fastpar.envelope(c, 25, 0.5, **kw),
        "macd": lambda: fastpar.macd(c, 12, 26, 9, **kw),
        "atr": lambda: fastpar.atr(h, l, c, 14, **kw),
        "stoch": lambda: fastpar.stoch(h, l, c, 14, 3, 3, **kw),
    }


def as_list(result):
    return list(result) if isinstance(result, tuple) else [result]


def same(got, want):
    got, want = as_list(got), as_list(want)
    return len(got) == len(want) and all(
        np.array_equal(np.asarray(g), np.asarray(w), equal_nan=True)
        for g, w in zip(got, want, strict=True)
    )


def scenario_key(r):
    if isinstance(r, ScenarioError):
        return ("error", r.status)
    if isinstance(r, Exception):  # a step before the engine refused it
        return ("error", type(r).__name__, str(r))
    return (r.ticks_processed, r.portfolio_value, tuple(t.pnl for t in r.trades))


def expect_error(exc, fn, *args, **kwargs):
    def call():
        try:
            fn(*args, **kwargs)
        except exc as e:
            return type(e).__name__
        return "no error"

    return call


@pytest.fixture(scope="module")
def workload(ticks, broker):
    data = random_walk_ohlc(8, 2_000, seed=11)
    for a in data.values():
        a.flags.writeable = False
    h2, l2, c2 = data["high"], data["low"], data["close"]
    h1, l1, c1 = h2[3], l2[3], c2[3]
    with_nan = c2.copy()
    with_nan[5, 700] = np.nan
    with_nan.flags.writeable = False

    calls = {}
    calls.update({f"{k}_1d": v for k, v in indicator_calls(h1, l1, c1).items()})
    for t in (None, 1, 2):
        calls.update({f"{k}_2d_t{t}": v for k, v in indicator_calls(h2, l2, c2, t).items()})
    try:
        import pandas as pd

        series = pd.Series(c1, name="close")
        calls["bbands_series"] = lambda: tuple(s.to_numpy() for s in fastpar.bbands(series))
    except ImportError:  # pragma: no cover - pandas is a test dependency
        pass
    calls["error_nan_row"] = expect_error(ValueError, fastpar.rsi, with_nan, 14)
    calls["error_period"] = expect_error(ValueError, fastpar.sma, c1, 0)
    calls["error_dtype"] = expect_error(TypeError, fastpar.ema, np.array(["a", "b"]), 2)

    # One data worker shared by every thread: its bars are rendered once,
    # by whichever call comes first.
    ticks = TickArraysData(ticks)
    batch = [
        make_scenario(max_ticks=600, name="s0"),
        make_scenario(logic="CORE/simple_consensus", max_ticks=900, name="s1"),
        make_scenario(logic="CORE/nope", name="bad"),
        make_scenario(start="2025-09-09T00:00:00+00:00", end="2025-09-09T03:00:00+00:00",
                      name="s2"),
    ]
    calls["run_scenarios"] = lambda: tuple(
        scenario_key(r)
        for r in run_scenarios(ticks, batch, broker=broker, threads=None, progress=False)
    )
    calls["run_scenarios_t2"] = lambda: tuple(
        scenario_key(r)
        for r in run_scenarios(ticks, batch, broker=broker, threads=2, progress=False)
    )
    calls["run_scenario"] = lambda: scenario_key(run_scenario(ticks, batch[1], broker))

    bars = {"high": h1, "low": l1, "close": c1}
    grids = {
        "rsi_threshold": {"period": [5, 14], "low": [25, 30], "high": [70]},
        "ma_cross": {"fast": [3, 5, 20], "slow": [10, 20], "kind": ["sma", "ema"]},
        "bigbar": {"atr_period": [7], "k_atr": [1.0, 1.5], "tail_ratio": [0.5], "breakout": [5],
                   "rsi_period": [14], "rsi_max": [80]},
    }
    for strategy, grid in grids.items():
        for t in (None, 1):
            calls[f"sweep_{strategy}_t{t}"] = (
                lambda strategy=strategy, grid=grid, t=t: fastpar.sweep(
                    bars, strategy, grid, threads=t, progress=False, fees=0.001, stop_loss=0.05
                ).select_dtypes("number").to_numpy(dtype=float)
            )
    calls["error_sweep_grid"] = expect_error(ValueError, fastpar.sweep, bars, "rsi_threshold",
                                             {"period": [14], "low": [30]})

    expected = {name: call() for name, call in calls.items()}  # sequential answers
    assert expected["run_scenarios"][2][0] == "error"  # the bad scenario, alone
    assert all(key[0] != "error" for i, key in enumerate(expected["run_scenarios"]) if i != 2)
    return calls, expected


def compare(name, got, want):
    if name.startswith(("error_", "run_scenario")):  # plain values
        return got == want
    return same(got, want)


def test_32_threads_mixing_every_entry_point(workload):
    calls, expected = workload
    names = sorted(calls)
    pool_size = fastpar.get_num_threads()
    barrier = threading.Barrier(N_THREADS + 1)
    stop = threading.Event()
    counts = [0] * N_THREADS
    wrong = []
    errors = []

    def body(i):
        rng = random.Random(i)
        try:
            barrier.wait()
            while not stop.is_set():
                name = rng.choice(names)
                if name == "run_scenario" and rng.random() < 0.1:
                    # resizing under load: jobs in flight finish normally
                    fastpar.set_num_threads(rng.choice([1, 2, 3, pool_size]))
                got = calls[name]()
                if not compare(name, got, expected[name]):
                    wrong.append(name)
                counts[i] += 1
        except BaseException as e:  # reported in the test's thread
            errors.append(e)
            stop.set()

    threads = [threading.Thread(target=body, args=(i,)) for i in range(N_THREADS)]
    try:
        for t in threads:
            t.start()
        barrier.wait()
        started = time.perf_counter()
        stop.wait(SECONDS)
        stop.set()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
    finally:
        fastpar.set_num_threads(pool_size)

    if errors:
        raise errors[0]
    assert not wrong, f"results differing from the sequential ones: {sorted(set(wrong))}"
    assert all(c > 0 for c in counts), f"threads that made no call: {counts.count(0)}"
    TOTALS.update(threads=N_THREADS, calls=sum(counts), seconds=round(elapsed, 1),
                  entry_points=len(names))
    print(f"stress: {TOTALS}")
