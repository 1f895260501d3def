"""The pure-Python scenario (fastpar.reference.scenario) against independent
computations: pandas resampling for bars, fastpar.reference indicators for
worker values, CPython's random for fill delays, and the accounting
identities of the trade simulator."""

import collections
import copy
import dataclasses
import json
import math
import random

import numpy as np
import pytest
from fastpar.performance import ScenarioPerformanceStats
from fastpar.reference import envelope as reference_envelope
from fastpar.reference import macd as reference_macd
from fastpar.reference import rsi as reference_rsi
from fastpar.reference.scenario import (
    AggressiveTrend,
    BarSeries,
    OrderDelays,
    SimpleConsensus,
    TradeSimulator,
    run_scenario,
    select_window,
)
from fastpar.scenario_config import (
    BrokerConfig,
    ScenarioConfigLoader,
    SymbolSpec,
    TestScenario,
    data_path,
    load_broker_config,
)
from fastpar.ticks import NS_PER_MINUTE, TickArrays, synthetic_ticks, to_ns
from scenario_factory import make_scenario

# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def aggressive_run(ticks, broker):
    scenario = make_scenario(extra={"macd_h1": ("CORE/macd", {"timeframe": "M15"})})
    return scenario, run_scenario(ticks, scenario, broker, trace=True)


@pytest.fixture(scope="module")
def consensus_run(ticks, broker):
    scenario = make_scenario(
        logic="CORE/simple_consensus",
        rsi=("CORE/rsi", {"period": 9, "timeframe": "M1"}),
        env=("CORE/envelope", {"period": 20, "deviation": 2.0, "timeframe": "M5"}),
        start="2025-09-04T00:00:00Z",
        end="2025-09-05T21:00:00Z",
    )
    return scenario, run_scenario(ticks, scenario, broker, trace=True)


def resample_bars(ticks, timeframe_minutes):
    """OHLC/volume/count of the mid per timeframe, by pandas, empty bins dropped."""
    df = ticks.to_dataframe().set_index("timestamp")
    df["mid"] = (df["bid"] + df["ask"]) / 2.0
    rule = f"{timeframe_minutes}min"
    ohlc = df["mid"].resample(rule).ohlc()
    ohlc["volume"] = df["volume"].resample(rule).sum()
    ohlc["tick_count"] = df["mid"].resample(rule).count()
    ohlc = ohlc[ohlc["tick_count"] > 0]
    starts = (
        ohlc.index.tz_convert("UTC")
        .tz_localize(None)
        .to_numpy(dtype="datetime64[ns]")
        .astype(np.int64)
    )
    return starts, ohlc


def last_completed_bar(window_ts, bar_starts, minutes):
    """Index (into bar_starts) of the newest bar completed before each tick."""
    span = minutes * NS_PER_MINUTE
    current_start = window_ts - window_ts % span
    return np.searchsorted(bar_starts, current_start, side="left") - 1


# ---------------------------------------------------------------------------
# Bars
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "timeframe,minutes", [("M1", 1), ("M5", 5), ("M30", 30), ("H4", 240), ("D1", 1440)]
)
def test_bars_match_pandas_resample(ticks, timeframe, minutes):
    series = BarSeries(timeframe)
    series.completed = collections.deque()  # unbounded, to compare every bar
    mids = ((ticks.bid + ticks.ask) / 2.0).tolist()
    for ts, mid, vol in zip(ticks.timestamp.tolist(), mids, ticks.volume.tolist()):
        series.add_tick(ts, mid, vol)
    bars = list(series.completed) + [series.current]
    starts, ohlc = resample_bars(ticks, minutes)
    assert len(bars) == len(ohlc)
    np.testing.assert_array_equal([b.start_ns for b in bars], starts)
    for column in ("open", "high", "low", "close"):
        np.testing.assert_array_equal([getattr(b, column) for b in bars], ohlc[column].to_numpy())
    np.testing.assert_allclose([b.volume for b in bars], ohlc["volume"].to_numpy(), rtol=1e-12)
    np.testing.assert_array_equal([b.tick_count for b in bars], ohlc["tick_count"].to_numpy())


def test_bar_history_is_capped_at_1000():
    series = BarSeries("M1")
    for k in range(1500):
        series.add_tick(k * NS_PER_MINUTE, 1.0 + k * 1e-5, 1.0)
    assert len(series.completed) == 1000
    assert series.completed[-1].start_ns == 1498 * NS_PER_MINUTE
    assert series.completed[0].start_ns == 499 * NS_PER_MINUTE


# ---------------------------------------------------------------------------
# Workers, tick by tick, against fastpar.reference on pandas bars
# ---------------------------------------------------------------------------


def window_arrays(ticks, result):
    lo, hi = result.window
    return ticks.timestamp[lo:hi], (ticks.bid[lo:hi] + ticks.ask[lo:hi]) / 2.0


@pytest.mark.parametrize("run", ["aggressive_run", "consensus_run"])
def test_rsi_worker_matches_reference_rsi_simple(request, ticks, run):
    scenario, result = request.getfixturevalue(run)
    params = scenario.strategy_config["workers"]["rsi_fast"]
    minutes = {"M1": 1, "M5": 5, "M30": 30}[params["timeframe"]]
    starts, ohlc = resample_bars(ticks, minutes)
    expected_by_bar = reference_rsi(ohlc["close"].to_numpy(), params["period"], method="simple")
    window_ts, _ = window_arrays(ticks, result)
    k = last_completed_bar(window_ts, starts, minutes)
    expected = expected_by_bar[k]
    assert not np.isnan(expected).any(), "the warm-up should give a full RSI from the first tick"
    np.testing.assert_allclose(result.trace["rsi_fast"], expected, rtol=0, atol=1e-9)


@pytest.mark.parametrize("run", ["aggressive_run", "consensus_run"])
def test_envelope_worker_matches_reference_envelope(request, ticks, run):
    scenario, result = request.getfixturevalue(run)
    params = scenario.strategy_config["workers"]["envelope_main"]
    minutes = {"M5": 5, "M30": 30}[params["timeframe"]]
    starts, ohlc = resample_bars(ticks, minutes)
    upper, middle, lower = reference_envelope(
        ohlc["close"].to_numpy(), params["period"], params["deviation"]
    )
    window_ts, mid = window_arrays(ticks, result)
    k = last_completed_bar(window_ts, starts, minutes)
    for name, expected in (("upper", upper[k]), ("middle", middle[k]), ("lower", lower[k])):
        np.testing.assert_allclose(
            result.trace[f"envelope_main.{name}"], expected, rtol=1e-12, atol=0
        )
    width = upper[k] - lower[k]
    position = np.where(
        width == 0, 0.5, np.clip((mid - lower[k]) / np.where(width == 0, 1, width), 0, 1)
    )
    np.testing.assert_allclose(result.trace["envelope_main.position"], position, rtol=0, atol=1e-6)


def test_macd_worker_is_talib_macd_over_the_kept_history(ticks, aggressive_run):
    _, result = aggressive_run
    starts, ohlc = resample_bars(ticks, 15)
    closes = ohlc["close"].to_numpy()
    window_ts, _ = window_arrays(ticks, result)
    k = last_completed_bar(window_ts, starts, 15)
    # The kept history starts `warm-up` bars before the window and grows.
    first_kept = k[0] - result.warmup_bars["M15"] + 1
    for i in (0, len(k) // 2, len(k) - 1):
        line, signal, hist = reference_macd(closes[first_kept : k[i] + 1], 12, 26, 9)
        assert result.trace["macd_h1.macd"][i] == pytest.approx(line[-1], abs=1e-12)
        assert result.trace["macd_h1.signal"][i] == pytest.approx(signal[-1], abs=1e-12)
        assert result.trace["macd_h1.histogram"][i] == pytest.approx(hist[-1], abs=1e-12)


def test_warmup_gives_each_timeframe_its_largest_need(aggressive_run):
    _, result = aggressive_run
    # rsi(14) on M5 needs 15 bars; envelope(20) on M30 needs 20; macd(12, 26, 9) on M15 needs 34.
    assert result.scenario_requirement["warmup_by_timeframe"] == {"M5": 15, "M30": 20, "M15": 34}
    assert result.warmup_bars == {"M5": 15, "M30": 20, "M15": 34}


def test_no_history_before_the_window_means_no_warmup(ticks, broker):
    scenario = make_scenario(start="2025-09-01T00:00:00Z", end="2025-09-01T06:00:00Z")
    result = run_scenario(ticks, scenario, broker, trace=True)
    assert result.window[0] == 0
    assert result.warmup_bars == {"M5": 0, "M30": 0}
    # Not enough bars yet: the neutral values.
    assert result.trace["rsi_fast"][0] == 50.0
    assert result.trace["envelope_main.position"][0] == 0.5


def test_heavy_workers_compute_the_same_values(ticks, broker):
    window = {"start": "2025-09-09T12:00:00Z", "end": "2025-09-09T23:00:00Z", "max_ticks": 1500}
    plain = make_scenario(**window)
    heavy = make_scenario(
        rsi=("CORE/heavy_rsi", {"period": 14, "timeframe": "M5", "artificial_load_ms": 0.01}),
        env=(
            "CORE/heavy_envelope",
            {"period": 20, "deviation": 0.02, "timeframe": "M30", "artificial_load_ms": 0.01},
        ),
        **window,
    )
    a = run_scenario(ticks, plain, broker, trace=True)
    b = run_scenario(ticks, heavy, broker, trace=True)
    assert a.ticks_processed == b.ticks_processed == 1500
    for key in a.trace:
        np.testing.assert_array_equal(a.trace[key], b.trace[key])
    assert a.trades == b.trades
    assert b.worker_statistics["rsi_fast"]["artificial_load_ms"] == 0.01


# ---------------------------------------------------------------------------
# Decision logics
# ---------------------------------------------------------------------------

SIMPLE_DEFAULTS = {
    "rsi_oversold": 30.0,
    "rsi_overbought": 70.0,
    "envelope_lower_threshold": 0.3,
    "envelope_upper_threshold": 0.7,
    "min_confidence": 0.5,
}
AGGRESSIVE_DEFAULTS = {
    "rsi_buy_threshold": 35.0,
    "rsi_sell_threshold": 65.0,
    "envelope_extremes": 0.25,
    "min_confidence": 0.4,
}


def test_simple_consensus_rules():
    logic = SimpleConsensus(SIMPLE_DEFAULTS)
    buy = logic.decide(15.0, 0.0)
    assert buy.action == "BUY"
    assert buy.confidence == pytest.approx(0.5 + 0.5 * (0.5 + 1.0) / 2)
    assert logic.decide(30.0, 0.3).action == "BUY"  # thresholds are inclusive
    assert logic.decide(30.0, 0.31).action == "FLAT"  # both must agree
    sell = logic.decide(85.0, 1.0)
    assert sell.action == "SELL" and sell.confidence == pytest.approx(0.5 + 0.5 * (0.5 + 1.0) / 2)
    assert logic.decide(50.0, 0.5).action == "FLAT"
    assert (
        SimpleConsensus({**SIMPLE_DEFAULTS, "min_confidence": 0.9}).decide(29.0, 0.29).action
        == "FLAT"
    )


def test_aggressive_trend_rules():
    logic = AggressiveTrend(AGGRESSIVE_DEFAULTS)
    d = logic.decide(20.0, 0.5)  # rsi alone is enough
    assert d.action == "BUY" and d.confidence == pytest.approx(0.4 + 0.3 * 15 / 35)
    d = logic.decide(50.0, 0.0)  # envelope alone is enough
    assert d.action == "BUY" and d.confidence == pytest.approx(0.7)
    d = logic.decide(80.0, 1.0)
    assert d.action == "SELL" and d.confidence == pytest.approx(min(1.0, 0.4 + 0.3 * 15 / 35 + 0.3))
    assert logic.decide(35.0, 0.25).action == "FLAT"  # strict inequalities
    # A BUY under min_confidence falls through to the SELL test.
    strict = AggressiveTrend({**AGGRESSIVE_DEFAULTS, "min_confidence": 0.45})
    assert strict.decide(34.0, 0.9).action == "SELL"


# ---------------------------------------------------------------------------
# Trade simulator
# ---------------------------------------------------------------------------

# Pinned so the C kernel's MT19937 + randint can be checked against the same list.
CPYTHON_DELAYS = [5, 5, 3, 8, 6, 3, 3, 6, 7, 5, 5, 6, 6, 5, 7, 5, 4, 3, 6, 3]


def cpython_delays(n, api_seed=42, exec_seed=123):
    api, execution = random.Random(api_seed), random.Random(exec_seed)
    return [api.randint(1, 3) + execution.randint(2, 5) for _ in range(n)]


def test_order_delays_are_cpythons_random():
    delays = OrderDelays()
    assert [delays.next() for _ in range(20)] == CPYTHON_DELAYS == cpython_delays(20)


@pytest.mark.parametrize("run", ["aggressive_run", "consensus_run"])
def test_fill_delays_follow_cpythons_random(request, run):
    _, result = request.getfixturevalue(run)
    delays = result.fill_delays
    assert len(delays) >= 5
    assert delays == cpython_delays(len(delays))
    for order in result.orders:
        if order.status == "executed":
            assert order.filled_at_tick == order.placed_at_tick + order.delay


def test_seeds_can_be_overridden(ticks, broker):
    scenario = make_scenario(seeds={"api_latency_seed": 7, "market_execution_seed": 8})
    result = run_scenario(ticks, scenario, broker)
    assert result.fill_delays == cpython_delays(len(result.fill_delays), 7, 8)


@pytest.mark.parametrize("run", ["aggressive_run", "consensus_run"])
def test_accounting_identities(request, ticks, broker, run):
    _, result = request.getfixturevalue(run)
    spec = broker.symbol("EURUSD")
    lo = result.window[0]
    ps, es, cb = result.portfolio_stats, result.execution_stats, result.cost_breakdown
    assert ps.total_trades == len(result.trades) > 0
    assert ps.total_trades == ps.winning_trades + ps.losing_trades
    assert result.portfolio_value == pytest.approx(
        result.initial_balance + math.fsum(t.pnl for t in result.trades), abs=1e-9
    )
    assert ps.total_profit == pytest.approx(math.fsum(t.pnl for t in result.trades if t.pnl > 0))
    assert ps.total_loss == pytest.approx(-math.fsum(t.pnl for t in result.trades if t.pnl <= 0))
    assert ps.win_rate == pytest.approx(ps.winning_trades / ps.total_trades)
    pending_at_end = sum(o.status == "pending" for o in result.orders)
    assert (
        es.orders_sent
        == len(result.orders)
        == es.orders_executed + es.orders_rejected + pending_at_end
    )
    assert (
        result.signals_generated
        == result.signals_gen_buy + result.signals_gen_sell
        == es.orders_sent - es.orders_rejected
    )

    # Spread cost of every fill, from the tick arrays: (ask - bid) * 10**digits * tick_value * lots.
    spreads = []
    for o in result.orders:
        if o.status != "executed":
            continue
        k = lo + o.filled_at_tick - 1
        bid, ask = float(ticks.bid[k]), float(ticks.ask[k])
        assert o.fill_price == (ask if o.direction == "BUY" else bid)
        assert o.spread_cost == (ask - bid) * 10**spec.digits * spec.tick_value * o.lots
        spreads.append(o.spread_cost)
    assert es.total_spread_cost == pytest.approx(math.fsum(spreads))
    assert cb.total_spread_cost == ps.total_spread_cost == pytest.approx(es.total_spread_cost)
    assert cb.total_fees == pytest.approx(
        cb.total_spread_cost + cb.total_commission + cb.total_swap
    )

    # Every trade's P&L from its prices; exits at bid (BUY) / ask (SELL) of the exit tick.
    previous_exit = 0
    for t in result.trades:
        k = lo + t.exit_tick - 1
        assert t.exit_price == (
            float(ticks.bid[k]) if t.direction == "BUY" else float(ticks.ask[k])
        )
        diff = (
            t.exit_price - t.entry_price if t.direction == "BUY" else t.entry_price - t.exit_price
        )
        assert t.pnl == pytest.approx(
            diff * 10**spec.digits * spec.tick_value * t.lots - t.spread_cost, abs=1e-9
        )
        # At most one position at a time.
        assert t.entry_tick >= previous_exit
        previous_exit = t.exit_tick
    assert all(t.reason == "reversal" for t in result.trades[:-1])
    assert result.trades[-1].reason in ("reversal", "end_of_scenario")

    # Max equity / drawdown, replayed over the closes.
    equity, max_equity, max_dd = result.initial_balance, result.initial_balance, 0.0
    for t in result.trades:
        equity += t.pnl
        max_equity = max(max_equity, equity)
        max_dd = max(max_dd, max_equity - equity)
    assert ps.max_equity == pytest.approx(max_equity)
    assert ps.max_drawdown == pytest.approx(max_dd)


def test_one_order_by_hand():
    spec = SymbolSpec("EURUSD", digits=5, tick_value=0.8, contract_size=100_000)
    sim = TradeSimulator(spec, leverage=500, initial_balance=10_000)
    sim.on_tick(1.10000, 1.10002)  # tick 1
    order = sim.send_market_order("BUY", 0.1)
    assert order.status == "pending" and order.delay == CPYTHON_DELAYS[0] == 5
    for _ in range(4):  # ticks 2..5: not yet
        sim.on_tick(1.10010, 1.10012)
        assert not sim.positions
    sim.on_tick(1.10020, 1.10023)  # tick 6 = 1 + 5: fills at this tick's ask
    (pos,) = sim.positions
    assert pos.entry_price == 1.10023 and pos.entry_tick == 6
    spread = (1.10023 - 1.10020) * 1e5 * 0.8 * 0.1
    assert pos.fees == spread
    assert pos.unrealized_pnl == (1.10020 - 1.10023) * 1e5 * 0.8 * 0.1 - spread
    assert sim.margin_used() == 0.1 * 100_000 * 1.10023 / 500
    assert sim.free_margin() == sim.equity() - sim.margin_used()
    sim.on_tick(1.10100, 1.10102)
    pnl = sim.close_position(pos, "test")
    assert pnl == (1.10100 - 1.10023) * 1e5 * 0.8 * 0.1 - spread
    assert sim.balance == 10_000 + pnl
    assert sim.winning_trades == 1 and sim.max_equity == sim.balance


def test_sell_is_valued_at_ask():
    spec = SymbolSpec("EURUSD", digits=5, tick_value=1.0)
    sim = TradeSimulator(spec, leverage=100, initial_balance=10_000)
    sim.on_tick(1.2, 1.2001)
    sim.send_market_order("SELL", 1.0)
    for _ in range(5):
        sim.on_tick(1.2, 1.2001)
    (pos,) = sim.positions
    assert pos.entry_price == 1.2  # SELL fills at bid
    sim.on_tick(1.1990, 1.1991)
    assert pos.unrealized_pnl == pytest.approx((1.2 - 1.1991) * 1e5 * 1.0 * 1.0 - pos.fees)


def test_rejections_draw_no_delay():
    spec = SymbolSpec("EURUSD", volume_min=0.01, volume_max=1.0, volume_step=0.01)
    sim = TradeSimulator(spec, leverage=100, initial_balance=1_000)
    sim.on_tick(1.1, 1.1001)
    assert sim.send_market_order("BUY", 0.015).status == "rejected"  # off the step
    assert sim.send_market_order("BUY", 2.0).status == "rejected"  # above volume_max
    assert sim.send_market_order("BUY", 1.0).status == "rejected"  # margin 1_100.1 > 1_000
    ok = sim.send_market_order("BUY", 0.01)  # margin 11.001
    assert ok.status == "pending" and ok.delay == CPYTHON_DELAYS[0]
    assert sim.execution.orders_rejected == 3 and sim.execution.orders_sent == 4


# ---------------------------------------------------------------------------
# Whole scenarios
# ---------------------------------------------------------------------------


def _comparable(result):
    d = dataclasses.asdict(dataclasses.replace(result, elapsed_time=0.0, trace=None))
    return d


def test_runs_are_deterministic(ticks, broker, aggressive_run):
    scenario, first = aggressive_run
    second = run_scenario(ticks, copy.deepcopy(scenario), broker, trace=True)
    assert _comparable(first) == _comparable(second)
    for key in first.trace:
        np.testing.assert_array_equal(first.trace[key], second.trace[key])


def test_window_selection(ticks):
    ts = ticks.timestamp
    lo, hi = select_window(ts, "2025-09-03T07:00:00Z", "2025-09-03T16:00:00Z")
    assert ts[lo] >= to_ns("2025-09-03T07:00:00Z") > ts[lo - 1]
    assert ts[hi - 1] <= to_ns("2025-09-03T16:00:00Z") < ts[hi]
    # Naive ISO strings are UTC; offsets are honoured.
    assert select_window(ts, "2025-09-03T07:00:00", "2025-09-03T16:00:00") == (lo, hi)
    assert select_window(ts, "2025-09-03T09:00:00+02:00", "2025-09-03T18:00:00+02:00") == (lo, hi)
    assert select_window(ts, "2025-09-03T07:00:00Z", "2025-09-01T00:00:00Z", max_ticks=100) == (
        lo,
        lo + 100,
    )
    with pytest.raises(ValueError, match="max_ticks"):
        select_window(ts, "2025-09-14T00:00:00Z", "2025-09-15T00:00:00Z", max_ticks=10**6)
    with pytest.raises(ValueError, match="no ticks"):
        select_window(ts, "2025-09-06T06:00:00Z", "2025-09-06T07:00:00Z")  # Saturday
    with pytest.raises(ValueError, match="before"):
        select_window(ts, "2025-09-03T07:00:00Z", "2025-09-02T07:00:00Z")


def test_progress_and_performance_stats(ticks, broker):
    calls = []
    scenario = make_scenario(max_ticks=1200)
    result = run_scenario(
        ticks,
        scenario,
        broker,
        progress=lambda done, total, live: calls.append((done, total, live)),
    )
    assert [c[0] for c in calls] == [500, 1000, 1200] and all(c[1] == 1200 for c in calls)
    assert calls[-1][2]["portfolio_value"] == result.portfolio_value
    stats = result.to_performance_stats(3)
    assert isinstance(stats, ScenarioPerformanceStats)
    assert stats.scenario_index == 3 and stats.ticks_processed == 1200 and stats.success
    assert stats.decision_logic_name == "aggressive_trend"
    assert len(stats.sample_signals) == min(10, result.signals_generated)
    first = stats.sample_signals[0]
    assert (
        first["action"] in ("BUY", "SELL")
        and first["order_id"] == "ord_1"
        and first["lot_size"] == 0.1
    )


def test_inputs_are_not_modified_and_other_forms_are_accepted(ticks, broker):
    scenario = make_scenario(max_ticks=800)
    before = copy.deepcopy(scenario)
    as_dict = {
        "timestamp": ticks.timestamp,
        "bid": ticks.bid,
        "ask": ticks.ask,
        "volume": ticks.volume,
    }
    a = run_scenario(ticks, scenario, broker)
    broker_dict = json.loads(data_path("broker_config.json").read_text())
    b = run_scenario(as_dict, dataclasses.asdict(scenario), broker_dict)
    c = run_scenario(ticks, scenario, None)  # broker from the default path
    assert scenario == before
    assert _comparable(a) == _comparable(b) == _comparable(c)


def test_wrong_symbol_and_unknown_broker_symbol(ticks, broker):
    other = TickArrays("GBPUSD", ticks.timestamp, ticks.bid, ticks.ask, ticks.volume)
    with pytest.raises(ValueError, match="GBPUSD"):
        run_scenario(other, make_scenario(max_ticks=10), broker)
    lonely = BrokerConfig(leverage=100, symbols={"USDJPY": SymbolSpec("USDJPY", digits=3)})
    with pytest.raises(ValueError, match="EURUSD"):
        run_scenario(ticks, make_scenario(max_ticks=10), lonely)


def test_sample_scenario_set_runs(ticks, broker):
    scenarios = ScenarioConfigLoader().load_config("sample_scenarios.json")
    assert 4 <= len(scenarios) <= 6
    heavy = [
        s
        for s in scenarios
        if any("heavy" in t for t in s.strategy_config["worker_instances"].values())
    ]
    assert heavy
    for scenario in scenarios:
        if scenario.max_ticks is None and scenario is not scenarios[0]:
            continue  # keep the test quick: the first window and the tick-limited ones
        result = run_scenario(ticks, scenario, None)
        assert result.ticks_processed > 0 and result.portfolio_stats.total_trades > 0
