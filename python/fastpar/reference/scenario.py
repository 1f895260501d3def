"""The scenario engine in plain Python: the definition the C engine
(``src/_fastpar/scenario.c``) is tested against, tick for tick.

:func:`run_kernel` replays one scenario window's ticks through bars,
workers, a decision logic and a trade simulator, starting from the warm-up
bars the data layer loaded, exactly as the batch_orchestrator API's tick
loop does. Its input is a :class:`fastpar.scenarios.KernelSpec` (what
``fastpar.scenarios`` builds from a scenario, its broker file and its
data) and its output a :class:`KernelResult`, the same numbers the C engine
returns. USER workers and decision logics, written in Python, run through
a hook that sees the engine as the C engine's hook does.

The rules, in the order a tick is processed
============================================

1. Prices (``update_prices``). The tick counter advances (ticks are
   numbered 1, 2, ... in the window). Pending orders whose fill tick has
   come fill, in the order they were sent: a BUY at this tick's ask, a SELL
   at its bid. The spread fee, ``abs((ask - bid) * 10**digits * tick_value
   * lots)``, counts in the execution statistics; then the margin the
   broker asks for, ``lots * contract_size * bid_of_the_broker_file /
   leverage`` (``bid`` and ``contract_size`` from the broker file's symbol
   entry, defaults 1.0 and 100,000), is compared with the free margin: more
   than it refuses the fill, else a position opens with the fee attached.
   Then every open position is marked: a BUY at the bid, a SELL at the ask,
   ``unrealized = (price difference * 10**digits) * tick_value * lots -
   fee``. A symbol missing from the broker file fails here, on the first
   tick.

2. Bars. For each timeframe a worker uses, the tick's mid ``(bid + ask) /
   2`` goes into the bar that starts at the tick's time floored to the
   timeframe; a tick in a later bar start completes the bar (it joins the
   history, which keeps the last 1,000). A new bar's first update sets open,
   high and low (the test is ``open == 0``); volume adds up.

   The history starts with the warm-up bars: the completed bars before the
   window's start, read from the data layer's bar files (float32 prices,
   synthetic bars in the gaps), as many as the timeframe's largest warm-up
   requirement asks. A bar open at the window's start is in the warm-up
   already, and is built again from the window's ticks.

3. Workers, every tick, from the history of their timeframe (only
   timeframes some worker asked warm-up for are in the history):

   - rsi (period p): fewer than p + 1 bars -> 50.0, confidence 0. Else over
     the last p + 1 closes, with NumPy's sums (:func:`numpy_sum`):
     avg_gain = sum(gains) / p, avg_loss = sum(losses) / p, value 100.0 if
     avg_loss == 0 else 100 - 100 / (1 + avg_gain / avg_loss).
   - envelope (period p, deviation): fewer than p bars -> no bands (the
     logics then read position 0.5). Else middle = np.mean of the last p
     closes, std = np.std (mean again, squared deviations, sum / p),
     upper/lower = middle +/- std * deviation, position = the mid's place
     between them, clamped to [0, 1], 0.5 if they are equal.
   - rsi and envelope: confidence = min(1, bars / (2 * p)).
   - CORE/heavy_macd: with at least ``slow`` bars, EMAs (alpha = 2 / (n +
     1), seeded with the first close) over every bar kept; macd = fast -
     slow, signal = 0.9 * macd. No CORE logic reads it.
   - CORE/heavy_*: the same values, plus ``artificial_load_ms`` of busy CPU
     work per tick. A heavy envelope with fewer bars than its period fails
     the scenario (the API's result for that case cannot be built).

4. USER parts: the hook runs (USER workers, and a USER decision logic,
   which decides and trades itself).

5. A CORE decision logic, from "rsi_fast" and "envelope_main":

   - CORE/simple_consensus: BUY if rsi <= rsi_oversold and position <=
     envelope_lower_threshold, confidence max(0.5, min(1, 0.5 + (rs + es)
     / 2 * 0.5)) with rs = max(0, (rsi_oversold - rsi) / 30), es = max(0,
     (envelope_lower_threshold - position) / 0.3), if >= min_confidence;
     else SELL, mirrored; else FLAT.
   - CORE/aggressive_trend: BUY if rsi < rsi_buy_threshold or position <
     envelope_extremes, confidence 0.4 + 0.3 * each triggered strength,
     capped at 1, if >= min_confidence; else SELL likewise (rsi >
     rsi_sell_threshold or position > 1 - envelope_extremes); else FLAT.

6. Execution of a BUY or SELL (never FLAT):

   - an order of the same direction pending: skipped (so a reversal may
     have two orders in flight, and two positions may be open);
   - the first open position (the oldest): same direction -> skipped,
     else closed at this tick's price (its mark of this tick);
   - free margin below min_free_margin: no order;
   - send_order: counted as sent; refused if the symbol is not tradeable,
     the lot size is below volume_min, above volume_max, or ``(lots -
     volume_min) % volume_step`` is off by more than 1e-8, or the free
     margin is below ``lots * 100000 * 0.01``; otherwise pending, its fill
     tick ``tick + api.randint(1, 3) + execution.randint(2, 5)``
     (``random.Random(42)`` and ``random.Random(123)``, created once per
     scenario), and the decision counts as a generated signal.

7. Account: equity = balance + the open positions' unrealized P&L (summed
   with ``sum()``), margin used = the sum of ``lots * 100000 * entry /
   leverage``, free margin = equity - margin used. Closing realizes the
   position's unrealized P&L into the balance; P&L > 0 is a win, else a
   loss; then max_equity and max_drawdown update with the equity. At the
   end open positions close at the last tick, in opening order; pending
   orders never fill.
"""

from __future__ import annotations

import math
import random
import sys
import time
from dataclasses import dataclass, field

import numpy as np

__all__ = ["KernelResult", "OrderRow", "TradeRow", "numpy_sum", "run_kernel", "run_scenario"]

BAR_HISTORY_LIMIT = 1000
NS_PER_MINUTE = 60_000_000_000

BUY, SELL, FLAT = 1, -1, 0
# Worker kinds and decision logics (scenario.h's enums).
RSI, ENVELOPE, MACD, USER = 0, 1, 2, 3
SIMPLE_CONSENSUS, AGGRESSIVE_TREND, USER_LOGIC = 0, 1, 2
# Order statuses and rejection reasons (scenario.h's enums).
PENDING, EXECUTED, REJECTED, FILL_REJECTED = 0, 1, 2, 3
(REJ_NONE, REJ_NOT_TRADEABLE, REJ_LOTS_MIN, REJ_LOTS_MAX, REJ_LOTS_STEP, REJ_MARGIN,
 REJ_MARGIN_FILL, REJ_ORDER_TYPE) = range(8)
CLOSE_DECISION, CLOSE_END = 0, 1
# Order kinds (scenario.h's enum fp_order_kind): only market orders fill.
ORDER_KINDS = ("market", "limit", "stop", "stop_limit", "trailing_stop", "iceberg")
MARKET_ORDER = 0


class ScenarioFailed(Exception):
    """The scenario stopped: ``status`` is the C engine's status for it."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


# ===========================================================================
# NumPy's sum and Python's sum()
# ===========================================================================


def numpy_sum(x) -> float:
    """np.add.reduce of a float64 array: pairwise, eight accumulators per
    block of up to 128 values."""
    n = len(x)
    if n < 8:
        total = 0.0
        for v in x:
            total += v
        return total
    if n <= 128:
        r = list(x[:8])
        i = 8
        while i < n - n % 8:
            for j in range(8):
                r[j] += x[i + j]
            i += 8
        total = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        for v in x[i:]:
            total += v
        return total
    half = n // 2
    half -= half % 8
    return numpy_sum(x[:half]) + numpy_sum(x[half:])


def python_sum(values, compensated: bool) -> float:
    """sum() of floats: left to right, or compensated as CPython >= 3.12's."""
    if not compensated:
        total = 0
        for v in values:
            total += v
        return total
    return sum(values) if sys.version_info >= (3, 12) else _neumaier(values)


def _neumaier(values) -> float:
    total, c = 0.0, 0.0
    for i, x in enumerate(values):
        if i == 0:
            total = 0 + x
            continue
        t = total + x
        c += (total - t) + x if abs(total) >= abs(x) else (x - t) + total
        total = t
    return total + c if c and c == c and abs(c) != float("inf") else total


# ===========================================================================
# Results
# ===========================================================================


@dataclass
class OrderRow:
    """One send_order call (scenario.h's fp_order)."""

    number: int
    pending_id: int
    direction: int
    status: int
    reject: int
    placed_tick: int
    fill_at_tick: int
    filled_tick: int
    position_id: int
    lots: float
    fill_price: float = 0.0
    spread_cost: float = 0.0
    reject_value: float = 0.0
    reject_value2: float = 0.0
    confidence: float = 0.0
    rsi: float = 0.0
    position: float = 0.0
    mid: float = 0.0
    rsi_hit: int = 0
    env_hit: int = 0


@dataclass
class TradeRow:
    """One closed position (scenario.h's fp_trade)."""

    position_id: int
    direction: int
    reason: int
    entry_tick: int
    exit_tick: int
    lots: float
    entry_price: float
    exit_price: float
    spread_cost: float
    pnl: float


@dataclass
class KernelResult:
    ticks_processed: int = 0
    signals_buy: int = 0
    signals_sell: int = 0
    decisions_buy: int = 0
    decisions_sell: int = 0
    decisions_flat: int = 0
    orders_sent: int = 0
    orders_executed: int = 0
    orders_rejected: int = 0
    total_trades: int = 0
    winning_trades: int = 0
    losing_trades: int = 0
    total_profit: float = 0.0
    total_loss: float = 0.0
    max_drawdown: float = 0.0
    max_equity: float = 0.0
    balance: float = 0.0
    portfolio_spread_cost: float = 0.0
    execution_spread_cost: float = 0.0
    orders: list[OrderRow] = field(default_factory=list)
    trades: list[TradeRow] = field(default_factory=list)


# ===========================================================================
# Bars and workers
# ===========================================================================


class Bars:
    """One timeframe: the history of completed bars and the bar being built.
    A bar is a list [start_ns, open, high, low, close, volume, tick_count]."""

    def __init__(self, minutes: int, warmup, in_history: bool):
        self.span = minutes * NS_PER_MINUTE
        rows = np.asarray(warmup).tolist() if in_history else []
        self.history = [list(b) for b in rows][-BAR_HISTORY_LIMIT:]
        self.current = None
        self.completed = 0
        self.version = 0

    def add(self, ts: int, mid: float, volume: float) -> None:
        start = ts - ts % self.span
        if self.current is None or self.current[0] != start:
            if self.current is not None:
                self.history.append(self.current)
                del self.history[:-BAR_HISTORY_LIMIT]
                self.completed += 1
                self.version += 1
            self.current = [start, 0.0, 0.0, 0.0, 0.0, 0.0, 0]
        bar = self.current
        if bar[1] == 0:
            bar[1] = bar[2] = bar[3] = mid
        else:
            bar[2] = max(bar[2], mid)
            bar[3] = min(bar[3], mid)
        bar[4] = mid
        bar[5] += volume
        bar[6] += 1


def artificial_load(ms: float) -> None:
    """Burn ``ms`` milliseconds of CPU; nothing computed here is kept."""
    if ms <= 0:
        return
    deadline = time.perf_counter() + ms / 1000.0
    x = 1
    while time.perf_counter() < deadline:
        for _ in range(32):
            x = (x * 1103515245 + 12345) & 0x7FFFFFFF


class Worker:
    """A CORE worker's result on the current tick."""

    def __init__(self, spec):
        (self.kind, self.timeframe, self.period, self.deviation, self.fast, self.slow,
         self.heavy, self.load_ms) = spec
        self.ready = False
        self.nbars = 0
        self.value = 50.0
        self.confidence = 0.0
        self.avg_gain = self.avg_loss = 0.0
        self.upper = self.middle = self.lower = self.std_dev = 0.0
        self.macd = (0.0, 0.0, 0.0)

    def from_bars(self, history: list) -> None:
        n = self.nbars = len(history)
        p = self.period
        closes = [b[4] for b in history]
        if self.kind == RSI:
            self.ready = n >= p + 1
            if not self.ready:
                self.value, self.confidence = 50.0, 0.0
                return
            deltas = [b - a for a, b in zip(closes[-(p + 1):-1], closes[-p:])]
            self.avg_gain = numpy_sum([d if d > 0 else 0.0 for d in deltas]) / p
            self.avg_loss = numpy_sum([-d if d < 0 else 0.0 for d in deltas]) / p
            if self.avg_loss == 0:
                self.value = 100.0
            else:
                self.value = 100.0 - 100.0 / (1.0 + self.avg_gain / self.avg_loss)
            self.confidence = min(1.0, n / (p * 2))
        elif self.kind == ENVELOPE:
            self.ready = n >= p
            if not self.ready:
                self.upper = self.middle = self.lower = self.confidence = 0.0
                if self.heavy:
                    raise ScenarioFailed(11, "heavy envelope worker: fewer bars than its period")
                return
            window = closes[-p:]
            mean = numpy_sum(window) / p
            self.std_dev = math.sqrt(numpy_sum([(c - mean) * (c - mean) for c in window]) / p)
            self.middle = mean
            self.upper = mean + self.std_dev * self.deviation
            self.lower = mean - self.std_dev * self.deviation
            self.confidence = min(1.0, n / (p * 2))
        elif self.kind == MACD:
            self.ready = n >= self.slow
            if not self.ready:
                self.macd, self.confidence = (0.0, 0.0, 0.0), 0.0
                return
            emas = []
            for period in (self.fast, self.slow):
                alpha = 2.0 / (period + 1)
                e = closes[0]
                for c in closes[1:]:
                    e = alpha * c + (1 - alpha) * e
                emas.append(e)
            line = emas[0] - emas[1]
            self.macd = (line, line * 0.9, line - line * 0.9)
            self.confidence = 1.0

    def position(self, mid: float) -> float:
        if not self.ready or self.upper == self.lower:
            return 0.5
        return max(0.0, min(1.0, (mid - self.lower) / (self.upper - self.lower)))


def decide(logic: int, th, min_confidence: float, rsi: float, pos: float):
    """(action, confidence, rsi_hit, env_hit) of a CORE decision logic."""
    if logic == SIMPLE_CONSENSUS:
        if rsi <= th[0] and pos <= th[2]:
            rs, es = max(0.0, (th[0] - rsi) / 30.0), max(0.0, (th[2] - pos) / 0.3)
            c = max(0.5, min(1.0, 0.5 + (rs + es) / 2.0 * 0.5))
            if c >= min_confidence:
                return BUY, c, 0, 0
        if rsi >= th[1] and pos >= th[3]:
            rs, es = max(0.0, (rsi - th[1]) / 30.0), max(0.0, (pos - th[3]) / 0.3)
            c = max(0.5, min(1.0, 0.5 + (rs + es) / 2.0 * 0.5))
            if c >= min_confidence:
                return SELL, c, 0, 0
        return FLAT, 0.5, 0, 0
    rsi_hit, env_hit = rsi < th[0], pos < th[2]
    if rsi_hit or env_hit:
        c = 0.4
        if rsi_hit:
            c += (th[0] - rsi) / th[0] * 0.3
        if env_hit:
            c += (th[2] - pos) / th[2] * 0.3
        c = min(1.0, c)
        if c >= min_confidence:
            return BUY, c, int(rsi_hit), int(env_hit)
    rsi_hit, env_hit = rsi > th[1], pos > 1.0 - th[2]
    if rsi_hit or env_hit:
        c = 0.4
        if rsi_hit:
            c += (rsi - th[1]) / (100 - th[1]) * 0.3
        if env_hit:
            c += (pos - (1.0 - th[2])) / th[2] * 0.3
        c = min(1.0, c)
        if c >= min_confidence:
            return SELL, c, int(rsi_hit), int(env_hit)
    return FLAT, 0.5, 0, 0


# ===========================================================================
# The engine: trade simulator and tick loop
# ===========================================================================


@dataclass
class Position:
    id: int
    direction: int
    lots: float
    entry_price: float
    fee: float
    entry_tick: int
    current_price: float = 0.0
    unrealized: float = 0.0


class Engine:
    """One scenario's state; a hook reads and trades through the same
    methods as the C engine's (``fastpar.scenarios`` wraps either)."""

    def __init__(self, spec, result: KernelResult):
        self.spec = spec
        self.res = result
        self.point_scale = 10.0 ** spec.digits
        self.balance = spec.initial_balance
        result.max_equity = spec.initial_balance
        self.api = random.Random(spec.api_latency_seed)
        self.exec = random.Random(spec.market_execution_seed)
        self.tick = 0
        self.index = 0
        self.bid = self.ask = float("nan")
        self.order_counter = self.pending_counter = self.position_counter = 0
        self.pos: list[Position] = []
        # (pending_id, order row, direction, lots, placed_tick, fill_at_tick)
        self.pend: list[tuple] = []
        self.bars = [Bars(m, warm, hist) for m, rendered, hist, warm in spec.timeframes]
        self.workers = [Worker(w) for w in spec.workers]

    # -- account -------------------------------------------------------------

    def _sum(self, values):
        return python_sum(values, self.spec.compensated_sum)

    def equity(self) -> float:
        return self.balance + self._sum([p.unrealized for p in self.pos])

    def account(self):
        """(balance, equity, margin_used, free_margin, margin_level,
        total_lots, open_positions)."""
        used = self._sum([p.lots * 100000 * p.entry_price / self.spec.leverage
                          for p in self.pos])
        equity = self.equity()
        level = equity / used * 100 if used > 0 else 0.0
        return (self.balance, equity, used, equity - used, level,
                self._sum([p.lots for p in self.pos]), len(self.pos))

    def free_margin(self) -> float:
        return self.account()[3]

    # -- the simulator -------------------------------------------------------

    def update_prices(self, bid: float, ask: float) -> None:
        self.tick += 1
        self.bid, self.ask = bid, ask
        due = [p for p in self.pend if p[5] <= self.tick]
        self.pend = [p for p in self.pend if p[5] > self.tick]
        for pending in due:
            self._fill(pending)
        for p in self.pos:
            if p.direction == BUY:
                p.current_price = self.bid
                diff = p.current_price - p.entry_price
            else:
                p.current_price = self.ask
                diff = p.entry_price - p.current_price
            p.unrealized = diff * self.point_scale * self.spec.tick_value * p.lots - p.fee

    def _fill(self, pending) -> None:
        s, r = self.spec, self.res
        _, index, direction, lots, _, _ = pending
        order = r.orders[index]
        price = self.ask if direction == BUY else self.bid
        cost = abs((self.ask - self.bid) * self.point_scale * s.tick_value * lots)
        r.execution_spread_cost += cost
        required = lots * s.margin_contract_size * s.margin_price / s.leverage
        free = self.free_margin()
        if required > free:
            r.orders_rejected += 1
            order.status, order.reject = FILL_REJECTED, REJ_MARGIN_FILL
            order.reject_value, order.reject_value2 = required, free
            return
        self.position_counter += 1
        self.pos.append(Position(self.position_counter, direction, lots, price, cost,
                                       self.tick))
        r.portfolio_spread_cost += cost
        r.orders_executed += 1
        order.status, order.filled_tick = EXECUTED, self.tick
        order.fill_price, order.spread_cost = price, cost
        order.position_id = self.position_counter

    def close_at(self, i: int, reason: int) -> float:
        r = self.res
        p = self.pos.pop(i)
        pnl = p.unrealized
        self.balance += pnl
        r.trades.append(TradeRow(p.id, p.direction, reason, p.entry_tick, self.tick, p.lots,
                                 p.entry_price, self.bid if p.direction == BUY else self.ask,
                                 p.fee, pnl))
        r.total_trades += 1
        if pnl > 0:
            r.winning_trades += 1
            r.total_profit += pnl
        else:
            r.losing_trades += 1
            r.total_loss += abs(pnl)
        equity = self.equity()
        if equity > r.max_equity:
            r.max_equity = equity
        if r.max_equity - equity > r.max_drawdown:
            r.max_drawdown = r.max_equity - equity
        return pnl

    def close_position(self, position_id: int):
        """(found, pnl)."""
        for i, p in enumerate(self.pos):
            if p.id == position_id:
                return True, self.close_at(i, CLOSE_DECISION)
        return False, 0.0

    def _send(self, direction: int, lots: float, kind: int = MARKET_ORDER) -> int:
        """send_order; the index of the order's row."""
        s, r = self.spec, self.res
        self.order_counter += 1
        order = OrderRow(self.order_counter, 0, direction, PENDING, REJ_NONE, self.tick, 0, 0, 0,
                         lots)
        r.orders.append(order)
        r.orders_sent += 1
        rej, v1, v2 = REJ_NONE, 0.0, 0.0
        if not s.trade_allowed:
            rej = REJ_NOT_TRADEABLE
        elif lots < s.volume_min:
            rej, v1, v2 = REJ_LOTS_MIN, lots, s.volume_min
        elif lots > s.volume_max:
            rej, v1, v2 = REJ_LOTS_MAX, lots, s.volume_max
        elif s.volume_step > 0 and abs((lots - s.volume_min) % s.volume_step) > 1e-8:
            rej, v1, v2 = REJ_LOTS_STEP, lots, s.volume_step
        elif kind != MARKET_ORDER:
            rej, v1 = REJ_ORDER_TYPE, float(kind)
        elif self.free_margin() < lots * 100000 * 0.01:
            rej, v1 = REJ_MARGIN, lots * 100000 * 0.01
        if rej != REJ_NONE:
            r.orders_rejected += 1
            order.status, order.reject, order.reject_value, order.reject_value2 = (
                REJECTED, rej, v1, v2)
            return len(r.orders) - 1
        delay = self.api.randint(1, 3) + self.exec.randint(2, 5)
        self.pending_counter += 1
        order.pending_id, order.fill_at_tick = self.pending_counter, self.tick + delay
        self.pend.append((self.pending_counter, len(r.orders) - 1, direction, lots, self.tick,
                             self.tick + delay))
        return len(r.orders) - 1

    def count_signal(self, direction: int) -> None:
        if direction == BUY:
            self.res.signals_buy += 1
        else:
            self.res.signals_sell += 1

    def core_execute(self, action: int):
        """A CORE logic's BUY or SELL; the order's row, or None."""
        if any(p[2] == action for p in self.pend):
            return None
        if self.pos:
            if self.pos[0].direction == action:
                return None
            self.close_at(0, CLOSE_DECISION)
        if self.free_margin() < self.spec.min_free_margin:
            return None
        return self.res.orders[self._send(action, self.spec.lot_size)]

    # -- the hook's view (the same methods as the C engine's) ----------------

    def tick_index(self) -> int:
        return self.index

    def history_len(self, tf: int) -> int:
        return len(self.bars[tf].history)

    def history(self, tf: int, start: int = 0) -> list:
        return [tuple(b) for b in self.bars[tf].history[start:]]

    def current_bar(self, tf: int):
        bar = self.bars[tf].current
        return None if bar is None else tuple(bar)

    def bars_completed(self, tf: int) -> int:
        return self.bars[tf].completed

    def worker_result(self, w: int):
        """(ready, (value, confidence, ...)) as fp_engine_worker_result."""
        x = self.workers[w]
        out = [0.0] * 8
        out[1] = x.confidence
        if x.kind == RSI:
            out[0], out[2], out[3], out[4] = x.value, x.avg_gain, x.avg_loss, x.nbars
        elif x.kind == ENVELOPE:
            out[0] = x.position((self.bid + self.ask) / 2.0)
            out[2:7] = [x.upper, x.middle, x.lower, x.std_dev, x.nbars]
        elif x.kind == MACD:
            out[2:6] = [*x.macd, x.nbars]
        return x.ready, tuple(out)

    def positions(self) -> list:
        """(position_id, direction, lots, entry_price, current_price,
        unrealized_pnl, spread_cost, entry_tick) of each open position."""
        return [(p.id, p.direction, p.lots, p.entry_price, p.current_price, p.unrealized,
                 p.fee, p.entry_tick) for p in self.pos]

    def pending(self) -> list:
        """(pending_id, direction, lots, placed_tick, fill_at_tick) of each
        pending order."""
        return [(p[0], p[2], p[3], p[4], p[5]) for p in self.pend]

    def send_order(self, direction: int, lots: float, kind: int = 0):
        """(row, number, pending_id, status, reject, value, value2,
        fill_at_tick) of the order sent."""
        row = self._send(direction, lots, kind)
        o = self.res.orders[row]
        return (row, o.number, o.pending_id, o.status, o.reject, o.reject_value,
                o.reject_value2, o.fill_at_tick)


def run_kernel(ticks, spec, hook=None) -> KernelResult:
    """Run one scenario window. ``ticks``: (timestamp int64 ns, bid, ask,
    volume) arrays of the window; ``spec``: a KernelSpec; ``hook``: called
    as ``hook(engine)`` on every tick when the scenario has USER parts.
    Raises :class:`ScenarioFailed` where the C engine returns an error."""
    timestamps, bids, asks, volumes = (np.asarray(a).tolist() for a in ticks)
    if not timestamps:
        raise ScenarioFailed(7, "the scenario window holds no tick")
    r = KernelResult()
    e = Engine(spec, r)
    user_parts = spec.logic == USER_LOGIC or any(w[0] == USER for w in spec.workers)
    cached = [None] * len(e.workers)
    for i, (ts, bid, ask, vol) in enumerate(zip(timestamps, bids, asks, volumes)):
        e.index = i
        mid = (bid + ask) / 2.0
        e.update_prices(bid, ask)  # 1
        if not spec.symbol_known:
            raise ScenarioFailed(9, "symbol not found in the broker configuration")
        for bars, (_, rendered, _, _) in zip(e.bars, spec.timeframes):  # 2
            if rendered:
                bars.add(ts, mid, vol)
        for k, w in enumerate(e.workers):  # 3
            if w.kind == USER:
                continue
            artificial_load(w.load_ms)
            in_history = spec.timeframes[w.timeframe][2]
            version = e.bars[w.timeframe].version if in_history else 0
            if cached[k] != version:
                w.from_bars(e.bars[w.timeframe].history if in_history else [])
                cached[k] = version
        if user_parts:  # 4
            hook(e)
        if spec.logic == USER_LOGIC:
            continue
        rsi = e.workers[spec.rsi_worker].value  # 5
        pos = e.workers[spec.envelope_worker].position(mid)
        action, confidence, rsi_hit, env_hit = decide(spec.logic, spec.th, spec.min_confidence,
                                                      rsi, pos)
        if action == BUY:
            r.decisions_buy += 1
        elif action == SELL:
            r.decisions_sell += 1
        else:
            r.decisions_flat += 1
            continue
        order = e.core_execute(action)  # 6
        if order is not None and order.status == PENDING:
            order.confidence, order.rsi, order.position, order.mid = confidence, rsi, pos, mid
            order.rsi_hit, order.env_hit = rsi_hit, env_hit
            e.count_signal(action)
    while e.pos:  # 7
        e.close_at(0, CLOSE_END)
    r.ticks_processed = len(timestamps)
    r.balance = e.balance
    return r


def run_scenario(ticks, scenario, broker=None):
    """:func:`fastpar.scenarios.run_scenario` with this module's tick loop:
    the same preparation and result, the loop in plain Python (the GIL is
    held all the time). The pure-Python side of the GIL benchmark."""
    from .. import scenarios

    scenarios._check_scenario_object(scenario)
    data = scenarios._bind(scenarios.as_data_worker(ticks), scenarios._get(scenario, "symbol"))
    prep = scenarios.prepare_scenario(scenario, data, broker=broker)
    started = time.perf_counter()
    try:
        r = run_kernel(prep.window.arrays(), prep.spec, prep.hook)
    except ScenarioFailed as e:
        raise scenarios.engine_error(prep, e.status, str(e)) from None
    elapsed = time.perf_counter() - started
    return scenarios.build_result(prep, _as_engine_dict(r), elapsed)


def _as_engine_dict(r: KernelResult) -> dict:
    """A KernelResult in the C engine's result shape (counts and tables)."""
    out = {k: v for k, v in vars(r).items() if k not in ("orders", "trades")}
    out["order_ints"] = np.array(
        [[o.number, o.pending_id, o.direction, o.status, o.reject, o.placed_tick, o.fill_at_tick,
          o.filled_tick, o.position_id, o.rsi_hit, o.env_hit] for o in r.orders],
        dtype=np.int64).reshape(-1, 11)
    out["order_floats"] = np.array(
        [[o.lots, o.fill_price, o.spread_cost, o.reject_value, o.reject_value2, o.confidence,
          o.rsi, o.position, o.mid] for o in r.orders], dtype=np.float64).reshape(-1, 9)
    out["trade_ints"] = np.array(
        [[t.position_id, t.direction, t.reason, t.entry_tick, t.exit_tick] for t in r.trades],
        dtype=np.int64).reshape(-1, 5)
    out["trade_floats"] = np.array(
        [[t.lots, t.entry_price, t.exit_price, t.spread_cost, t.pnl] for t in r.trades],
        dtype=np.float64).reshape(-1, 5)
    return out
