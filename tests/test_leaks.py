"""Leak checks: every public entry point, its error paths included, called
thousands of times leaves neither Python objects nor process memory behind.

Per entry point: a warm-up (caches, the pool's threads, allocator arenas
fill up), then
- resident memory (/proc/self/statm) after FASTPAR_LEAK_ITERATIONS more
  calls is within RSS_TOLERANCE of what it was after the warm-up;
- with tracemalloc on, memory held by Python-visible allocations (objects,
  PyMem buffers, NumPy array data) grows by at most TRACED_TOLERANCE over
  the same number of calls: one leaked float per call over 1,000 calls
  exceeds it.

A C-side leak that Python cannot see (a kernel's scratch buffer, a result
array of the scenario kernel) shows up in RSS: every call here allocates
at least a few kB of it.
"""

import gc
import os
import sys
import tracemalloc

import numpy as np
import pytest

import fastpar
from fastpar import _fastpar
from fastpar.scenarios import ScenarioError, run_scenario, run_scenarios
from fastpar.ticks import NoDataAvailableError, TickArrays, TickArraysData
from scenario_factory import make_scenario

pytestmark = pytest.mark.thread_unsafe(reason="measures the whole process's memory")

ITERATIONS = int(os.environ.get("FASTPAR_LEAK_ITERATIONS", "3000"))
WARMUP = max(50, ITERATIONS // 10)
TRACED_TOLERANCE = 32 * 1024  # bytes, over all the calls of one check
GIL = getattr(sys, "_is_gil_enabled", lambda: True)()
# The free-threaded build frees some memory only once every thread has
# passed a quiescent state, so a fixed backlog of freed blocks stays
# counted: about 50 kB for a scenario batch on the pool, the same after
# 1,000 or 9,000 calls. A leak grows with the calls; this does not.
if not GIL:
    TRACED_TOLERANCE += 96 * 1024
RSS_TOLERANCE = 4 * 1024 * 1024  # bytes, over all ITERATIONS calls
PAGE = os.sysconf("SC_PAGE_SIZE")


def under_asan():
    # ASan keeps freed blocks in a quarantine (256 MB by default) before it
    # reuses them, so RSS grows with any allocation churn there.
    with open("/proc/self/maps") as f:
        return "libasan" in f.read()


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


N = 1_000
_rng = np.random.default_rng(7)
CLOSE = 100.0 + _rng.normal(size=N).cumsum()
HIGH = CLOSE + _rng.uniform(0.0, 1.0, N)
LOW = CLOSE - _rng.uniform(0.0, 1.0, N)
CLOSE2 = np.vstack([CLOSE, CLOSE[::-1], CLOSE + 5.0, CLOSE * 1.01])
HIGH2 = CLOSE2 + 1.0
LOW2 = CLOSE2 - 1.0
WITH_NAN = CLOSE.copy()
WITH_NAN[500] = np.nan
WITH_NAN2 = CLOSE2.copy()
WITH_NAN2[2, 300] = np.nan  # a failing row on the pool: the C status path
STRINGS = np.array(["1.0"] * 50)


def raises(exc, fn, *args, **kwargs):
    def call():
        try:
            fn(*args, **kwargs)
        except exc:
            return
        raise AssertionError(f"{fn.__name__} did not raise {exc.__name__}")

    return call


def indicator_calls(h, l, c):  # noqa: E741 - high, low, close
    return {
        "sma": lambda: fastpar.sma(c, 20),
        "ema": lambda: fastpar.ema(c, 20),
        "wma": lambda: fastpar.wma(c, 20),
        "rsi": lambda: fastpar.rsi(c, 14),
        "rsi_simple": lambda: fastpar.rsi(c, 14, method="simple"),
        "stddev": lambda: fastpar.stddev(c, 20, 2.0),
        "bbands": lambda: fastpar.bbands(c, 20, 2.0, 2.0),
        "envelope": lambda: fastpar.envelope(c, 20, 0.02),
        "macd": lambda: fastpar.macd(c, 12, 26, 9),
        "atr": lambda: fastpar.atr(h, l, c, 14),
        "stoch": lambda: fastpar.stoch(h, l, c, 5, 3, 3),
    }


CALLS = {f"{k}_1d": v for k, v in indicator_calls(HIGH, LOW, CLOSE).items()}
CALLS.update({f"{k}_2d_pool": v for k, v in indicator_calls(HIGH2, LOW2, CLOSE2).items()})
CALLS.update(
    {
        "sma_list_input": lambda: fastpar.sma(list(CLOSE[:100]), 5),
        "bbands_int_input": lambda: fastpar.bbands(np.arange(300), 10),
        "pool_size": lambda: fastpar.set_num_threads(fastpar.get_num_threads()),
        # error paths, Python side
        "error_dtype": raises(TypeError, fastpar.sma, STRINGS, 5),
        "error_nan": raises(ValueError, fastpar.rsi, WITH_NAN, 14),
        "error_nan_2d_pool": raises(ValueError, fastpar.envelope, WITH_NAN2, 20),
        "error_period_zero": raises(ValueError, fastpar.ema, CLOSE, 0),
        "error_period_type": raises(TypeError, fastpar.wma, CLOSE, 2.5),
        "error_period_huge": raises(ValueError, fastpar.stoch, HIGH, LOW, CLOSE, 10**6),
        "error_macd_order": raises(ValueError, fastpar.macd, CLOSE, 26, 12),
        "error_shapes": raises(ValueError, fastpar.atr, HIGH, LOW[:-1], CLOSE),
        "error_threads": raises(ValueError, fastpar.sma, CLOSE2, 5, threads=0),
        # the C glue itself: its conversions and its errors
        "error_glue_period": raises(ValueError, _fastpar.sma, CLOSE, 0, None),
        "glue_converts_layout": lambda: _fastpar.bbands(CLOSE2.T, 5, 2.0, 2.0, 0, None),
        "error_glue_not_array": raises(TypeError, _fastpar.bbands, list(CLOSE), 5, 2.0, 2.0, 0,
                                       None),
        "error_glue_argcount": raises(TypeError, _fastpar.stoch, HIGH, LOW, CLOSE, 5, None),
    }
)
try:
    import pandas as pd
except ImportError:  # pragma: no cover - pandas is a test dependency
    pd = None
if pd is not None:
    SERIES = pd.Series(CLOSE, index=pd.date_range("2025-01-01", periods=N, freq="min"))
    CALLS["macd_series"] = lambda: fastpar.macd(SERIES)


@pytest.fixture(scope="module")
def scenario_calls(ticks, broker):
    # One data worker: its warm-up bars are rendered once, in the warm-up
    # calls (bound anew, a TickArrays would render them on every call).
    data = TickArraysData(ticks)
    short = make_scenario(max_ticks=300, name="short")
    consensus = make_scenario(logic="CORE/simple_consensus", max_ticks=300, name="consensus")
    bad_logic = make_scenario(logic="CORE/nope", name="bad_logic")
    empty = make_scenario(start="2025-09-06T10:00:00+00:00", end="2025-09-06T11:00:00+00:00",
                          name="empty")
    # A NaN in the short scenario's window: the engine's status path. The
    # API's data layer lets a NaN through (tests/scenario_factory.NaNAt);
    # here the arrays are built without TickArrays' own check, so that the
    # calls measure fastpar and not pandas' DataFrames.
    start = int(np.searchsorted(ticks.timestamp, np.datetime64("2025-09-03T07:00", "ns")
                                .astype(np.int64)))
    bid = ticks.bid.copy()
    bid[start + 100] = np.nan
    nan_ticks = TickArraysData(TickArrays("EURUSD", ticks.timestamp, bid, ticks.ask, ticks.volume))
    batch = [short, consensus, bad_logic, empty]

    def batch_call():
        # The results are not kept in a local: the error entries'
        # tracebacks reach this frame (f_back), and a local holding them
        # would make a reference cycle, which the free-threaded build
        # frees only some time after the cyclic GC found it.
        assert [type(r).__name__ for r in run_scenarios(data, batch, broker=broker, threads=2,
                                                         progress=False)] == [
            "ScenarioResult",
            "ScenarioResult",
            "ValueError",
            "NoDataAvailableError",
        ]

    return {
        "run_scenario": lambda: run_scenario(data, short, broker),
        "run_scenarios_mixed": batch_call,
        "error_bad_scenario": raises(ValueError, run_scenario, data, bad_logic, broker),
        "error_empty_window": raises(NoDataAvailableError, run_scenario, data, empty, broker),
        "error_nan_ticks": raises(ScenarioError, run_scenario, nan_ticks, short, broker),
    }


def check_no_leak(call, iterations=ITERATIONS):
    for _ in range(WARMUP):
        call()
    gc.collect()

    rss_before = rss_bytes()
    for _ in range(iterations):
        call()
    gc.collect()
    rss_growth = rss_bytes() - rss_before

    tracemalloc.start(1)
    try:
        call()
        gc.collect()
        traced_before, _ = tracemalloc.get_traced_memory()
        for _ in range(iterations):
            call()
        gc.collect()
        traced_growth = tracemalloc.get_traced_memory()[0] - traced_before
    finally:
        tracemalloc.stop()

    assert traced_growth <= TRACED_TOLERANCE, (
        f"Python-visible memory grew by {traced_growth} bytes over {iterations} calls"
    )
    if not under_asan():
        assert rss_growth <= RSS_TOLERANCE, (
            f"resident memory grew by {rss_growth} bytes over {iterations} calls"
        )


@pytest.mark.parametrize("name", sorted(CALLS))
def test_indicator_and_pool_calls_do_not_leak(name):
    check_no_leak(CALLS[name])


# A scenario call is ~100x an indicator call; fewer of them still run
# every allocation of the kernel and of the result objects a thousand times.
SCENARIO_NAMES = [
    "run_scenario",
    "run_scenarios_mixed",
    "error_bad_scenario",
    "error_empty_window",
    "error_nan_ticks",
]


@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_scenario_calls_do_not_leak(scenario_calls, name):
    check_no_leak(scenario_calls[name], iterations=max(100, ITERATIONS // 3))


SWEEP_BARS = {"high": HIGH, "low": LOW, "close": CLOSE}
SWEEP_GRID = {"period": [5, 14], "low": [25, 30], "high": [70, 75]}
SWEEP_CALLS = {
    "sweep": lambda: fastpar.sweep(SWEEP_BARS, "rsi_threshold", SWEEP_GRID, progress=False),
    "sweep_bigbar_one_thread": lambda: fastpar.sweep(
        SWEEP_BARS, "bigbar", {"atr_period": [7], "k_atr": [1.0], "tail_ratio": [0.5],
                               "breakout": [5], "rsi_period": [14], "rsi_max": [80]},
        threads=1, progress=False, stop_loss=0.05),
    "error_sweep_unknown_parameter": raises(ValueError, fastpar.sweep, SWEEP_BARS,
                                            "rsi_threshold", {"period": [5], "lo": [1]}),
    "error_sweep_nan_bars": raises(ValueError, fastpar.sweep, {"close": WITH_NAN},
                                   "rsi_threshold", SWEEP_GRID),
}


@pytest.mark.parametrize("name", sorted(SWEEP_CALLS))
def test_sweep_calls_do_not_leak(name):
    check_no_leak(SWEEP_CALLS[name], iterations=max(100, ITERATIONS // 10))


ENTRIES = _rng.random((N, 6)) < 0.05
EXITS = np.asfortranarray(_rng.random((N, 6)) < 0.05)
BACKTEST_CALLS = {
    "backtest": lambda: fastpar.backtest(CLOSE, ENTRIES, EXITS, fees=0.001, stop_loss=0.05),
    "backtest_one_thread_1d": lambda: fastpar.backtest(CLOSE, ENTRIES[:, 0], EXITS[:, 1],
                                                       threads=1),
    "error_backtest_float_signals": raises(TypeError, fastpar.backtest, CLOSE, CLOSE, EXITS),
    "error_backtest_nan_close": raises(ValueError, fastpar.backtest, WITH_NAN, ENTRIES, EXITS),
    # the glue's own checks and its NaN path, past the Python ones
    "error_backtest_glue_columns": raises(ValueError, _fastpar.backtest, CLOSE, ENTRIES,
                                          EXITS[:, :3], 0.0, 0.0, 0.0, np.nan, np.nan, False,
                                          252.0, None),
    "error_backtest_glue_nan": raises(ValueError, _fastpar.backtest, WITH_NAN, ENTRIES, EXITS,
                                      0.0, 0.0, 0.0, np.nan, np.nan, False, 252.0, None),
}


@pytest.mark.parametrize("name", sorted(BACKTEST_CALLS))
def test_backtest_calls_do_not_leak(name):
    check_no_leak(BACKTEST_CALLS[name], iterations=max(100, ITERATIONS // 10))


def test_checkpointed_sweeps_do_not_leak_memory_or_files(tmp_path):
    """A rerun from a finished checkpoint reopens and closes the file each
    time: neither memory nor open file descriptors grow."""
    path = tmp_path / "cp.sqlite"

    def call():
        fastpar.sweep(SWEEP_BARS, "rsi_threshold", SWEEP_GRID, progress=False, checkpoint=path)

    call()
    fds_before = len(os.listdir("/proc/self/fd"))
    check_no_leak(call, iterations=max(100, ITERATIONS // 10))
    assert len(os.listdir("/proc/self/fd")) <= fds_before


def test_the_checks_see_a_leak():
    """The measurement itself: a call that keeps a small object per call
    (a float; 200 bytes where the free-threaded build's backlog is allowed
    for) fails it, as does one that keeps a kB-sized array (through RSS or
    tracemalloc)."""
    kept = []
    small = ((lambda: kept.append(float(len(kept)) + 0.5)) if GIL
             else (lambda: kept.append(bytes(200))))
    with pytest.raises(AssertionError, match="Python-visible"):
        check_no_leak(small, iterations=1000)
    kept.clear()
    with pytest.raises(AssertionError, match="memory grew"):
        check_no_leak(lambda: kept.append(fastpar.sma(CLOSE, 5)), iterations=1000)
    kept.clear()


def test_error_entries_make_no_reference_cycle(ticks, broker):
    """An error entry's traceback reaches run_scenarios' frame; the results
    must not be one of that frame's locals, or every batch with an error
    would be garbage only the cyclic GC frees."""
    data = TickArraysData(ticks)
    batch = [make_scenario(logic="CORE/nope", name="bad_logic"),
             make_scenario(start="2025-09-06T10:00:00+00:00", end="2025-09-06T11:00:00+00:00",
                           name="empty")]
    gc.collect()
    gc.disable()
    try:
        kinds = [type(r).__name__ for r in run_scenarios(data, batch, broker=broker,
                                                          progress=False)]
        unreachable = gc.collect()
    finally:
        gc.enable()
    assert kinds == ["ValueError", "NoDataAvailableError"]
    assert unreachable == 0
