"""Faults injected into running fastpar code: Ctrl-C in the middle of a
scenario batch, fork after the pool ran, memory exhaustion (and the thread
creation failures that come with it), and scenarios that fail inside a
batch. After each, the process (or the child) must go on computing the
same numbers as before.
"""

import concurrent.futures
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import warnings

import numpy as np
import pytest

import fastpar
from fastpar import _fastpar
from fastpar.scenario_config import data_path
from fastpar.scenarios import ScenarioError, ScenarioResult, run_scenario, run_scenarios
from fastpar.synthetic import random_walk_ohlc
from fastpar.ticks import (
    InsufficientHistoricalDataError,
    InsufficientTickDataError,
    NoDataAvailableError,
    TickArraysData,
    synthetic_ticks,
)
from scenario_factory import NaNAt, make_scenario

pytestmark = pytest.mark.thread_unsafe(reason="signals, fork, the pool size and RLIMIT_AS are process-wide")

# How long after SIGINT the KeyboardInterrupt must arrive. On the pool the
# calling thread only waits and the running scenarios see the cancel flag:
# well within a second. With threads=1 the calling thread runs the
# scenarios itself and notices Ctrl-C between two of them, so the bound
# covers one whole scenario (about 1 s of burnt CPU time here) on a busy
# machine.
SIGINT_BOUND_S = {1: 3.0, 2: 1.0, None: 1.0}
BROKER = str(data_path("broker_config.json"))


def under_asan():
    with open("/proc/self/maps") as f:
        return "libasan" in f.read()


@pytest.fixture
def restore_pool_size():
    size = fastpar.get_num_threads()
    yield
    fastpar.set_num_threads(size)


@pytest.fixture(scope="module")
def data(ticks):
    """The ticks as one data worker, its warm-up bars rendered once (a
    TickArrays is bound anew for each scenario): a batch's preparation then
    takes milliseconds, and Ctrl-C lands while its scenarios run."""
    data = TickArraysData(ticks)
    for timeframe in ("M5", "M30"):
        data.bars("EURUSD", timeframe)
    return data


def heavy(i, load_ms, max_ticks):
    # Beside rsi_fast: the CORE logics require rsi_fast to be a CORE/rsi.
    return make_scenario(
        extra={"rsi_heavy": ("CORE/heavy_rsi", {"period": 14, "timeframe": "M5",
                                                "artificial_load_ms": load_ms})},
        max_ticks=max_ticks,
        name=f"heavy_{i}",
        broker_config_path=BROKER,
    )


def light_batch():
    return [
        make_scenario(max_ticks=500, name="light_a"),
        make_scenario(logic="CORE/simple_consensus", max_ticks=800, name="light_b"),
    ]


def comparable(r):
    return (r.ticks_processed, r.portfolio_value, [t.pnl for t in r.trades], r.decision_counts)


def _interrupt_main_after(delay, sent_at):
    def send():
        time.sleep(delay)
        sent_at.append(time.perf_counter())
        os.kill(os.getpid(), signal.SIGINT)

    t = threading.Thread(target=send)
    t.start()
    return t


@pytest.mark.parametrize("threads", [1, 2])
def test_sigint_during_a_scenario_batch(restore_pool_size, sigint_raises, data, broker, threads):
    """Ctrl-C 0.5 s into a batch that would take about 12 s: KeyboardInterrupt
    within SIGINT_BOUND_S[threads], the pool and the scenario kernel then give the
    same results as before."""
    fastpar.set_num_threads(2)
    before = [comparable(r) for r in
              run_scenarios(data, light_batch(), broker=broker, threads=2, progress=False)]
    batch = [heavy(i, 2.5, 400) for i in range(12 * threads)]  # ~1 s of load each

    sent_at = []
    sender = _interrupt_main_after(0.5, sent_at)
    t0 = time.perf_counter()
    try:
        with pytest.raises(KeyboardInterrupt):
            run_scenarios(data, batch, broker=broker, threads=threads, progress=False)
        raised_at = time.perf_counter()
    finally:
        sender.join()
    assert raised_at - sent_at[0] < SIGINT_BOUND_S[threads]
    assert raised_at - t0 < 0.5 + SIGINT_BOUND_S[threads]

    assert _fastpar._sleep_job(40, 1_000, 2) == 40
    after = [comparable(r) for r in
             run_scenarios(data, light_batch(), broker=broker, threads=2, progress=False)]
    assert after == before


def test_sigint_during_a_native_orchestrator_run(restore_pool_size, sigint_raises, data):
    """The same through BatchOrchestrator(native=True)."""
    from fastpar.batch_orchestrator import BatchOrchestrator
    from fastpar.performance import ScenarioSetPerformanceManager

    batch = [heavy(i, 2.5, 400) for i in range(16)]
    orchestrator = BatchOrchestrator(
        batch, data, {"execution": {}}, ScenarioSetPerformanceManager(), native=True
    )
    sent_at = []
    sender = _interrupt_main_after(0.5, sent_at)
    try:
        with pytest.raises(KeyboardInterrupt):
            orchestrator.run()
        raised_at = time.perf_counter()
    finally:
        sender.join()
    assert raised_at - sent_at[0] < SIGINT_BOUND_S[2]
    assert _fastpar._sleep_job(40, 1_000, 2) == 40


# ---------------------------------------------------------------------------
# fork
# ---------------------------------------------------------------------------


def _child_work(seed):
    """Runs in a forked child: pool jobs (2-D rows) and a scenario."""
    data = random_walk_ohlc(6, 3_000, seed=seed)
    h, l, c = data["high"], data["low"], data["close"]  # noqa: E741
    out = [fastpar.rsi(c, 14), fastpar.atr(h, l, c, 14), *fastpar.bbands(c, 20)]
    ticks = synthetic_ticks("EURUSD", start="2025-09-01", days=4, seed=seed)
    r = run_scenario(ticks, make_scenario(max_ticks=1_500, name=f"fork_{seed}",
                                          broker_config_path=BROKER))
    return out, comparable(r), os.getpid()


@pytest.mark.parametrize("workers", [1, 3])
def test_fork_after_the_pool_ran(restore_pool_size, workers):
    """A ProcessPoolExecutor with the fork start method, forked while the
    parent's pool threads exist (after they ran jobs): every child computes
    what the parent computes, in pools of their own."""
    fastpar.set_num_threads(2)
    expected = {seed: _child_work(seed) for seed in range(6)}  # also runs the pool here
    with warnings.catch_warnings():
        # Python warns that forking a process with threads may deadlock; the
        # pool's fork handlers are what make it safe.
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx = multiprocessing.get_context("fork")
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=ctx) as procs:
            got = dict(zip(expected, procs.map(_child_work, expected), strict=True))
    for seed, (arrays, scenario, pid) in got.items():
        assert pid != os.getpid()
        want_arrays, want_scenario, _ = expected[seed]
        for a, b in zip(arrays, want_arrays, strict=True):
            np.testing.assert_array_equal(a, b)
        assert scenario == want_scenario
    # and the parent's pool still works
    assert _fastpar._sleep_job(40, 1_000, 2) == 40


# ---------------------------------------------------------------------------
# Memory exhaustion
# ---------------------------------------------------------------------------

MEMORY_CHILD = textwrap.dedent(
    """
    import resource, sys
    import numpy as np
    import fastpar
    from fastpar.scenario_config import data_path
    from fastpar.ticks import TickArraysData, synthetic_ticks
    from fastpar.scenarios import run_scenarios, ScenarioError
    sys.path.insert(0, {tests!r})
    from scenario_factory import NaNAt, make_scenario

    rng = np.random.default_rng(5)
    small = rng.normal(size=(4, 2_000)).cumsum(axis=1) + 100.0
    expected = [fastpar.bbands(small, 20, threads=1), fastpar.stoch(small, small, small)]
    ticks = TickArraysData(synthetic_ticks("EURUSD", start="2025-09-01", days=4, seed=9))
    scenario = make_scenario(max_ticks=2_000, name="mem",
                             broker_config_path=str(data_path("broker_config.json")))
    want = run_scenarios(ticks, [scenario], threads=1, progress=False)[0].portfolio_value

    # A 256 MB input, then an address-space limit 400 MB above what the
    # process uses: the input fits, the outputs of one call (3 x 256 MB for
    # bbands) cannot, nor can 8 MB worker stacks for a 64-thread pool.
    big = np.ones((64, 512 * 1024))
    with open("/proc/self/statm") as f:
        used = int(f.read().split()[0]) * resource.getpagesize()
    limit = used + 400 * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    fastpar.set_num_threads(64)

    faults = 0
    for call in (
        lambda: fastpar.bbands(big, 20),
        lambda: fastpar.macd(big),
        lambda: fastpar.stoch(big, big, big),
        lambda: fastpar.envelope(big, 20),
    ):
        try:
            call()
        except MemoryError:
            faults += 1
        else:
            raise SystemExit("no MemoryError")
    # Still computing the same numbers, with whatever threads could start.
    got = [fastpar.bbands(small, 20), fastpar.stoch(small, small, small)]
    for g, e in zip(got, expected):
        for a, b in zip(g, e):
            assert np.array_equal(a, b, equal_nan=True)
    (again,) = run_scenarios(ticks, [scenario], threads=None, progress=False)
    assert again.portfolio_value == want
    print("faults", faults)
    """
)


@pytest.mark.skipif(
    sys.platform != "linux", reason="RLIMIT_AS and /proc/self/statm are Linux's"
)
def test_memory_exhaustion_raises_memory_error():
    """Under an address-space limit, a call whose outputs cannot be
    allocated raises MemoryError (no crash, no partial result) and the
    process goes on working, with the pool on fewer threads than asked."""
    if under_asan():
        pytest.skip(
            "ASan reserves terabytes of shadow address space at start-up, so no "
            "RLIMIT_AS can be set under it; the normal build runs this test"
        )
    tests_dir = os.path.dirname(os.path.abspath(__file__))
    proc = subprocess.run(
        [sys.executable, "-c", MEMORY_CHILD.format(tests=tests_dir)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.split() == ["faults", "4"]


# ---------------------------------------------------------------------------
# A scenario that fails inside a batch
# ---------------------------------------------------------------------------


def test_failing_scenarios_inside_a_batch(data, broker):
    """Scenarios that fail in the kernel (NaN in their ticks), in their
    configuration, in their window or in their broker file sit between good
    ones: each fails alone with its own error, the good ones give their
    single-run results."""
    good = [
        make_scenario(max_ticks=700, name="good_0", broker_config_path=BROKER),
        make_scenario(logic="CORE/simple_consensus", max_ticks=900, name="good_1",
                      broker_config_path=BROKER),
        make_scenario(start="2025-09-09T00:00:00+00:00", end="2025-09-09T06:00:00+00:00",
                      name="good_2", broker_config_path=BROKER),
    ]
    # NaN in a tick the good scenarios do not read, but the first bad one does.
    (ticks,) = data.ticks.values()
    noon = np.datetime64("2025-09-10T12:00", "ns").astype(np.int64)
    nan_data = NaNAt(data, int(ticks.timestamp[int(np.searchsorted(ticks.timestamp, noon)) + 10]))
    bad = {
        "nan_ticks": (ScenarioError, "NaN", make_scenario(
            start="2025-09-10T12:00:00+00:00", end="2025-09-10T13:00:00+00:00")),
        "bad_logic": (ValueError, "Decision logic creation failed",
                      make_scenario(logic="CORE/unknown")),
        "type_override": (ValueError, "Type override not allowed", make_scenario(
            rsi=("CORE/heavy_rsi", {"period": 14, "timeframe": "M5"}))),
        "weekend": (NoDataAvailableError, "no tick data", make_scenario(
            start="2025-09-06T10:00:00+00:00", end="2025-09-06T11:00:00+00:00")),
        "off_tick": (InsufficientHistoricalDataError, "no tick at the start", make_scenario(
            start="2025-09-03T07:00:00.5+00:00", max_ticks=50)),
        "too_many_ticks": (InsufficientTickDataError, "max_ticks", make_scenario(
            max_ticks=10**9)),
        "no_broker_file": (FileNotFoundError, "/nonexistent.json", make_scenario(
            max_ticks=50, broker_config_path="/nonexistent.json")),
    }
    for name, (_, _, scenario) in bad.items():
        scenario.name = name
        scenario.trade_simulator_config.setdefault("broker_config_path", BROKER)
    b = [entry[2] for entry in bad.values()]
    batch = [good[0], b[0], b[1], good[1], b[2], b[3], b[4], b[5], b[6], good[2]]
    singles = {s.name: comparable(run_scenario(nan_data, s)) for s in good}
    for threads in (1, 2, None):
        out = run_scenarios(nan_data, batch, threads=threads, progress=False)
        assert len(out) == len(batch)
        for scenario, r in zip(batch, out, strict=True):
            if scenario in good:
                assert isinstance(r, ScenarioResult), r
                assert comparable(r) == singles[scenario.name]
            else:
                kind, text, _ = bad[scenario.name]
                assert isinstance(r, kind) and text in str(r), (scenario.name, r)
    assert out[1].status == 3  # the engine's "tick data contains NaN or inf"
