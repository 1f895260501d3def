"""One batch_orchestrator scenario in plain Python: the definition the C
scenario kernel is tested against, tick for tick.

``run_scenario(ticks, scenario, broker)`` replays one symbol's ticks through
bars, workers, a decision logic and a trade simulator, and returns a
:class:`ScenarioResult`. It is deterministic: the same inputs give the same
result, field for field (``elapsed_time`` aside).

The rules, in the order a tick is processed
============================================

0. Window. Ticks with ``start_date <= timestamp <= end_date`` (ISO strings,
   naive ones read as UTC); with ``max_ticks`` the first ``max_ticks`` ticks
   from ``start_date`` instead (fewer is an error). An empty window is an
   error. Ticks are numbered 1, 2, ... inside the window ("tick number").

1. Trade simulator, first thing on every tick: a pending order whose fill
   tick number has been reached fills at this tick's prices; then every open
   position is marked to this tick's prices.

2. Bars. For each timeframe some worker uses, the mid ``(bid + ask) / 2`` is
   aggregated into OHLC bars: a bar starts at the tick's UTC time floored to
   the timeframe (``ts - ts % span``, span = minutes * 60e9 ns; D1 bars start
   at 00:00 UTC, H4 at 00/04/08/.. UTC). The first tick of a bar sets
   open/high/low/close, later ticks update high/low/close; volume is the
   sum of tick volumes, tick_count the number of ticks. A bar completes when
   a tick falls into a later bar start (so a bar completes on the first
   tick of the next bar, never by the clock). At most 1000 completed bars
   are kept per timeframe (the oldest is dropped).

   Warm-up: before the window, the ticks that precede it are replayed into
   the bars, so the bars are exactly those of the whole tick stream (the bar
   open at the window start continues, it is not restarted). Per timeframe
   the history then holds the last W completed bars before the window (fewer
   if the data has fewer), W = min(1000, largest need of that timeframe's
   workers): rsi period + 1, envelope period, macd slow + signal - 1 - so
   every worker has a full value from the first tick of the window.

3. Workers, evaluated on every tick from the completed bars (never the
   open bar), all sums taken left to right in float64 (no pairwise or
   compensated summation; a C loop does the same):

   - rsi (period): fewer than period + 1 bars -> value 50.0, confidence 0.
     Else over the last period + 1 closes: gain_sum / loss_sum of the
     positive / negative deltas, avg = sum / period, value = 100.0 if
     avg_loss == 0 else 100 - 100 / (1 + avg_gain / avg_loss).
   - envelope (period, deviation): fewer than period bars -> bands 0.0,
     position 0.5, confidence 0. Else middle = sum / period of the last
     period closes, std = sqrt(sum((c - middle) * (c - middle)) / period),
     upper/lower = middle +/- std * deviation, and with this tick's mid
     position = 0.5 if upper == lower else clamp((mid - lower) / (upper -
     lower), 0, 1).
   - both: confidence = min(1, bars / (2 * period)), bars = len(history).
   - macd (fast, slow, signal): TA-Lib's MACD (``fastpar.reference.macd``)
     over all kept closes, last value of each line; fewer than
     slow + signal - 1 bars -> zeros, confidence 0, else confidence 1.
     No decision logic reads it.
   - CORE/heavy_*: the same value as the plain worker, plus
     ``artificial_load_ms`` of busy CPU work on every tick. Here the load is
     a spin on ``time.perf_counter`` that touches nothing the results
     depend on; the C kernel burns the same time natively with the GIL
     released.

4. Decision logic, reading worker "rsi_fast" (an rsi worker) and
   "envelope_main" (an envelope worker):

   - CORE/simple_consensus: BUY if rsi <= rsi_oversold (30) and position
     <= envelope_lower_threshold (0.3), with confidence
     max(0.5, min(1, 0.5 + 0.5 * (rs + es) / 2)), rs = max(0, (30 - rsi) /
     30), es = max(0, (0.3 - position) / 0.3) (thresholds from the config,
     divisors fixed at 30 and 0.3); taken if confidence >= min_confidence
     (0.5). Otherwise SELL, mirrored (rsi >= 70, position >= 0.7,
     rs = max(0, (rsi - 70) / 30), es = max(0, (position - 0.7) / 0.3)).
     Otherwise FLAT.
   - CORE/aggressive_trend: BUY if rsi < rsi_buy_threshold (35) or
     position < envelope_extremes (0.25); confidence = 0.4, plus
     0.3 * (35 - rsi) / 35 if the rsi triggered, plus 0.3 * (0.25 -
     position) / 0.25 if the envelope did, capped at 1; taken if >=
     min_confidence (0.4). Otherwise SELL if rsi > 65 or position > 0.75,
     strengths (rsi - 65) / (100 - 65) and (position - 0.75) / 0.25.
     Otherwise FLAT.

5. Execution of a BUY or SELL (FLAT is never executed):

   - while an order is pending, every signal is skipped (at most one
     order in flight, hence at most one open position);
   - a signal in the open position's direction is skipped;
   - an opposite signal closes the position at once, at this tick's price,
     then goes on to open the new one;
   - if free margin < min_free_margin (1000) no order is sent;
   - the order (lot_size, 0.1) is sent: it is rejected (counted, no delay
     drawn) if the lot size breaks volume_min/max/step, the symbol is not
     tradeable, or the required margin exceeds the free margin; otherwise
     it becomes pending and counts as a generated signal. Its fill delay is
     ``api.randint(1, 3) + execution.randint(2, 5)`` with
     ``api = random.Random(42)``, ``execution = random.Random(123)``
     created once per scenario (seeds overridable with
     trade_simulator_config.seeds.api_latency_seed / market_execution_seed)
     and drawn once per pending order; it fills on tick number
     ``placed + delay``.

6. Trade simulator rules (all amounts in account currency, evaluated in
   this order):

   - fill: BUY at ask, SELL at bid. margin = lots * contract_size * price /
     leverage; a fill whose margin exceeds the free margin is rejected
     (counted, no spread cost). spread cost = (ask - bid) * 10**digits *
     tick_value * lots, charged as the position's fee.
   - mark: BUY valued at bid, SELL at ask; points = (price - entry) *
     10**digits for BUY, (entry - price) * 10**digits for SELL;
     unrealized = points * tick_value * lots - fees. (The spread is thus
     felt twice, through the bid/ask valuation and through the fee, as the
     batch_orchestrator API computes it.)
   - equity = balance + sum of unrealized; margin used = sum over open
     positions of lots * contract_size * entry / leverage; free margin =
     equity - margin used.
   - close: the position's unrealized P&L as marked on this tick is
     realized into the balance; pnl > 0 counts a win (total_profit += pnl),
     else a loss (total_loss += -pnl); then max_equity = max(max_equity,
     equity) and max_drawdown = max(max_drawdown, max_equity - equity),
     max_equity starting at the initial balance.
   - end: open positions are closed at the last tick; an order still pending
     never fills (it stays counted in orders_sent only).

Directions are compared as the strings "BUY" / "SELL" everywhere (the
batch_orchestrator API's lowercase-direction bug, which valued every
position as a SELL, is not reproduced).
"""

from __future__ import annotations

import bisect
import math
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..performance import (
    CostBreakdown,
    ExecutionStats,
    PortfolioStats,
    ScenarioPerformanceStats,
)
from ..scenario_config import (
    TIMEFRAME_MINUTES,
    BrokerConfig,
    StrategySpec,
    SymbolSpec,
    WorkerSpec,
    load_broker_config,
    parse_strategy_config,
)
from ..ticks import NS_PER_MINUTE, TickArrays, frame_timestamps, iso_utc, to_ns
from .indicators import macd as reference_macd

__all__ = [
    "BAR_HISTORY_LIMIT",
    "Bar",
    "BarSeries",
    "ClosedTrade",
    "Decision",
    "OrderDelays",
    "OrderRecord",
    "ScenarioResult",
    "TradeSimulator",
    "run_scenario",
    "select_window",
    "warmup_bars_needed",
]

BAR_HISTORY_LIMIT = 1000
PROGRESS_EVERY = 500  # ticks between progress callbacks
SAMPLE_SIGNALS = 10


# ===========================================================================
# Bars
# ===========================================================================


@dataclass
class Bar:
    start_ns: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    tick_count: int


class BarSeries:
    """The bars of one timeframe: the open bar and up to 1000 completed ones."""

    def __init__(self, timeframe: str):
        self.timeframe = timeframe
        self.span_ns = TIMEFRAME_MINUTES[timeframe] * NS_PER_MINUTE
        self.completed: deque[Bar] = deque(maxlen=BAR_HISTORY_LIMIT)
        self.current: Bar | None = None
        # Bumped whenever a bar completes: workers cache their bar-only
        # results against it.
        self.version = 0

    def add_tick(self, ts: int, mid: float, volume: float) -> bool:
        """Add one tick; True if it completed the open bar."""
        start = ts - ts % self.span_ns
        bar = self.current
        if bar is not None and bar.start_ns == start:
            bar.high = max(bar.high, mid)
            bar.low = min(bar.low, mid)
            bar.close = mid
            bar.volume += volume
            bar.tick_count += 1
            return False
        completed = bar is not None
        if completed:
            self.completed.append(bar)
            self.version += 1
        self.current = Bar(start, mid, mid, mid, mid, volume, 1)
        return completed

    def keep_last(self, n: int) -> None:
        while len(self.completed) > n:
            self.completed.popleft()
        self.version += 1

    def closes(self, n: int | None = None) -> list[float]:
        """Closes of the last n completed bars (all if n is None), oldest first."""
        bars = self.completed
        if n is None or n >= len(bars):
            return [b.close for b in bars]
        return [bars[i].close for i in range(len(bars) - n, len(bars))]


def warmup_start_index(
    timestamps: np.ndarray, window_start: int, span_ns: int, bars_needed: int
) -> int:
    """First tick to replay so that ``bars_needed`` completed bars (or all
    the data has) precede the window, replay starting on a bar boundary."""
    if window_start == 0 or bars_needed <= 0:
        return window_start
    buckets = timestamps[:window_start] // span_ns
    group_starts = np.concatenate(([0], np.flatnonzero(np.diff(buckets)) + 1))
    # The last group is the bar still open at the window start if the first
    # window tick falls into the same bar; it is replayed but not complete.
    open_at_start = buckets[-1] == timestamps[window_start] // span_ns
    complete = len(group_starts) - (1 if open_at_start else 0)
    first = max(0, complete - bars_needed)
    return int(group_starts[first]) if first < len(group_starts) else window_start


# ===========================================================================
# Workers
# ===========================================================================


def _sum(values) -> float:
    """Left-to-right float64 sum (built-in sum() may compensate on 3.12+)."""
    total = 0.0
    for v in values:
        total += v
    return total


def artificial_load(ms: float) -> None:
    """Burn ``ms`` milliseconds of CPU; nothing computed here is kept."""
    if ms <= 0:
        return
    deadline = time.perf_counter() + ms / 1000.0
    x = 1
    while time.perf_counter() < deadline:
        for _ in range(32):
            x = (x * 1103515245 + 12345) & 0x7FFFFFFF


@dataclass
class WorkerResult:
    value: Any
    confidence: float


class Worker:
    """Base: caches the bar-only part of a result until a bar completes."""

    def __init__(self, spec: WorkerSpec):
        self.name = spec.name
        self.worker_type = spec.worker_type
        self.timeframe = spec.timeframe
        self.params = spec.params
        self.load_ms = spec.artificial_load_ms
        self.computations = 0
        self.bar_computations = 0
        self._cached_version = -1
        self._cached = None

    def bars_needed(self) -> int:
        raise NotImplementedError

    def from_bars(self, series: BarSeries):
        """The part of the result that depends on completed bars only."""
        raise NotImplementedError

    def finish(self, cached, series: BarSeries, mid: float) -> WorkerResult:
        return cached

    def compute(self, series: BarSeries, mid: float) -> WorkerResult:
        artificial_load(self.load_ms)
        if self._cached_version != series.version:
            self._cached = self.from_bars(series)
            self._cached_version = series.version
            self.bar_computations += 1
        self.computations += 1
        return self.finish(self._cached, series, mid)


class RsiWorker(Worker):
    def bars_needed(self):
        return self.params["period"] + 1

    def from_bars(self, series):
        period = self.params["period"]
        nbars = len(series.completed)
        if nbars < period + 1:
            return WorkerResult(50.0, 0.0)
        closes = series.closes(period + 1)
        gain_sum = 0.0
        loss_sum = 0.0
        for j in range(1, period + 1):
            delta = closes[j] - closes[j - 1]
            if delta > 0:
                gain_sum += delta
            elif delta < 0:
                loss_sum += -delta
        avg_gain = gain_sum / period
        avg_loss = loss_sum / period
        value = 100.0 if avg_loss == 0 else 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)
        return WorkerResult(value, min(1.0, nbars / (2 * period)))


@dataclass
class EnvelopeBands:
    upper: float
    middle: float
    lower: float
    confidence: float
    ready: bool


class EnvelopeWorker(Worker):
    def bars_needed(self):
        return self.params["period"]

    def from_bars(self, series):
        period = self.params["period"]
        nbars = len(series.completed)
        if nbars < period:
            return EnvelopeBands(0.0, 0.0, 0.0, 0.0, False)
        closes = series.closes(period)
        middle = _sum(closes) / period
        std = math.sqrt(_sum((c - middle) * (c - middle) for c in closes) / period)
        deviation = self.params["deviation"]
        return EnvelopeBands(
            middle + std * deviation,
            middle,
            middle - std * deviation,
            min(1.0, nbars / (2 * period)),
            True,
        )

    def finish(self, bands, series, mid):
        # The position is the only part that moves with the tick.
        if not bands.ready or bands.upper == bands.lower:
            position = 0.5
        else:
            position = min(1.0, max(0.0, (mid - bands.lower) / (bands.upper - bands.lower)))
        value = {
            "upper": bands.upper,
            "middle": bands.middle,
            "lower": bands.lower,
            "position": position,
        }
        return WorkerResult(value, bands.confidence)


class MacdWorker(Worker):
    def bars_needed(self):
        return self.params["slow"] + self.params["signal"] - 1

    def from_bars(self, series):
        p = self.params
        if len(series.completed) < self.bars_needed():
            return WorkerResult({"macd": 0.0, "signal": 0.0, "histogram": 0.0}, 0.0)
        line, signal, hist = reference_macd(
            np.array(series.closes()), p["fast"], p["slow"], p["signal"]
        )
        return WorkerResult(
            {"macd": float(line[-1]), "signal": float(signal[-1]), "histogram": float(hist[-1])},
            1.0,
        )


_WORKER_CLASSES = {"rsi": RsiWorker, "envelope": EnvelopeWorker, "macd": MacdWorker}


def make_worker(spec: WorkerSpec) -> Worker:
    return _WORKER_CLASSES[spec.indicator](spec)


def warmup_bars_needed(strategy: StrategySpec) -> dict[str, int]:
    """Completed bars per timeframe loaded before the window (capped at 1000)."""
    need: dict[str, int] = {}
    for spec in strategy.workers:
        n = make_worker(spec).bars_needed()
        need[spec.timeframe] = min(BAR_HISTORY_LIMIT, max(need.get(spec.timeframe, 0), n))
    return need


# ===========================================================================
# Decision logics
# ===========================================================================


@dataclass
class Decision:
    action: str  # "BUY", "SELL" or "FLAT"
    confidence: float
    reason: str


_FLAT = "FLAT"


class SimpleConsensus:
    """BUY/SELL only when rsi and envelope agree."""

    def __init__(self, params: dict):
        self.p = params

    def decide(self, rsi: float, position: float) -> Decision:
        p = self.p
        if rsi <= p["rsi_oversold"] and position <= p["envelope_lower_threshold"]:
            rsi_strength = max(0.0, (p["rsi_oversold"] - rsi) / 30.0)
            env_strength = max(0.0, (p["envelope_lower_threshold"] - position) / 0.3)
            confidence = max(0.5, min(1.0, 0.5 + (rsi_strength + env_strength) / 2.0 * 0.5))
            if confidence >= p["min_confidence"]:
                return Decision(
                    "BUY", confidence, f"RSI={rsi:.1f} (oversold) + Envelope={position:.2f} (lower)"
                )
        if rsi >= p["rsi_overbought"] and position >= p["envelope_upper_threshold"]:
            rsi_strength = max(0.0, (rsi - p["rsi_overbought"]) / 30.0)
            env_strength = max(0.0, (position - p["envelope_upper_threshold"]) / 0.3)
            confidence = max(0.5, min(1.0, 0.5 + (rsi_strength + env_strength) / 2.0 * 0.5))
            if confidence >= p["min_confidence"]:
                return Decision(
                    "SELL",
                    confidence,
                    f"RSI={rsi:.1f} (overbought) + Envelope={position:.2f} (upper)",
                )
        return Decision(_FLAT, 0.5, "No consensus signal")


class AggressiveTrend:
    """BUY/SELL when either rsi or envelope is extreme."""

    def __init__(self, params: dict):
        self.p = params

    @staticmethod
    def _reason(rsi, position, rsi_hit, env_hit):
        parts = ([f"RSI={rsi:.1f}"] if rsi_hit else []) + (
            [f"Envelope={position:.2f}"] if env_hit else []
        )
        return " OR ".join(parts) + " (aggressive)"

    def decide(self, rsi: float, position: float) -> Decision:
        p = self.p
        buy_threshold, sell_threshold, extremes = (
            p["rsi_buy_threshold"],
            p["rsi_sell_threshold"],
            p["envelope_extremes"],
        )

        rsi_hit, env_hit = rsi < buy_threshold, position < extremes
        if rsi_hit or env_hit:
            confidence = 0.4
            if rsi_hit:
                confidence += (buy_threshold - rsi) / buy_threshold * 0.3
            if env_hit:
                confidence += (extremes - position) / extremes * 0.3
            confidence = min(1.0, confidence)
            if confidence >= p["min_confidence"]:
                return Decision("BUY", confidence, self._reason(rsi, position, rsi_hit, env_hit))

        upper = 1.0 - extremes
        rsi_hit, env_hit = rsi > sell_threshold, position > upper
        if rsi_hit or env_hit:
            confidence = 0.4
            if rsi_hit:
                confidence += (rsi - sell_threshold) / (100 - sell_threshold) * 0.3
            if env_hit:
                confidence += (position - upper) / extremes * 0.3
            confidence = min(1.0, confidence)
            if confidence >= p["min_confidence"]:
                return Decision("SELL", confidence, self._reason(rsi, position, rsi_hit, env_hit))
        return Decision(_FLAT, 0.5, "No extreme indicator values")


_DECISION_LOGICS = {
    "CORE/simple_consensus": SimpleConsensus,
    "CORE/aggressive_trend": AggressiveTrend,
}


# ===========================================================================
# Trade simulator
# ===========================================================================


class OrderDelays:
    """Fill delays in ticks: api latency randint(1, 3) plus market execution
    randint(2, 5), from two CPython generators seeded once per scenario."""

    def __init__(self, api_latency_seed: int = 42, market_execution_seed: int = 123):
        self.api = random.Random(api_latency_seed)
        self.execution = random.Random(market_execution_seed)

    def next(self) -> int:
        return self.api.randint(1, 3) + self.execution.randint(2, 5)


@dataclass
class Position:
    position_id: str
    direction: str
    lots: float
    entry_price: float
    entry_tick: int  # tick number of the fill
    fees: float  # the spread cost charged at the fill
    unrealized_pnl: float = 0.0


@dataclass
class PendingOrder:
    order_id: str
    direction: str
    lots: float
    placed_at_tick: int
    fill_at_tick: int


@dataclass
class OrderRecord:
    """One order as sent: its fate and, if pending, its delay and fill."""

    order_id: str
    direction: str
    lots: float
    placed_at_tick: int
    status: str  # "pending" (never filled), "executed", "rejected"
    delay: int | None = None
    filled_at_tick: int | None = None
    fill_price: float | None = None
    spread_cost: float | None = None
    rejection: str | None = None


@dataclass
class ClosedTrade:
    position_id: str
    direction: str
    lots: float
    entry_price: float
    exit_price: float
    entry_tick: int
    exit_tick: int
    spread_cost: float
    pnl: float
    reason: str  # "reversal" or "end_of_scenario"


class TradeSimulator:
    """One scenario's broker: market orders with seeded fill delays, one
    symbol's positions, balance and statistics."""

    def __init__(
        self, spec: SymbolSpec, leverage: float, initial_balance: float, seeds: dict | None = None
    ):
        seeds = seeds or {}
        self.spec = spec
        self.leverage = float(leverage)
        self.point_scale = float(10**spec.digits)
        self.initial_balance = float(initial_balance)
        self.balance = float(initial_balance)
        self.delays = OrderDelays(
            seeds.get("api_latency_seed", 42), seeds.get("market_execution_seed", 123)
        )

        self.tick_number = 0
        self.bid = math.nan
        self.ask = math.nan
        self.pending: list[PendingOrder] = []
        self.positions: list[Position] = []
        self.orders: list[OrderRecord] = []
        self._order_by_id: dict[str, OrderRecord] = {}
        self.trades: list[ClosedTrade] = []
        self._order_counter = 0
        self._position_counter = 0

        self.execution = ExecutionStats()
        self.costs = CostBreakdown()
        self.total_trades = 0
        self.winning_trades = 0
        self.losing_trades = 0
        self.total_profit = 0.0
        self.total_loss = 0.0
        self.max_equity = self.initial_balance
        self.max_drawdown = 0.0

    # -- account ------------------------------------------------------------

    def margin_for(self, lots: float, price: float) -> float:
        return lots * self.spec.contract_size * price / self.leverage

    def equity(self) -> float:
        return self.balance + _sum(p.unrealized_pnl for p in self.positions)

    def margin_used(self) -> float:
        return _sum(self.margin_for(p.lots, p.entry_price) for p in self.positions)

    def free_margin(self) -> float:
        return self.equity() - self.margin_used()

    # -- per tick -----------------------------------------------------------

    def on_tick(self, bid: float, ask: float) -> None:
        """Step 1 of every tick: fill due orders, then mark to market."""
        self.tick_number += 1
        self.bid, self.ask = bid, ask
        due = [o for o in self.pending if o.fill_at_tick <= self.tick_number]
        for order in due:
            self.pending.remove(order)
            self._fill(order)
        for position in self.positions:
            self._mark(position)

    def _mark(self, position: Position) -> None:
        if position.direction == "BUY":
            points = (self.bid - position.entry_price) * self.point_scale
        else:
            points = (position.entry_price - self.ask) * self.point_scale
        position.unrealized_pnl = points * self.spec.tick_value * position.lots - position.fees

    def _fill(self, order: PendingOrder) -> None:
        record = self._order_by_id[order.order_id]
        price = self.ask if order.direction == "BUY" else self.bid
        margin = self.margin_for(order.lots, price)
        free = self.free_margin()
        if margin > free:
            self.execution.orders_rejected += 1
            record.status = "rejected"
            record.rejection = f"insufficient margin at fill: need {margin:.2f}, free {free:.2f}"
            return
        spread_cost = (self.ask - self.bid) * self.point_scale * self.spec.tick_value * order.lots
        self._position_counter += 1
        self.positions.append(
            Position(
                f"pos_{self._position_counter}",
                order.direction,
                order.lots,
                price,
                self.tick_number,
                spread_cost,
            )
        )
        self.execution.orders_executed += 1
        self.execution.total_spread_cost += spread_cost
        self.costs.total_spread_cost += spread_cost
        self.costs.total_fees += spread_cost
        record.status = "executed"
        record.filled_at_tick = self.tick_number
        record.fill_price = price
        record.spread_cost = spread_cost

    # -- orders and closes --------------------------------------------------

    def send_market_order(self, direction: str, lots: float) -> OrderRecord:
        """Validate and queue a market order; the record tells its status."""
        self._order_counter += 1
        record = OrderRecord(
            f"ord_{self._order_counter}", direction, lots, self.tick_number, "pending"
        )
        self.orders.append(record)
        self._order_by_id[record.order_id] = record
        self.execution.orders_sent += 1

        price = self.ask if direction == "BUY" else self.bid
        problem = self.spec.check_lots(lots)
        if problem is None and not self.spec.trade_allowed:
            problem = f"symbol {self.spec.symbol} not tradeable"
        if problem is None and self.margin_for(lots, price) > self.free_margin():
            problem = f"insufficient margin: need {self.margin_for(lots, price):.2f}"
        if problem is not None:
            self.execution.orders_rejected += 1
            record.status = "rejected"
            record.rejection = problem
            return record

        delay = self.delays.next()
        record.delay = delay
        self.pending.append(
            PendingOrder(
                record.order_id, direction, lots, self.tick_number, self.tick_number + delay
            )
        )
        return record

    def close_position(self, position: Position, reason: str) -> float:
        """Realize the position's P&L as marked on this tick."""
        pnl = position.unrealized_pnl
        self.positions.remove(position)
        self.balance += pnl
        exit_price = self.bid if position.direction == "BUY" else self.ask
        self.trades.append(
            ClosedTrade(
                position.position_id,
                position.direction,
                position.lots,
                position.entry_price,
                exit_price,
                position.entry_tick,
                self.tick_number,
                position.fees,
                pnl,
                reason,
            )
        )
        self.total_trades += 1
        if pnl > 0:
            self.winning_trades += 1
            self.total_profit += pnl
        else:
            self.losing_trades += 1
            self.total_loss += -pnl
        equity = self.equity()
        self.max_equity = max(self.max_equity, equity)
        self.max_drawdown = max(self.max_drawdown, self.max_equity - equity)
        return pnl

    def close_all(self, reason: str) -> None:
        for position in list(self.positions):
            self.close_position(position, reason)

    # -- results ------------------------------------------------------------

    def portfolio_stats(self) -> PortfolioStats:
        n = self.total_trades
        if self.total_loss > 0:
            profit_factor = self.total_profit / self.total_loss
        else:
            profit_factor = 0.0 if self.total_profit == 0 else math.inf
        return PortfolioStats(
            total_trades=n,
            winning_trades=self.winning_trades,
            losing_trades=self.losing_trades,
            total_profit=self.total_profit,
            total_loss=self.total_loss,
            max_drawdown=self.max_drawdown,
            max_equity=self.max_equity,
            win_rate=self.winning_trades / n if n else 0.0,
            profit_factor=profit_factor,
            total_spread_cost=self.costs.total_spread_cost,
            total_commission=self.costs.total_commission,
            total_swap=self.costs.total_swap,
            total_fees=self.costs.total_fees,
        )


# ===========================================================================
# The scenario
# ===========================================================================


@dataclass
class ScenarioResult:
    """Everything one scenario produced. ``to_performance_stats`` gives the
    batch_orchestrator API's ScenarioPerformanceStats."""

    scenario_name: str
    symbol: str
    window: tuple[int, int]  # [first, last + 1) indices into the tick arrays
    ticks_processed: int
    signals_generated: int
    signals_gen_buy: int
    signals_gen_sell: int
    signal_rate: float
    portfolio_value: float  # final balance
    initial_balance: float
    decision_logic_name: str
    decision_logic_type: str
    decision_counts: dict[str, int]
    sample_signals: list[dict]
    portfolio_stats: PortfolioStats
    execution_stats: ExecutionStats
    cost_breakdown: CostBreakdown
    worker_statistics: dict[str, Any]
    scenario_requirement: dict[str, Any]
    warmup_bars: dict[str, int]  # completed bars per timeframe the workers see on the first tick
    trades: list[ClosedTrade]
    orders: list[OrderRecord]
    elapsed_time: float = 0.0
    trace: dict[str, np.ndarray] | None = field(default=None, repr=False)

    @property
    def fill_delays(self) -> list[int]:
        return [o.delay for o in self.orders if o.delay is not None]

    def to_performance_stats(
        self, scenario_index: int, elapsed_time: float | None = None
    ) -> ScenarioPerformanceStats:
        return ScenarioPerformanceStats(
            scenario_index=scenario_index,
            scenario_name=self.scenario_name,
            symbol=self.symbol,
            ticks_processed=self.ticks_processed,
            signals_generated=self.signals_generated,
            signals_gen_buy=self.signals_gen_buy,
            signals_gen_sell=self.signals_gen_sell,
            signal_rate=self.signal_rate,
            success=True,
            portfolio_value=self.portfolio_value,
            initial_balance=self.initial_balance,
            elapsed_time=self.elapsed_time if elapsed_time is None else elapsed_time,
            worker_statistics=self.worker_statistics,
            decision_logic_name=self.decision_logic_name,
            scenario_requirement=self.scenario_requirement,
            sample_signals=list(self.sample_signals),
            portfolio_stats=self.portfolio_stats,
            execution_stats=self.execution_stats,
            cost_breakdown=self.cost_breakdown,
        )


def _get(scenario, key, default=None):
    if isinstance(scenario, dict):
        return scenario.get(key, default)
    return getattr(scenario, key, default)


def _tick_columns(ticks):
    """(symbol or None, timestamp, bid, ask, volume) of the accepted inputs:
    TickArrays, a dict or DataFrame of columns, or a 4-tuple of arrays."""
    if isinstance(ticks, TickArrays):
        return ticks.symbol, ticks.timestamp, ticks.bid, ticks.ask, ticks.volume
    if isinstance(ticks, dict):
        vol = ticks.get("volume")
        return (
            ticks.get("symbol"),
            ticks["timestamp"],
            ticks["bid"],
            ticks["ask"],
            (np.zeros(len(ticks["bid"])) if vol is None else vol),
        )
    columns = getattr(ticks, "columns", None)
    if columns is not None:  # a pandas DataFrame
        missing = [k for k in ("bid", "ask") if k not in columns]
        if missing:
            raise ValueError(f"tick data: missing column(s) {missing}; found {list(columns)}")
        vol = ticks["volume"].to_numpy() if "volume" in columns else np.zeros(len(ticks))
        return None, frame_timestamps(ticks), ticks["bid"].to_numpy(), ticks["ask"].to_numpy(), vol
    timestamp, bid, ask, volume = ticks
    return None, timestamp, bid, ask, volume


def select_window(timestamps: np.ndarray, start_date, end_date, max_ticks=None) -> tuple[int, int]:
    """[lo, hi) indices of the scenario's ticks (rule 0 of the module doc)."""
    start_ns = to_ns(start_date)
    # bisect, not np.searchsorted: the same binary search, but it keeps the
    # GIL, which searchsorted lets go of and then has to wait for again
    # while other threads run Python.
    lo = bisect.bisect_left(timestamps, start_ns)
    if max_ticks:
        hi = lo + int(max_ticks)
        if hi > len(timestamps):
            raise ValueError(
                f"only {len(timestamps) - lo} ticks from {start_date}, max_ticks asks for {max_ticks}"
            )
    else:
        end_ns = to_ns(end_date)
        if end_ns < start_ns:
            raise ValueError(f"end_date {end_date} is before start_date {start_date}")
        hi = bisect.bisect_right(timestamps, end_ns)
    if hi <= lo:
        raise ValueError(f"no ticks between {start_date} and {end_date}")
    return lo, hi


def _broker_path(scenario):
    """The scenario's broker file as written (None: the shipped one)."""
    return (_get(scenario, "trade_simulator_config") or {}).get("broker_config_path")


def _resolve_broker(broker, scenario) -> BrokerConfig:
    if isinstance(broker, BrokerConfig):
        return broker
    if isinstance(broker, dict):
        return BrokerConfig.from_dict(broker)
    if broker is None:
        return load_broker_config(_broker_path(scenario))
    raise TypeError(f"broker must be a BrokerConfig, a dict or None, not {type(broker).__name__}")


def _signal_record(
    decision: Decision, mid: float, ts: int, tick_number: int, order: OrderRecord
) -> dict:
    return {
        "action": decision.action,
        "confidence": decision.confidence,
        "reason": decision.reason,
        "price": mid,
        "timestamp": iso_utc(ts),
        "tick": tick_number,
        "order_id": order.order_id,
        "lot_size": order.lots,
    }


class _Trace:
    """Per-tick values for comparing another implementation tick by tick."""

    def __init__(self, n: int, workers: list[Worker]):
        self.columns: dict[str, np.ndarray] = {}
        for w in workers:
            if isinstance(w, RsiWorker):
                self.columns[w.name] = np.empty(n)
            else:
                keys = (
                    ("upper", "middle", "lower", "position")
                    if isinstance(w, EnvelopeWorker)
                    else ("macd", "signal", "histogram")
                )
                for key in keys:
                    self.columns[f"{w.name}.{key}"] = np.empty(n)
        self.columns["decision"] = np.zeros(n, dtype=np.int8)
        self.columns["equity"] = np.empty(n)
        self.columns["balance"] = np.empty(n)

    def record(self, i, results: dict[str, WorkerResult], action: str, sim: TradeSimulator):
        for name, result in results.items():
            if isinstance(result.value, dict):
                for key, v in result.value.items():
                    self.columns[f"{name}.{key}"][i] = v
            else:
                self.columns[name][i] = result.value
        self.columns["decision"][i] = {"BUY": 1, "SELL": -1}.get(action, 0)
        self.columns["equity"][i] = sim.equity()
        self.columns["balance"][i] = sim.balance


def run_scenario(
    ticks,
    scenario,
    broker=None,
    progress: Callable[[int, int, dict], None] | None = None,
    *,
    trace: bool = False,
) -> ScenarioResult:
    """Run one scenario over ``ticks``.

    ticks: a :class:`~fastpar.ticks.TickArrays`, a dict with timestamp / bid /
        ask / volume arrays, or a (timestamp, bid, ask, volume) tuple; the
        symbol's whole history (ticks before the window feed the warm-up).
        Not modified.
    scenario: a :class:`~fastpar.scenario_config.TestScenario` or a dict
        with the same keys.
    broker: a BrokerConfig, an MT5-like broker dict, or None to load
        trade_simulator_config.broker_config_path (default: the shipped one).
    progress: called as ``progress(ticks_done, total_ticks, live)`` every
        500 ticks and at the end; ``live`` has total_trades,
        winning_trades, losing_trades and portfolio_value (equity).
    trace: keep per-tick worker values, decisions, equity and balance in
        ``result.trace``.
    """
    started = time.perf_counter()
    symbol = _get(scenario, "symbol")
    name = (
        _get(scenario, "name")
        or f"{symbol}_{_get(scenario, 'start_date')}_{_get(scenario, 'end_date')}"
    )
    tick_symbol, ts_arr, bid_arr, ask_arr, vol_arr = _tick_columns(ticks)
    if tick_symbol is not None and symbol is not None and tick_symbol != symbol:
        raise ValueError(f"scenario {name!r} is for {symbol}, the ticks are {tick_symbol}")

    strategy = parse_strategy_config(
        _get(scenario, "strategy_config") or {}, source=f"scenario {name!r}: strategy_config"
    )
    sim_config = _get(scenario, "trade_simulator_config") or {}
    broker_config = _resolve_broker(broker, scenario)
    sim = TradeSimulator(
        broker_config.symbol(symbol),
        broker_config.leverage,
        sim_config.get("initial_balance", 10000.0),
        sim_config.get("seeds"),
    )
    lo, hi = select_window(
        ts_arr,
        _get(scenario, "start_date"),
        _get(scenario, "end_date"),
        _get(scenario, "max_ticks"),
    )

    # --- bars and warm-up --------------------------------------------------
    workers = [make_worker(spec) for spec in strategy.workers]
    warmup_need = warmup_bars_needed(strategy)
    series = {tf: BarSeries(tf) for tf in sorted(warmup_need, key=TIMEFRAME_MINUTES.get)}
    for tf, bars in series.items():
        first = warmup_start_index(ts_arr, lo, bars.span_ns, warmup_need[tf])
        for k in range(first, lo):
            bars.add_tick(
                int(ts_arr[k]), (float(bid_arr[k]) + float(ask_arr[k])) / 2.0, float(vol_arr[k])
            )
        bars.keep_last(warmup_need[tf])
    warmup_bars: dict[str, int] = {}
    worker_series = [(w, series[w.timeframe]) for w in workers]
    series_list = list(series.values())

    logic = _DECISION_LOGICS[strategy.decision_logic.logic_type](strategy.decision_logic.params)
    lot_size = strategy.decision_logic.params["lot_size"]
    min_free_margin = strategy.decision_logic.params["min_free_margin"]

    # --- the tick loop -----------------------------------------------------
    n = hi - lo
    ts_list = ts_arr[lo:hi].tolist()
    bid_list = np.asarray(bid_arr[lo:hi], dtype=np.float64).tolist()
    ask_list = np.asarray(ask_arr[lo:hi], dtype=np.float64).tolist()
    vol_list = np.asarray(vol_arr[lo:hi], dtype=np.float64).tolist()
    tracer = _Trace(n, workers) if trace else None
    decision_counts = {"BUY": 0, "SELL": 0, "FLAT": 0}
    signals: list[dict] = []
    signals_buy = signals_sell = 0

    def live():
        return {
            "total_trades": sim.total_trades,
            "winning_trades": sim.winning_trades,
            "losing_trades": sim.losing_trades,
            "portfolio_value": sim.equity(),
        }

    for i in range(n):
        ts, bid, ask = ts_list[i], bid_list[i], ask_list[i]
        mid = (bid + ask) / 2.0

        sim.on_tick(bid, ask)  # 1. fills and marks
        for bars in series_list:  # 2. bars
            bars.add_tick(ts, mid, vol_list[i])
        if i == 0:
            # The last bar before the window completes on this tick when the
            # window starts on a bar boundary, so count after it.
            warmup_bars = {tf: len(s.completed) for tf, s in series.items()}
        results = {w.name: w.compute(s, mid) for w, s in worker_series}  # 3. workers
        # 4. decision
        rsi, position = results["rsi_fast"].value, results["envelope_main"].value["position"]
        decision = logic.decide(rsi, position)
        decision_counts[decision.action] += 1

        if decision.action != _FLAT:  # 5. execution
            order = _execute(decision, sim, lot_size, min_free_margin)
            if order is not None and order.status == "pending":
                if len(signals) < SAMPLE_SIGNALS:
                    signals.append(_signal_record(decision, mid, ts, sim.tick_number, order))
                if decision.action == "BUY":
                    signals_buy += 1
                else:
                    signals_sell += 1

        if tracer is not None:
            tracer.record(i, results, decision.action, sim)
        if progress is not None and (i + 1) % PROGRESS_EVERY == 0:
            progress(i + 1, n, live())

    sim.close_all("end_of_scenario")
    if progress is not None:
        progress(n, n, live())

    signals_generated = signals_buy + signals_sell
    worker_statistics = {
        w.name: {
            "worker_type": w.worker_type,
            "timeframe": w.timeframe,
            "computations": w.computations,
            "bar_computations": w.bar_computations,
            "artificial_load_ms": w.load_ms,
        }
        for w in workers
    }
    requirement = {
        "max_warmup_bars": max(warmup_need.values()),
        "all_timeframes": list(series),
        "warmup_by_timeframe": dict(warmup_need),
        "total_workers": len(workers),
    }
    return ScenarioResult(
        scenario_name=name,
        symbol=symbol,
        window=(lo, hi),
        ticks_processed=n,
        signals_generated=signals_generated,
        signals_gen_buy=signals_buy,
        signals_gen_sell=signals_sell,
        signal_rate=signals_generated / n,
        portfolio_value=sim.balance,
        initial_balance=sim.initial_balance,
        decision_logic_name=strategy.decision_logic.name,
        decision_logic_type=strategy.decision_logic.logic_type,
        decision_counts=decision_counts,
        sample_signals=signals,
        portfolio_stats=sim.portfolio_stats(),
        execution_stats=ExecutionStats(**vars(sim.execution)),
        cost_breakdown=CostBreakdown(**vars(sim.costs)),
        worker_statistics=worker_statistics,
        scenario_requirement=requirement,
        warmup_bars=warmup_bars,
        trades=sim.trades,
        orders=sim.orders,
        elapsed_time=time.perf_counter() - started,
        trace=tracer.columns if tracer is not None else None,
    )


def _execute(
    decision: Decision, sim: TradeSimulator, lots: float, min_free_margin: float
) -> OrderRecord | None:
    """Rule 5: turn a BUY/SELL decision into at most one close and one order."""
    if sim.pending:
        return None
    if sim.positions:
        position = sim.positions[0]
        if position.direction == decision.action:
            return None
        sim.close_position(position, "reversal")
    if sim.free_margin() < min_free_margin:
        return None
    return sim.send_market_order(decision.action, lots)
