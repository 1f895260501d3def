"""USER/raising_logic: its execute_decision raises on every other trade
(the API's loop drops that error and goes on); its compute raises once
the configured tick count is reached (that fails the scenario)."""

from python.framework.decision_logic.abstract_decision_logic import AbstractDecisionLogic
from python.framework.types.global_types import Decision
from python.framework.types.order_types import OrderDirection, OrderType


class RaisingLogic(AbstractDecisionLogic):
    def __init__(self, name, config=None):
        super().__init__(name, config)
        self.fail_at = self.get_config_value("fail_at_tick", 10**9)
        self.ticks = 0
        self.calls = 0

    def get_required_order_types(self):
        return [OrderType.MARKET]

    def get_required_worker_instances(self):
        return {}

    def compute(self, tick, worker_results, current_bars, bar_history):
        self.ticks += 1
        if self.ticks >= self.fail_at:
            raise ZeroDivisionError("compute failed on purpose")
        rsi = worker_results["rsi_fast"].value
        if rsi < 40:
            return Decision("BUY", 0.6, "low", tick.mid, tick.timestamp.isoformat())
        if rsi > 60:
            return Decision("SELL", 0.6, "high", tick.mid, tick.timestamp.isoformat())
        return Decision("FLAT", 0.5)

    def _execute_decision_impl(self, decision, tick):
        self.calls += 1
        api = self.trading_api
        direction = OrderDirection.BUY if decision.action == "BUY" else OrderDirection.SELL
        if api.get_pending_orders() or len(api.get_open_positions()) > 1:
            return None
        if self.calls % 2 == 0:
            raise RuntimeError("execute failed on purpose")
        return api.send_order(symbol=tick.symbol, order_type=OrderType.MARKET,
                              direction=direction, lots=0.1)
