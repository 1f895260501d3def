"""Scenarios on the C kernel: the same inputs and results as
:func:`fastpar.reference.scenario.run_scenario`, computed natively.

- :func:`run_scenario` runs one scenario on the calling thread (the GIL is
  released while the kernel runs).
- :func:`run_scenarios` runs many scenarios over one symbol's ticks as one
  job of the native pool, one task per scenario; a scenario that fails
  (bad configuration, empty window, NaN in its ticks, ...) gives an
  exception object in its slot while the others still return results.

Configuration parsing, window selection and the formatting of the result
objects are shared with the reference, so only the tick loop differs.
"""

from __future__ import annotations

import math
import os
import threading
import time
from pathlib import Path

import numpy as np

from . import _fastpar
from .performance import CostBreakdown, ExecutionStats, PortfolioStats
from .reference.scenario import (
    AggressiveTrend,
    ClosedTrade,
    OrderRecord,
    ScenarioResult as _ReferenceResult,
    _broker_path,
    _get,
    _resolve_broker,
    _tick_columns,
    select_window,
    warmup_bars_needed,
)
from .scenario_config import (
    TIMEFRAME_MINUTES,
    BrokerConfig,
    ScenarioConfigLoader,
    load_broker_config,
    parse_strategy_config,
)
from .ticks import TickDataLoader, iso_utc

__all__ = [
    "BrokerConfigs",
    "ScenarioError",
    "ScenarioResult",
    "prepare_ticks",
    "run_scenario",
    "run_scenarios",
]

SAMPLE_SIGNALS = 10

# Status codes of fp_scenario_run (status.h, scenario.h).
_STATUS_TEXT = {
    1: "invalid scenario description",
    2: "out of memory",
    3: "tick data contains NaN or inf",
    4: "cancelled",
    6: "tick timestamps are not sorted",
    7: "the scenario window holds no tick",
    8: "tick timestamp out of range (NaT?)",
}

_WORKER_KIND = {"rsi": 0, "envelope": 1, "macd": 2}
_LOGIC_KIND = {"CORE/simple_consensus": 0, "CORE/aggressive_trend": 1}
_DIRECTION = {1: "BUY", -1: "SELL"}
_ORDER_STATUS = {0: "pending", 1: "executed", 2: "rejected"}
_TRADE_REASON = {0: "reversal", 1: "end_of_scenario"}

# Columns of the kernel's order and trade tables (module.c,
# scenario_result_to_py): one int64 and one float64 table each.
_OI_DIRECTION, _OI_STATUS, _OI_REJECT, _OI_DELAY, _OI_PLACED, _OI_FILLED, _OI_RSI_HIT, _OI_ENV_HIT = (
    range(8))
_OF_PRICE, _OF_SPREAD, _OF_VALUE, _OF_VALUE2, _OF_CONFIDENCE, _OF_RSI, _OF_POSITION, _OF_MID = (
    range(8))


def _orders(ints, floats, lots, rejections):
    """The OrderRecords of a kernel's order tables; `rejections`: the text
    of each rejected order, by row."""
    out = []
    for i, (o, f) in enumerate(zip(ints.tolist(), floats.tolist())):
        status = o[_OI_STATUS]
        filled = status == 1
        out.append(OrderRecord(
            f"ord_{i + 1}",
            _DIRECTION[o[_OI_DIRECTION]],
            lots,
            o[_OI_PLACED],
            _ORDER_STATUS[status],
            o[_OI_DELAY] or None,
            o[_OI_FILLED] if filled else None,
            f[_OF_PRICE] if filled else None,
            f[_OF_SPREAD] if filled else None,
            rejections.get(i),
        ))
    return out


def _trades(ints, floats):
    """The ClosedTrades of a kernel's trade tables."""
    return [
        ClosedTrade(f"pos_{pid}", _DIRECTION[d], lots, entry, exit_, entry_tick, exit_tick,
                    spread, pnl, _TRADE_REASON[reason])
        for (d, reason, pid, entry_tick, exit_tick), (lots, entry, exit_, spread, pnl)
        in zip(ints.tolist(), floats.tolist())
    ]


class _Deferred:
    """A list not built yet: ``build(*args)`` makes it. Both are picklable
    (a module-level function and arrays), so a result crosses processes as
    its compact tables."""

    __slots__ = ("build", "args")

    def __init__(self, build, *args):
        self.build = build
        self.args = args

    def __reduce__(self):
        return _Deferred, (self.build, *self.args)


def _deferred_field(name):
    key = "_" + name

    def get(self):
        value = self.__dict__[key]
        if isinstance(value, _Deferred):
            # Two threads reading at once may both build it; they build
            # equal lists and the last one is kept.
            value = value.build(*value.args)
            self.__dict__[key] = value
        return value

    def set(self, value):
        self.__dict__[key] = value

    return property(get, set, doc=f"The scenario's {name} (a list, built on first read).")


class ScenarioResult(_ReferenceResult):
    """:class:`fastpar.reference.scenario.ScenarioResult`, with ``trades``
    and ``orders`` kept as the kernel's number tables until first read.

    Most callers never read them (the batch orchestrator's statistics do
    not), and making a Python object per trade and per order holds the
    GIL: done at once, it was a large share of a busy scenario's time and
    kept threads from running scenarios side by side. Reading either field
    builds the list once; the result then equals the reference's field for
    field.
    """

    trades = _deferred_field("trades")
    orders = _deferred_field("orders")


class ScenarioError(ValueError):
    """One scenario could not run; ``status`` is the kernel's status code
    (0 when the scenario failed before reaching the kernel)."""

    def __init__(self, message: str, status: int = 0):
        super().__init__(message)
        self.status = status


def prepare_ticks(ticks):
    """(symbol or None, timestamp int64, bid, ask, volume float64): the
    kernel's arrays, contiguous; copies only if the inputs are not."""
    symbol, ts, bid, ask, vol = _tick_columns(ticks)
    ts = np.asarray(ts)
    if ts.dtype.kind == "M":
        ts = ts.astype("datetime64[ns]").astype(np.int64)
    return (
        symbol,
        np.ascontiguousarray(ts, dtype=np.int64),
        np.ascontiguousarray(bid, dtype=np.float64),
        np.ascontiguousarray(ask, dtype=np.float64),
        np.ascontiguousarray(vol, dtype=np.float64),
    )


def _seed(value, name):
    if isinstance(value, bool) or not isinstance(value, int):
        raise ScenarioError(f"{name} must be an integer, got {value!r}")
    value = abs(value)  # random.seed(int) uses |seed|
    if value >= 2**64:
        raise ScenarioError(f"{name} must be below 2**64, got {value}")
    return value


class _Prepared:
    """One scenario turned into the kernel's spec, plus what is needed to
    turn the kernel's result back into a ScenarioResult."""

    def __init__(self, scenario, broker, ts_arr, tick_symbol):
        self.symbol = _get(scenario, "symbol")
        self.name = (
            _get(scenario, "name")
            or f"{self.symbol}_{_get(scenario, 'start_date')}_{_get(scenario, 'end_date')}"
        )
        if tick_symbol is not None and self.symbol is not None and tick_symbol != self.symbol:
            raise ScenarioError(
                f"scenario {self.name!r} is for {self.symbol}, the ticks are {tick_symbol}"
            )
        self.strategy = parse_strategy_config(
            _get(scenario, "strategy_config") or {},
            source=f"scenario {self.name!r}: strategy_config",
        )
        sim_config = _get(scenario, "trade_simulator_config") or {}
        broker_config = _resolve_broker(broker, scenario)
        self.spec_symbol = broker_config.symbol(self.symbol)
        self.initial_balance = float(sim_config.get("initial_balance", 10000.0))
        seeds = sim_config.get("seeds") or {}
        api_seed = _seed(seeds.get("api_latency_seed", 42), "seeds.api_latency_seed")
        exec_seed = _seed(seeds.get("market_execution_seed", 123), "seeds.market_execution_seed")
        self.lo, self.hi = select_window(
            ts_arr,
            _get(scenario, "start_date"),
            _get(scenario, "end_date"),
            _get(scenario, "max_ticks"),
        )
        self.warmup_need = warmup_bars_needed(self.strategy)
        self.timeframes = sorted(self.warmup_need, key=TIMEFRAME_MINUTES.get)

        logic = self.strategy.decision_logic
        p = logic.params
        self.logic_type = logic.logic_type
        if logic.logic_type == "CORE/simple_consensus":
            th = (
                p["rsi_oversold"],
                p["rsi_overbought"],
                p["envelope_lower_threshold"],
                p["envelope_upper_threshold"],
            )
        else:
            th = (p["rsi_buy_threshold"], p["rsi_sell_threshold"], p["envelope_extremes"], 0.0)
        self.lot_size = float(p["lot_size"])
        names = [w.name for w in self.strategy.workers]
        workers = tuple(
            (
                _WORKER_KIND[w.indicator],
                int(w.params.get("period", 0)),
                float(w.params.get("deviation", 0.0)),
                int(w.params.get("fast", 0)),
                int(w.params.get("slow", 0)),
                int(w.params.get("signal", 0)),
                TIMEFRAME_MINUTES[w.timeframe],
                w.artificial_load_ms,
            )
            for w in self.strategy.workers
        )
        s = self.spec_symbol
        self.spec = (
            self.lo,
            self.hi,
            _LOGIC_KIND[logic.logic_type],
            *(float(v) for v in th),
            float(p["min_confidence"]),
            self.lot_size,
            float(p["min_free_margin"]),
            int(s.digits),
            float(s.tick_value),
            float(s.contract_size),
            float(broker_config.leverage),
            float(s.volume_min),
            float(s.volume_max),
            float(s.volume_step),
            bool(s.trade_allowed),
            self.initial_balance,
            api_seed,
            exec_seed,
            names.index("rsi_fast"),
            names.index("envelope_main"),
            workers,
        )

    # -- the kernel's result -> ScenarioResult --------------------------------

    def _reason(self, action, rsi, position, rsi_hit, env_hit):
        if self.logic_type == "CORE/simple_consensus":
            if action == "BUY":
                return f"RSI={rsi:.1f} (oversold) + Envelope={position:.2f} (lower)"
            return f"RSI={rsi:.1f} (overbought) + Envelope={position:.2f} (upper)"
        return AggressiveTrend._reason(rsi, position, bool(rsi_hit), bool(env_hit))

    def _rejection(self, code, value, value2):
        s = self.spec_symbol
        if code in (1, 2, 3):
            return s.check_lots(self.lot_size)
        if code == 4:
            return f"symbol {s.symbol} not tradeable"
        if code == 5:
            return f"insufficient margin: need {value:.2f}"
        if code == 6:
            return f"insufficient margin at fill: need {value:.2f}, free {value2:.2f}"
        return None

    def result(self, r: dict, ts_arr, elapsed: float) -> ScenarioResult:
        lots = self.lot_size
        oi, of = r["order_ints"], r["order_floats"]
        # No NumPy call over the whole order table here: on a busy scenario's
        # thousand-odd orders NumPy lets go of the GIL for the call, and with
        # threads the call may then wait for it behind another thread.
        # Rejections are rare; their texts need this scenario's symbol.
        n_rejected = r["orders_rejected"]
        rejections = {
            int(i): self._rejection(int(oi[i, _OI_REJECT]), of[i, _OF_VALUE], of[i, _OF_VALUE2])
            for i in (np.flatnonzero(oi[:, _OI_STATUS] == 2) if n_rejected else ())
        }
        # Only orders rejected when placed have no fill delay, so the first
        # SAMPLE_SIGNALS orders that do lie in the first
        # SAMPLE_SIGNALS + n_rejected rows.
        delays = oi[: SAMPLE_SIGNALS + n_rejected, _OI_DELAY].tolist()
        signals = []
        for i in [i for i, d in enumerate(delays) if d != 0][:SAMPLE_SIGNALS]:
            o, f = oi[i].tolist(), of[i].tolist()
            direction = _DIRECTION[o[_OI_DIRECTION]]
            placed = o[_OI_PLACED]
            signals.append(
                {
                    "action": direction,
                    "confidence": f[_OF_CONFIDENCE],
                    "reason": self._reason(direction, f[_OF_RSI], f[_OF_POSITION],
                                           o[_OI_RSI_HIT], o[_OI_ENV_HIT]),
                    "price": f[_OF_MID],
                    "timestamp": iso_utc(int(ts_arr[self.lo + placed - 1])),
                    "tick": placed,
                    "order_id": f"ord_{i + 1}",
                    "lot_size": lots,
                }
            )
        orders = _Deferred(_orders, oi, of, lots, rejections)
        trades = _Deferred(_trades, r["trade_ints"], r["trade_floats"])

        n = r["ticks_processed"]
        ntr = r["total_trades"]
        profit, loss = r["total_profit"], r["total_loss"]
        if loss > 0:
            profit_factor = profit / loss
        else:
            profit_factor = 0.0 if profit == 0 else math.inf
        spread_total = r["total_spread_cost"]
        portfolio = PortfolioStats(
            total_trades=ntr,
            winning_trades=r["winning_trades"],
            losing_trades=r["losing_trades"],
            total_profit=profit,
            total_loss=loss,
            max_drawdown=r["max_drawdown"],
            max_equity=r["max_equity"],
            win_rate=r["winning_trades"] / ntr if ntr else 0.0,
            profit_factor=profit_factor,
            total_spread_cost=spread_total,
            total_commission=0.0,
            total_swap=0.0,
            total_fees=spread_total,
        )
        workers = self.strategy.workers
        worker_statistics = {
            w.name: {
                "worker_type": w.worker_type,
                "timeframe": w.timeframe,
                "computations": n,
                "bar_computations": r["bar_computations"][i],
                "artificial_load_ms": w.artificial_load_ms,
            }
            for i, w in enumerate(workers)
        }
        warm_by_tf = {w.timeframe: r["warmup_bars"][i] for i, w in enumerate(workers)}
        signals_buy, signals_sell = r["signals_buy"], r["signals_sell"]
        generated = signals_buy + signals_sell
        return ScenarioResult(
            scenario_name=self.name,
            symbol=self.symbol,
            window=(self.lo, self.hi),
            ticks_processed=n,
            signals_generated=generated,
            signals_gen_buy=signals_buy,
            signals_gen_sell=signals_sell,
            signal_rate=generated / n,
            portfolio_value=r["balance"],
            initial_balance=self.initial_balance,
            decision_logic_name=self.strategy.decision_logic.name,
            decision_logic_type=self.logic_type,
            decision_counts={
                "BUY": r["decisions_buy"],
                "SELL": r["decisions_sell"],
                "FLAT": r["decisions_flat"],
            },
            sample_signals=signals,
            portfolio_stats=portfolio,
            execution_stats=ExecutionStats(
                orders_sent=r["orders_sent"],
                orders_executed=r["orders_executed"],
                orders_rejected=r["orders_rejected"],
                total_commission=0.0,
                total_spread_cost=spread_total,
            ),
            cost_breakdown=CostBreakdown(
                total_spread_cost=spread_total,
                total_commission=0.0,
                total_swap=0.0,
                total_fees=spread_total,
            ),
            worker_statistics=worker_statistics,
            scenario_requirement={
                "max_warmup_bars": max(self.warmup_need.values()),
                "all_timeframes": list(self.timeframes),
                "warmup_by_timeframe": dict(self.warmup_need),
                "total_workers": len(workers),
            },
            warmup_bars={tf: warm_by_tf[tf] for tf in self.timeframes},
            trades=trades,
            orders=orders,
            elapsed_time=elapsed,
        )


class BrokerConfigs:
    """Each scenario's broker config, with each broker file read once.

    A scenario names its file in ``trade_simulator_config.broker_config_path``
    (none: the shipped one). A batch reads each file once instead of once per
    scenario: reading a file takes several system calls, each of which lets
    go of the GIL and must take it back, which with threads means waiting
    for the other threads' Python. Thread-safe. A file that fails to load is
    not remembered, so each scenario naming it reports the error itself.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._loaded: dict = {}

    def for_scenario(self, scenario) -> BrokerConfig:
        path = _broker_path(scenario)
        if not (path is None or isinstance(path, (str, os.PathLike))):
            return load_broker_config(path)  # raises, naming the bad value
        key = None if path is None else os.fspath(path)
        with self._lock:
            if key not in self._loaded:
                self._loaded[key] = load_broker_config(path)
            return self._loaded[key]


def _error(name, status, message=None):
    text = message or _STATUS_TEXT.get(status, f"status {status}")
    return ScenarioError(f"scenario {name!r}: {text}", status)


def run_scenario(ticks, scenario, broker=None) -> ScenarioResult:
    """Run one scenario on the C kernel; arguments and result as
    :func:`fastpar.reference.scenario.run_scenario` (no progress callback,
    no trace). Raises ScenarioError (a ValueError) if it cannot run."""
    started = time.perf_counter()
    tick_symbol, ts, bid, ask, vol = prepare_ticks(ticks)
    prep = _Prepared(scenario, broker, ts, tick_symbol)
    try:
        r = _fastpar.run_scenario(ts, bid, ask, vol, prep.spec)
    except ValueError as e:
        raise ScenarioError(f"scenario {prep.name!r}: {e}") from None
    return prep.result(r, ts, time.perf_counter() - started)


def run_scenarios(ticks, scenarios, threads=None, progress=True, broker=None, *,
                  progress_counts=None):
    """Run scenarios of one symbol as one native pool job.

    ``ticks``: a DataFrame or dict with timestamp, bid, ask (and volume)
    columns, a :class:`~fastpar.ticks.TickArrays`, a ``(timestamp, bid,
    ask, volume)`` tuple, or the path of a parquet or CSV tick file.
    ``scenarios``: a list of :class:`~fastpar.scenario_config.TestScenario`
    (or objects or dicts with the same fields), or the path of a
    scenario-set JSON file.

    Returns one entry per scenario, in order: its ScenarioResult, or a
    ScenarioError saying why that scenario could not run (the others are
    not affected). ``elapsed_time`` of each result is the whole job's wall
    time.

    ``threads``: None for the pool's size; 1 runs every scenario on the
    calling thread (for callers that bring their own threads), and Ctrl-C
    is then seen between scenarios; otherwise the pool's threads run them
    and Ctrl-C stops the running scenarios within a fraction of a second
    and raises KeyboardInterrupt. ``progress``: show a tqdm bar of ticks
    done. ``progress_counts``, if given, is a writable int64 array of
    len(scenarios) the kernel sets to each scenario's ticks done so far;
    another thread may read it while this call runs. ``broker``: a
    BrokerConfig, a broker dict, a :class:`BrokerConfigs` (shared by
    several calls, so each broker file is read once for all of them), or
    None (each scenario's broker file, read once per call).
    """
    started = time.perf_counter()
    if isinstance(ticks, (str, Path)):
        ticks = TickDataLoader.load_file(ticks)
    if isinstance(scenarios, (str, Path)):
        scenarios = ScenarioConfigLoader().load_config(scenarios)
    scenarios = list(scenarios)
    if progress_counts is not None:
        counts = np.asarray(progress_counts)
        if counts.dtype != np.int64 or counts.shape != (len(scenarios),):
            raise ValueError(
                f"progress_counts must be an int64 array of shape ({len(scenarios)},), "
                f"got {counts.dtype} {counts.shape}"
            )
    tick_symbol, ts, bid, ask, vol = prepare_ticks(ticks)
    out: list = [None] * len(scenarios)
    prepared = []
    if broker is None:
        broker = BrokerConfigs()
    broker_for = broker.for_scenario if isinstance(broker, BrokerConfigs) else lambda _: broker
    for i, scenario in enumerate(scenarios):
        try:
            prepared.append((i, _Prepared(scenario, broker_for(scenario), ts, tick_symbol)))
        except ValueError as e:
            out[i] = e if isinstance(e, ScenarioError) else ScenarioError(str(e))
        except Exception as e:  # noqa: BLE001 - a missing broker file, a list where a
            # date belongs in a scenario dict, ...: still that scenario's own failure
            out[i] = ScenarioError(f"scenario {i}: {type(e).__name__}: {e}")
    # The kernel counts into one slot per prepared scenario; the caller's
    # array is used directly when every scenario was prepared.
    if progress_counts is not None and len(prepared) == len(scenarios):
        counts = progress_counts
    else:
        counts = np.zeros(len(prepared), dtype=np.int64)
    if progress_counts is not None:
        progress_counts[:] = 0
    specs = [p.spec for _, p in prepared]
    bar = _TickBar(counts, sum(p.hi - p.lo for _, p in prepared)) if progress else None
    try:
        statuses = _fastpar.run_scenarios(ts, bid, ask, vol, specs, threads, counts)
    finally:
        if bar is not None:
            bar.close()
    elapsed = time.perf_counter() - started
    for slot, ((i, prep), (status, r, message)) in enumerate(zip(prepared, statuses, strict=True)):
        if status == 0:
            out[i] = prep.result(r, ts, elapsed)
        else:
            out[i] = _error(prep.name, status, message)
        if progress_counts is not None and counts is not progress_counts:
            progress_counts[i] = counts[slot]
    return out


class _TickBar:
    """A tqdm bar of ticks done, fed from the kernel's progress counters by
    a background thread (the counters are plain int64 reads)."""

    INTERVAL_S = 0.1

    def __init__(self, counts: np.ndarray, total: int):
        from tqdm import tqdm

        self._counts = counts
        self._bar = tqdm(total=total, unit="tick", unit_scale=True, desc="scenarios")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="fastpar-progress", daemon=True)
        self._thread.start()

    def _update(self) -> None:
        done = int(self._counts.sum())
        if done > self._bar.n:
            self._bar.update(done - self._bar.n)

    def _loop(self) -> None:
        while not self._stop.wait(self.INTERVAL_S):
            self._update()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._update()
        self._bar.close()
