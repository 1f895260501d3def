"""A scenario's USER parts, run from the C engine's hook.

When a scenario names USER workers or a USER decision logic, the engine
calls :meth:`UserRuntime.step` once per tick, after the bars and the CORE
workers, with the GIL taken for it (through the glue's one path for Python
inside a job: module.c, ``fpg_enter_python``). ``step`` does what the
API's WorkerCoordinator and tick loop do with Python objects:

- builds the tick's TickData, keeps the bars being built (``current_bars``)
  and the completed bars (``bar_history``, new lists only when a bar
  completes) as the framework's Bar objects, made only here and only for
  the bars the engine completed since the last tick;
- runs each USER worker whose ``should_recompute(tick, True)`` holds:
  ``compute(tick, bar_history, current_bars)``;
- for a USER decision logic: ``compute(tick, worker_results, current_bars,
  bar_history)`` with every worker's WorkerResult (the CORE workers' built
  from the engine's numbers), then, for any action but "FLAT",
  ``execute_decision(decision, tick)``, whose ``self.trading_api`` trades
  on the engine (:class:`TradingApi`). An exception from execute_decision
  is dropped, as the API's loop drops it; any other fails the scenario.

The time spent here is the scenario's ``user_time``.
"""

from __future__ import annotations

import time
from collections import deque
from datetime import datetime, timedelta

from .scenarios import (
    BUY,
    ENVELOPE,
    PENDING,
    RSI,
    SAMPLE_SIGNALS,
    SELL,
    CoreLogic,
    CoreWorker,
)

__all__ = ["TradingApi", "UserRuntime"]

# The engine's order kinds (scenario.h's enum fp_order_kind).
_ORDER_KINDS = ("market", "limit", "stop", "stop_limit", "trailing_stop", "iceberg")

_EPOCH = datetime(1970, 1, 1)
BAR_HISTORY_LIMIT = 1000


def _naive(ns: int) -> datetime:
    seconds, rest = divmod(int(ns), 1_000_000_000)
    return _EPOCH + timedelta(seconds=seconds, microseconds=rest // 1000)


def _utc_iso(ns: int) -> str:
    return _naive(ns).isoformat() + "+00:00"


class UserRuntime:
    """The Python side of one scenario with USER parts."""

    def __init__(self, prep, framework, broker, currency):
        self.fw = framework
        self.prep = prep
        self.symbol = prep.symbol
        self.broker = broker
        self.currency = currency
        self.window = prep.window
        self.workers = list(prep.workers.items())
        self.logic = prep.logic
        self.user_logic = not isinstance(prep.logic, CoreLogic)
        spec = prep.spec
        self.timeframes = prep.timeframes
        self.rendered = [i for i, t in enumerate(spec.timeframes) if t[1]]
        self.in_history = [i for i, t in enumerate(spec.timeframes) if t[2]]
        # The history of each timeframe in bar_history, warm-up first.
        self.history = {}
        for i in self.in_history:
            tf = self.timeframes[i]
            bars = deque(maxlen=BAR_HISTORY_LIMIT)
            for row in spec.timeframes[i][3].tolist():
                bars.append(framework.Bar(self.symbol, tf, _utc_iso(row[0]), row[1], row[2],
                                          row[3], row[4], row[5], int(row[6]), True))
            self.history[i] = bars
        self.current = {}
        self.completed = {i: 0 for i in self.rendered}
        self.bar_history = self._history_dict()
        self.results = {}
        self.user_seconds = 0.0
        self.worker_ms = {}
        self.worker_calls = {}
        self.logic_ms = 0.0
        self.decision_counts = {"BUY": 0, "SELL": 0, "FLAT": 0}
        self.signals_buy = self.signals_sell = self.signals_generated = 0
        self.sample_signals = []
        self.view = None
        for name, worker in self.workers:
            if not isinstance(worker, CoreWorker):
                self.worker_ms[name] = 0.0
                self.worker_calls[name] = 0
                _call(worker, "set_state", framework.WorkerState.READY)
        if self.user_logic:
            self.logic.set_trading_api(TradingApi(self))

    def _history_dict(self) -> dict:
        return {self.timeframes[i]: list(self.history[i]) for i in self.in_history}

    # -- bars ------------------------------------------------------------------

    def _update_bars(self, view) -> None:
        changed = False
        for i in self.rendered:
            done = view.bars_completed(i)
            if done != self.completed[i]:
                # The bars completed since the last tick: the former current
                # bar first (the same object), then any the engine built in
                # between (none: one tick completes at most one bar).
                bar = self.current.pop(i, None)
                if bar is not None:
                    bar.is_complete = True
                    if i in self.history:
                        self.history[i].append(bar)
                self.completed[i] = done
                changed = True
            row = view.current_bar(i)
            bar = self.current.get(i)
            if bar is None:
                bar = self.fw.Bar(self.symbol, self.timeframes[i], _naive(row[0]).isoformat(),
                                  0, 0, 0, 0, 0)
                self.current[i] = bar
            bar.open, bar.high, bar.low, bar.close, bar.volume = row[1:6]
            bar.tick_count = row[6]
        if changed:
            self.bar_history = self._history_dict()

    # -- workers ---------------------------------------------------------------

    def _core_result(self, view, w: int, name: str, worker: CoreWorker, tick):
        ready, v = view.worker_result(w)
        WR = self.fw.WorkerResult
        if worker.kind == RSI:
            if not ready:
                meta = ({"insufficient_bars": True} if worker.heavy else
                        {"insufficient_bars": True, "bars_available": int(v[4])})
                return WR(worker_name=name, value=50.0, confidence=0.0, metadata=meta)
            meta = ({"artificial_load_ms": worker.artificial_load_ms, "period": worker.period}
                    if worker.heavy else
                    {"period": worker.period, "timeframe": worker.timeframe,
                     "avg_gain": v[2], "avg_loss": v[3], "bars_used": worker.period + 1})
            return WR(worker_name=name, value=v[0], confidence=v[1], metadata=meta)
        if worker.kind == ENVELOPE:
            if not ready:
                return WR(worker_name=name, value={"upper": 0, "middle": 0, "lower": 0},
                          confidence=0.0, metadata={"insufficient_bars": True,
                                                    "bars_available": int(v[6]),
                                                    "bars_needed": worker.period})
            value = {"upper": v[2], "middle": v[3], "lower": v[4], "position": v[0]}
            meta = ({"artificial_load_ms": worker.artificial_load_ms, "period": worker.period}
                    if worker.heavy else
                    {"period": worker.period, "timeframe": worker.timeframe,
                     "deviation": worker.deviation, "std_dev": v[5], "bars_used": worker.period,
                     "current_price": tick.mid})
            return WR(worker_name=name, value=value, confidence=v[1], metadata=meta)
        if not ready:
            return WR(worker_name=name, value={"macd": 0.0, "signal": 0.0, "histogram": 0.0},
                      confidence=0.0)
        return WR(worker_name=name, value={"macd": v[2], "signal": v[3], "histogram": v[4]},
                  confidence=1.0, metadata={"artificial_load_ms": worker.artificial_load_ms})

    # -- the tick ----------------------------------------------------------------

    def step(self, view) -> None:
        started = time.perf_counter()
        try:
            self._step(view)
        finally:
            self.view = None
            self.user_seconds += time.perf_counter() - started

    def _step(self, view) -> None:
        i = view.tick_index()
        w = self.window
        tick = self.fw.TickData(timestamp=_naive(w.timestamp[i]), symbol=self.symbol,
                                bid=float(w.bid[i]), ask=float(w.ask[i]),
                                volume=float(w.volume[i]))
        self._update_bars(view)
        states = self.fw.WorkerState
        for k, (name, worker) in enumerate(self.workers):
            if isinstance(worker, CoreWorker):
                if self.user_logic:
                    self.results[name] = self._core_result(view, k, name, worker, tick)
                continue
            if not worker.should_recompute(tick, True):
                continue
            t0 = time.perf_counter()
            _call(worker, "set_state", states.WORKING)
            result = worker.compute(tick, self.bar_history, self.current_bars())
            ms = (time.perf_counter() - t0) * 1000
            result.computation_time_ms = ms
            self.results[name] = result
            _call(worker, "set_state", states.READY)
            self.worker_ms[name] += ms
            self.worker_calls[name] += 1
        if not self.user_logic:
            return
        t0 = time.perf_counter()
        decision = self.logic.compute(tick=tick, worker_results=self.results,
                                      current_bars=self.current_bars(),
                                      bar_history=self.bar_history)
        self.logic_ms += (time.perf_counter() - t0) * 1000
        action = decision.action
        if action in self.decision_counts:
            self.decision_counts[action] += 1
        if not decision or action == "FLAT":
            return
        self.view = view
        try:
            result = self.logic.execute_decision(decision, tick)
        except Exception:  # noqa: BLE001 - the API's loop logs and goes on
            return
        if result and result.status == self.fw.OrderStatus.PENDING:
            self.signals_generated += 1
            if action == "BUY":
                self.signals_buy += 1
            if action == "SELL":
                self.signals_sell += 1
            if len(self.sample_signals) < SAMPLE_SIGNALS:
                self.sample_signals.append({
                    **decision.to_dict(),
                    "order_id": result.order_id,
                    "executed_price": result.executed_price,
                    "lot_size": result.executed_lots,
                })

    def current_bars(self) -> dict:
        return {self.timeframes[i]: self.current[i] for i in self.rendered if i in self.current}


def _call(obj, method, *args):
    fn = getattr(obj, method, None)
    if callable(fn):
        fn(*args)


class TradingApi:
    """The API's DecisionTradingAPI for a USER decision logic, trading on
    the engine of the running scenario."""

    def __init__(self, runtime: UserRuntime):
        self._rt = runtime

    def _view(self):
        view = self._rt.view
        if view is None:
            raise RuntimeError("the trading API is usable only while the scenario runs "
                               "execute_decision")
        return view

    def _direction(self, value):
        name = getattr(value, "value", value)
        if name in ("buy", "BUY"):
            return BUY
        if name in ("sell", "SELL"):
            return SELL
        raise ValueError(f"direction must be OrderDirection.BUY or SELL, got {value!r}")

    def _rejected(self, order_id, reason, message):
        fw = self._rt.fw
        return fw.OrderResult(order_id=order_id, status=fw.OrderStatus.REJECTED,
                              rejection_reason=fw.RejectionReason(reason),
                              rejection_message=message)

    # -- orders ------------------------------------------------------------------

    def send_order(self, symbol, order_type, direction, lots, **kwargs):
        rt, fw = self._rt, self._rt.fw
        view = self._view()
        if symbol != rt.symbol:
            raise ValueError(f"this scenario trades {rt.symbol}; an order for {symbol} cannot "
                             "fill here")
        kind = getattr(order_type, "value", order_type)
        d = self._direction(direction)
        row, number, pending_id, status, reject, v1, v2, fill_at = view.send_order(
            d, float(lots), _ORDER_KINDS.index(kind) if kind in _ORDER_KINDS else 1)
        if status == PENDING:
            return fw.OrderResult(order_id=f"ord_{pending_id}", status=fw.OrderStatus.PENDING,
                                  metadata={"symbol": symbol,
                                            "direction": fw.OrderDirection(
                                                "buy" if d == BUY else "sell"),
                                            "lots": lots,
                                            "submitted_at_tick": view.tick_index() + 1})
        order_id = f"order_{number}"
        if reject == 1:
            return self._rejected(order_id, "invalid_lot_size", f"Trading not allowed for {symbol}")
        if reject in (2, 3, 4):
            text = {2: f"Lot size {lots} below minimum {v2}",
                    3: f"Lot size {lots} exceeds maximum {v2}",
                    4: f"Lot size {lots} not aligned with step {v2}"}[reject]
            return self._rejected(order_id, "invalid_lot_size", text)
        if reject == 7:
            text = ("Limit orders not implemented in MVP" if kind == "limit"
                    else f"Order type {order_type} not implemented in MVP")
            return self._rejected(order_id, "order_type_not_supported", text)
        return self._rejected(order_id, "insufficient_margin", f"Insufficient margin: need ~{v1:.2f}")

    def close_position(self, position_id, lots=None):
        fw = self._rt.fw
        view = self._view()
        position = self.get_position(position_id)
        if position is None:
            return self._rejected(f"close_{position_id}", "broker_error",
                                  f"Position {position_id} not found")
        found, pnl = view.close_position(int(str(position_id).rsplit("_", 1)[-1]))
        return fw.OrderResult(order_id=f"close_{position_id}", status=fw.OrderStatus.EXECUTED,
                              executed_price=position.current_price,
                              executed_lots=lots if lots else position.lots,
                              execution_time=datetime.now(), commission=0.0,
                              metadata={"realized_pnl": pnl, "position_id": position_id})

    def modify_position(self, position_id, new_stop_loss=None, new_take_profit=None) -> bool:
        return self.get_position(position_id) is not None

    # -- queries -----------------------------------------------------------------

    def get_account_info(self):
        rt = self._rt
        balance, equity, used, free, level, lots, n = self._view().account()
        return rt.fw.AccountInfo(balance=balance, equity=equity, margin_used=used,
                                 free_margin=free, margin_level=level, open_positions=n,
                                 total_lots=lots, currency=rt.currency,
                                 leverage=rt.broker.leverage)

    def get_open_positions(self, symbol=None):
        rt, fw = self._rt, self._rt.fw
        if symbol is not None and symbol != rt.symbol:
            return []
        return [fw.Position(position_id=f"pos_{p[0]}", symbol=rt.symbol,
                            direction=fw.OrderDirection("buy" if p[1] == BUY else "sell"),
                            lots=p[2], entry_price=p[3], entry_time=datetime.now(),
                            current_price=p[4], unrealized_pnl=p[5])
                for p in self._view().positions()]

    def get_position(self, position_id):
        for p in self.get_open_positions():
            if p.position_id == position_id:
                return p
        return None

    def get_pending_orders(self, symbol=None):
        rt, fw = self._rt, self._rt.fw
        if symbol is not None and symbol != rt.symbol:
            return []
        view = self._view()
        tick = view.tick_index() + 1
        return [{"order_id": f"ord_{p[0]}", "symbol": rt.symbol,
                 "direction": fw.OrderDirection("buy" if p[1] == BUY else "sell"),
                 "lots": p[2], "placed_at_tick": p[3], "fill_at_tick": p[4],
                 "ticks_remaining": max(0, p[4] - tick)} for p in view.pending()]

    def get_order_capabilities(self):
        return self._rt.broker.capabilities

    def get_broker_name(self) -> str:
        return self._rt.broker.name

    def get_leverage(self, symbol=None):
        return self._rt.broker.leverage

