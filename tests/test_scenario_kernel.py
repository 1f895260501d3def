"""The C scenario kernel (fastpar.scenarios) against the pure-Python
reference (fastpar.reference.scenario): same trades, orders, fills, delays,
signals and counts, amounts within 1e-9 (in practice identical), over the
sample scenario set and configurations covering each decision logic, each
worker type, heavy workers, max_ticks and tiny windows; and per-scenario
errors in a batch."""

import dataclasses
import math
import pickle
import random
import threading

import numpy as np
import pytest
from fastpar import _fastpar
from fastpar.reference.scenario import run_scenario as reference_run
from fastpar.scenario_config import (
    ScenarioConfigLoader,
    TestScenario,
    data_path,
    load_broker_config,
)
from fastpar.scenarios import ScenarioError, run_scenario, run_scenarios
from fastpar.ticks import synthetic_ticks
from scenario_factory import make_scenario

TOL = 1e-9
CONSENSUS = "CORE/simple_consensus"


def RSI(period, timeframe):  # noqa: N802 - reads like the worker type
    return ("CORE/rsi", {"period": period, "timeframe": timeframe})


def ENV(period, timeframe):  # noqa: N802
    return ("CORE/envelope", {"period": period, "timeframe": timeframe})


def assert_same(a, b, path="result"):
    """Equal structures; floats within TOL (absolute or relative)."""
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            assert math.isnan(a) and math.isnan(b), path
        else:
            assert a == b or math.isclose(a, b, rel_tol=TOL, abs_tol=TOL), f"{path}: {a} != {b}"
    elif isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), f"{path}: keys {list(a)} != {list(b)}"
        for k in a:
            assert_same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), f"{path}: lengths {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{path}[{i}]")
    else:
        assert type(a) is type(b) and a == b, f"{path}: {a!r} != {b!r}"


def comparable(result):
    d = dataclasses.asdict(result)
    d.pop("elapsed_time")
    d.pop("trace")
    return d


def check_against_reference(ticks, scenario, broker):
    ref = reference_run(ticks, scenario, broker)
    got = run_scenario(ticks, scenario, broker)
    assert_same(comparable(ref), comparable(got))
    # the points the brief names, spelt out
    def key(t):
        return (t.direction, t.entry_tick, t.exit_tick, t.entry_price, t.exit_price)

    assert [key(t) for t in ref.trades] == [key(t) for t in got.trades]
    assert ref.fill_delays == got.fill_delays
    assert [o.filled_at_tick for o in ref.orders] == [o.filled_at_tick for o in got.orders]
    assert ref.signals_gen_buy == got.signals_gen_buy
    assert ref.signals_gen_sell == got.signals_gen_sell
    assert abs(ref.portfolio_value - got.portfolio_value) <= TOL
    stats_ref = ref.to_performance_stats(3, elapsed_time=0.0)
    stats_got = got.to_performance_stats(3, elapsed_time=0.0)
    assert_same(dataclasses.asdict(stats_ref), dataclasses.asdict(stats_got))
    return ref, got


# ---------------------------------------------------------------------------
# Fill delays: CPython's random
# ---------------------------------------------------------------------------


def test_fill_delays_are_cpythons_random(ticks, broker):
    api, ex = random.Random(42), random.Random(123)
    want = [api.randint(1, 3) + ex.randint(2, 5) for _ in range(200)]
    assert want[:20] == [5, 5, 3, 8, 6, 3, 3, 6, 7, 5, 5, 6, 6, 5, 7, 5, 4, 3, 6, 3]
    got = run_scenario(ticks, make_scenario(end="2025-09-05T21:00:00+00:00"), broker)
    assert len(got.fill_delays) > 50
    assert got.fill_delays == want[: len(got.fill_delays)]


@pytest.mark.parametrize("seeds", [(7, 9), (0, 2**40 + 3), (-5, 123)])
def test_seed_overrides(ticks, broker, seeds):
    sc = make_scenario(seeds={"api_latency_seed": seeds[0], "market_execution_seed": seeds[1]})
    check_against_reference(ticks, sc, broker)


# ---------------------------------------------------------------------------
# The sample scenario set and more configurations
# ---------------------------------------------------------------------------


def test_sample_scenario_set_matches(ticks):
    loaded = ScenarioConfigLoader().load_config(data_path("sample_scenarios.json"))
    scenarios = [s for s in loaded if s.enabled]
    assert len(scenarios) >= 4
    for sc in scenarios:
        ref, got = check_against_reference(ticks, sc, None)
        assert got.portfolio_stats.total_trades > 0


LOGICS = {
    "aggressive": ("CORE/aggressive_trend", {}),
    "aggressive_strict": (
        "CORE/aggressive_trend",
        {
            "rsi_buy_threshold": 25,
            "rsi_sell_threshold": 75,
            "envelope_extremes": 0.1,
            "min_confidence": 0.55,
        },
    ),
    "consensus": ("CORE/simple_consensus", {}),
    "consensus_loose": (
        "CORE/simple_consensus",
        {"rsi_oversold": 45, "rsi_overbought": 55, "envelope_lower_threshold": 0.4,
         "envelope_upper_threshold": 0.6, "min_confidence": 0.5},
    ),
}


@pytest.mark.parametrize("logic", sorted(LOGICS))
@pytest.mark.parametrize("deviation", [0.02, 2.0])
def test_each_logic(ticks, broker, logic, deviation):
    logic_type, cfg = LOGICS[logic]
    sc = make_scenario(
        logic=logic_type,
        logic_config=cfg,
        env=("CORE/envelope", {"period": 20, "deviation": deviation, "timeframe": "M5"}),
        end="2025-09-04T16:00:00+00:00",
    )
    check_against_reference(ticks, sc, broker)


@pytest.mark.parametrize(
    "rsi, env, extra",
    [
        (RSI(3, "M1"), ENV(5, "M1"), None),
        (RSI(9, "H1"), ENV(10, "H4"), None),
        (RSI(5, "D1"), ENV(3, "D1"), None),
        (
            ("CORE/rsi", {"period": 14, "timeframe": "M15"}),
            ("CORE/envelope", {"period": 20, "deviation": 1.0, "timeframe": "M15"}),
            {"macd_main": ("CORE/macd", {"fast": 3, "slow": 7, "signal": 2, "timeframe": "M15"}),
             "rsi_slow": ("CORE/rsi", {"period": 30, "timeframe": "M30"})},
        ),
        (
            ("CORE/heavy_rsi", {"period": 14, "timeframe": "M5", "artificial_load_ms": 0.01}),
            (
                "CORE/heavy_envelope",
                {"period": 20, "deviation": 0.5, "timeframe": "M5", "artificial_load_ms": 0.01},
            ),
            {"macd_h1": ("CORE/heavy_macd", {"timeframe": "H1", "artificial_load_ms": 0.01})},
        ),
        (
            ("CORE/rsi", {"period": 1000, "timeframe": "M1"}),
            ("CORE/envelope", {"period": 1200, "timeframe": "M1"}),
            {"macd_m1": ("CORE/macd", {"fast": 50, "slow": 900, "signal": 200, "timeframe": "M1"})},
        ),
    ],
    ids=["m1", "h1_h4", "d1", "macd_extra_workers", "heavy", "history_cap"],
)
def test_each_worker(ticks, broker, rsi, env, extra):
    sc = make_scenario(rsi=rsi, env=env, extra=extra, max_ticks=3000)
    check_against_reference(ticks, sc, broker)


def test_heavy_load_is_burnt(ticks, broker):
    sc = make_scenario(
        rsi=("CORE/heavy_rsi", {"period": 14, "timeframe": "M5", "artificial_load_ms": 0.5}),
        max_ticks=200,
    )
    got = run_scenario(ticks, sc, broker)
    assert got.elapsed_time >= 0.09  # 200 ticks x 0.5 ms
    assert got.worker_statistics["rsi_fast"]["artificial_load_ms"] == 0.5


@pytest.mark.parametrize(
    "start, end, max_ticks",
    [
        ("2025-09-03T07:00:00", "2025-09-03T07:00:01", 1),
        ("2025-09-03T07:00:00", "2025-09-03T07:00:01", 5),
        ("2025-09-03T07:00:00", "2025-09-03T07:00:01", 12),
        ("2025-09-03T10:00:00", "2025-09-03T10:00:20", None),
        ("2025-09-01T00:00:00", "2025-09-01T03:00:00", None),  # no history: no warm-up
        ("2025-09-01T00:00:00", "2025-09-01T00:00:00", 40),
        ("2025-09-12T20:00:00", "2025-09-14T23:00:00", None),  # across a weekend, to the end
    ],
)
def test_windows_and_max_ticks(ticks, broker, start, end, max_ticks):
    for logic in ("CORE/aggressive_trend", "CORE/simple_consensus"):
        sc = make_scenario(logic=logic, start=start, end=end, max_ticks=max_ticks)
        ref, got = check_against_reference(ticks, sc, broker)
        if max_ticks:
            assert got.ticks_processed == max_ticks


@pytest.mark.parametrize(
    "kwargs",
    [
        {"logic_config": {"lot_size": 0.015}},  # breaks volume_step: every order rejected
        {"logic_config": {"lot_size": 500.0}},  # above volume_max
        {"logic_config": {"lot_size": 0.001}},  # below volume_min
        {"logic_config": {"min_free_margin": 1e9}},  # no order is ever sent
        {"logic_config": {"lot_size": 5.0}, "initial_balance": 3000},  # margin rejections
        {"logic_config": {"lot_size": 2.0}, "initial_balance": 2500},  # rejections at fill
        {"logic_config": {"min_confidence": 0.95}},
    ],
)
def test_rejections_and_margins(ticks, broker, kwargs):
    sc = make_scenario(end="2025-09-04T16:00:00+00:00", **kwargs)
    check_against_reference(ticks, sc, broker)


def test_not_tradeable_symbol_and_other_broker(ticks, broker):
    spec = broker.symbol("EURUSD")
    changed = ({"trade_allowed": False}, {"digits": 4, "tick_value": 0.8, "contract_size": 5e4})
    for changes in changed:
        other = dataclasses.replace(
            broker, symbols={**broker.symbols, "EURUSD": dataclasses.replace(spec, **changes)}
        )
        check_against_reference(ticks, make_scenario(), other)
    check_against_reference(ticks, make_scenario(), dataclasses.replace(broker, leverage=30.0))


def test_other_tick_inputs(ticks, broker):
    sc = make_scenario(max_ticks=2000)
    want = comparable(run_scenario(ticks, sc, broker))
    as_dict = {
        "timestamp": ticks.timestamp,
        "bid": ticks.bid,
        "ask": ticks.ask,
        "volume": ticks.volume,
    }
    as_tuple = (ticks.timestamp, ticks.bid, ticks.ask, ticks.volume)
    for t in (as_dict, as_tuple):
        assert_same(want, comparable(run_scenario(t, sc, broker)))
    with pytest.raises(ValueError, match="GBPUSD"):
        run_scenario(synthetic_ticks("GBPUSD", days=3), sc, broker)


# ---------------------------------------------------------------------------
# Batches, progress and errors
# ---------------------------------------------------------------------------


def batch_scenarios():
    return [
        make_scenario(name="a"),
        make_scenario(name="b", logic=CONSENSUS, start="2025-09-04T00:00", end="2025-09-04T12:00"),
        make_scenario(name="c", max_ticks=777, start="2025-09-09T12:00:00"),
        make_scenario(name="d", start="2025-09-10T06:00:00", end="2025-09-11T06:00:00",
                      extra={"m": ("CORE/macd", {"timeframe": "M15"})}),
    ]


@pytest.mark.parametrize("threads", [1, 3, None])
def test_batch_equals_single_runs(ticks, broker, threads):
    scenarios = batch_scenarios()
    progress = np.full(len(scenarios), -1, dtype=np.int64)
    results = run_scenarios(ticks, scenarios, broker=broker, threads=threads, progress=False,
                            progress_counts=progress)
    for sc, res, done in zip(scenarios, results, progress, strict=True):
        assert not isinstance(res, Exception), res
        assert_same(comparable(reference_run(ticks, sc, broker)), comparable(res))
        assert done == res.ticks_processed


@pytest.mark.parametrize("kwargs", [{}, {"logic_config": {"lot_size": 20.0}}],
                         ids=["trades", "rejected orders"])
def test_trades_and_orders_built_on_read_survive_pickle_and_replace(ticks, broker, kwargs):
    """fastpar's result keeps trades and orders as tables until read: a
    result pickled unread (as process pools and Dask send it) and one
    rebuilt with dataclasses.replace read the same lists as the reference."""
    scenario = make_scenario(end="2025-09-04T16:00:00+00:00", **kwargs)
    ref = reference_run(ticks, scenario, broker)
    assert len(ref.trades) > 10 or sum(o.status == "rejected" for o in ref.orders) > 10
    unread = run_scenario(ticks, scenario, broker)
    copied = pickle.loads(pickle.dumps(unread))
    replaced = dataclasses.replace(run_scenario(ticks, scenario, broker), scenario_name="x")
    for got in (copied, unread, replaced):
        assert_same(dataclasses.asdict(ref)["trades"], dataclasses.asdict(got)["trades"])
        assert_same(dataclasses.asdict(ref)["orders"], dataclasses.asdict(got)["orders"])
        assert got.trades is got.trades  # built once, then kept
    assert replaced.scenario_name == "x"
    assigned = run_scenario(ticks, scenario, broker)
    assigned.trades = []
    assert assigned.trades == [] and assigned.orders == unread.orders


def test_progress_is_readable_while_running(ticks, broker):
    heavy = ("CORE/heavy_rsi", {"period": 14, "timeframe": "M5", "artificial_load_ms": 0.05})
    scenarios = [make_scenario(rsi=heavy, max_ticks=6000, name=f"h{i}") for i in range(2)]
    progress = np.zeros(2, dtype=np.int64)
    seen = []
    stop = threading.Event()

    def poll():
        while not stop.is_set():
            seen.append(int(progress.sum()))
            stop.wait(0.005)

    th = threading.Thread(target=poll)
    th.start()
    try:
        results = run_scenarios(ticks, scenarios, broker=broker, threads=2, progress=False,
                                progress_counts=progress)
    finally:
        stop.set()
        th.join()
    assert all(not isinstance(r, Exception) for r in results)
    assert list(progress) == [6000, 6000]
    assert seen == sorted(seen)
    assert any(0 < s < 12000 for s in seen)


def test_errors_are_per_scenario(ticks, broker):
    ts = ticks.timestamp.copy()
    bid = ticks.bid.copy()
    ask = ticks.ask.copy()
    vol = ticks.volume.copy()
    # NaN inside scenario "nan"'s window (2025-09-10), unsorted timestamps
    # inside "unsorted"'s (2025-09-12); "ok" ends before both.
    i_nan = int(np.searchsorted(ts, np.datetime64("2025-09-10T10:00", "ns").astype(np.int64)))
    bid[i_nan] = np.nan
    i_bad = int(np.searchsorted(ts, np.datetime64("2025-09-12T10:00", "ns").astype(np.int64)))
    ts[i_bad], ts[i_bad + 1] = ts[i_bad + 1], ts[i_bad]
    raw = (ts, bid, ask, vol)
    scenarios = [
        make_scenario(name="ok", start="2025-09-03T07:00:00", end="2025-09-03T16:00:00"),
        make_scenario(name="nan", start="2025-09-10T09:00:00", end="2025-09-10T12:00:00"),
        make_scenario(name="unsorted", start="2025-09-12T09:00:00", end="2025-09-12T12:00:00"),
        make_scenario(name="empty", start="2025-09-06T09:00:00", end="2025-09-06T12:00:00"),
        make_scenario(name="bad_config", rsi=("CORE/rsi", {"period": 0, "timeframe": "M5"})),
        make_scenario(name="ok2", logic=CONSENSUS, start="2025-09-04", end="2025-09-04T12:00"),
    ]
    results = run_scenarios(raw, scenarios, broker=broker, threads=2, progress=False)
    ok, nan, unsorted, empty, bad, ok2 = results
    assert_same(comparable(reference_run(raw, scenarios[0], broker)), comparable(ok))
    assert_same(comparable(reference_run(raw, scenarios[5], broker)), comparable(ok2))
    assert isinstance(nan, ScenarioError) and "NaN" in str(nan) and "'nan'" in str(nan)
    assert isinstance(unsorted, ScenarioError) and "not sorted" in str(unsorted)
    assert isinstance(empty, ScenarioError) and "no ticks" in str(empty)
    assert isinstance(bad, ScenarioError) and "period" in str(bad)
    with pytest.raises(ScenarioError, match="NaN"):
        run_scenario(raw, scenarios[1], broker)
    with pytest.raises(ScenarioError, match="not sorted"):
        run_scenario(raw, scenarios[2], broker)
    with pytest.raises(ValueError, match="no ticks"):
        run_scenario(raw, scenarios[3], broker)


def test_glue_rejects_bad_arguments(ticks):
    t = (ticks.timestamp, ticks.bid, ticks.ask, ticks.volume)
    with pytest.raises(TypeError):
        _fastpar.run_scenario(*t, "not a tuple")
    with pytest.raises(TypeError):
        _fastpar.run_scenario(ticks.bid, ticks.bid, ticks.ask, ticks.volume, ())
    with pytest.raises(TypeError):
        _fastpar.run_scenarios(*t, [], None, np.zeros(3, dtype=np.int64))
    assert _fastpar.run_scenarios(*t, [], None, None) == []


# -- the public entry point: fastpar.run_scenarios ---------------------------


def test_top_level_run_scenarios_reads_files_and_shows_progress(tmp_path, ticks, broker, capsys):
    """Paths for the ticks and the scenario set give the same results as the
    loaded objects; progress=True draws a tqdm bar that reaches the total."""
    import fastpar
    import pandas as pd

    lo, hi = 0, 40_000
    frame = pd.DataFrame({
        "timestamp": pd.to_datetime(ticks.timestamp[lo:hi], utc=True),
        "bid": ticks.bid[lo:hi],
        "ask": ticks.ask[lo:hi],
        "volume": ticks.volume[lo:hi],
    })
    tick_file = tmp_path / "EURUSD_ticks.parquet"
    frame.to_parquet(tick_file)
    loaded = (ticks.timestamp[lo:hi], ticks.bid[lo:hi], ticks.ask[lo:hi], ticks.volume[lo:hi])
    scenarios = [make_scenario(name=f"s{i}", start="2025-09-02", end="2025-09-03T12:00",
                               max_ticks=5000 + 1000 * i) for i in range(3)]
    expected = run_scenarios(loaded, scenarios, threads=2, progress=False, broker=broker)
    got = fastpar.run_scenarios(str(tick_file), scenarios, threads=2, progress=True,
                                broker=broker)
    for e, g in zip(expected, got, strict=True):
        assert not isinstance(g, Exception), g
        assert_same(comparable(e), comparable(g))
    bar = capsys.readouterr().err
    from_frame = fastpar.run_scenarios(frame, scenarios, threads=2, progress=False, broker=broker)
    for e, g in zip(expected, from_frame, strict=True):
        assert_same(comparable(e), comparable(g))
    total = sum(r.ticks_processed for r in got)
    assert "scenarios" in bar and f"{total / 1000:.1f}k/{total / 1000:.1f}k" in bar

    sample = fastpar.run_scenarios(loaded, data_path("sample_scenarios.json"), progress=False,
                                   broker=broker)
    names = [s.name for s in ScenarioConfigLoader().load_config("sample_scenarios.json")]
    assert len(sample) == len(names)


def test_top_level_run_scenarios_bad_progress_counts(ticks, broker):
    import fastpar

    with pytest.raises(ValueError, match="progress_counts must be an int64 array of shape"):
        fastpar.run_scenarios(ticks, [make_scenario()], progress=False,
                              progress_counts=np.zeros(2, dtype=np.int64))


@pytest.mark.thread_unsafe
@pytest.mark.parametrize("threads", [None, 2])
def test_ctrl_c_stops_a_long_batch(sigint_raises, ticks, broker, threads):
    """SIGINT while every pool thread is deep inside a long scenario raises
    KeyboardInterrupt within a fraction of a second (the calling thread only
    waits, and the kernels see the cancel flag), and the next batch runs."""
    import os
    import signal
    import time

    import fastpar

    heavy = ("CORE/heavy_rsi", {"period": 14, "timeframe": "M5", "artificial_load_ms": 5.0})
    # About 4 s of load per scenario, far longer than the wait below.
    long_ones = [make_scenario(rsi=heavy, max_ticks=2_000, name=f"long{i}") for i in range(4)]

    def send():
        time.sleep(0.4)
        os.kill(os.getpid(), signal.SIGINT)

    sender = threading.Thread(target=send)
    sender.start()
    t0 = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        fastpar.run_scenarios(ticks, long_ones, threads=threads, progress=False, broker=broker)
    elapsed = time.perf_counter() - t0
    sender.join()
    assert elapsed < 1.4
    quick = [make_scenario(name="after", max_ticks=2000)]
    (after,) = fastpar.run_scenarios(ticks, quick, threads=threads, progress=False, broker=broker)
    assert after.ticks_processed == 2000
