"""USER/momentum_logic: trades the momentum of a USER worker when the CORE
RSI agrees; closes everything on a quiet bar ("DEFENSIVE"); tries a limit
order now and then (the broker simulation refuses it)."""

from python.framework.decision_logic.abstract_decision_logic import AbstractDecisionLogic
from python.framework.types.global_types import Decision
from python.framework.types.order_types import OrderDirection, OrderStatus, OrderType


class MomentumLogic(AbstractDecisionLogic):
    def __init__(self, name, config=None):
        super().__init__(name, config)
        self.threshold = self.get_config_value("threshold", 0.0003)
        self.lots = self.get_config_value("lot_size", 0.1)
        self.sent = 0

    def get_required_order_types(self):
        return [OrderType.MARKET]

    def get_required_worker_instances(self):
        return {"rsi_fast": "CORE/rsi", "mom": "USER/momentum"}

    def compute(self, tick, worker_results, current_bars, bar_history):
        mom = worker_results["mom"].value
        rsi = worker_results["rsi_fast"].value
        env = worker_results["envelope_main"].value
        stamp = tick.timestamp.isoformat()
        if mom > self.threshold and rsi < 70:
            return Decision("BUY", 0.7, f"up {mom:.5f}", tick.mid, stamp, {"rsi": rsi})
        if mom < -self.threshold and rsi > 30:
            return Decision("SELL", 0.7, f"down {mom:.5f}", tick.mid, stamp, {"rsi": rsi})
        if env.get("position", 0.5) == 0.5 and abs(mom) < self.threshold / 10:
            return Decision("DEFENSIVE", 0.5, "quiet", tick.mid, stamp)
        return Decision("FLAT", 0.5, "", tick.mid, stamp)

    def _execute_decision_impl(self, decision, tick):
        api = self.trading_api
        if decision.action == "DEFENSIVE":
            for p in api.get_open_positions():
                api.close_position(p.position_id)
            return None
        direction = OrderDirection.BUY if decision.action == "BUY" else OrderDirection.SELL
        for pending in api.get_pending_orders():
            if pending["direction"] == direction:
                return None
        positions = api.get_open_positions()
        if positions:
            if positions[0].direction == direction:
                return None
            result = api.close_position(positions[0].position_id)
            if result.status != OrderStatus.EXECUTED:
                raise RuntimeError(f"close failed: {result.rejection_message}")
        if api.get_account_info().free_margin < 1000:
            return None
        self.sent += 1
        kind = OrderType.LIMIT if self.sent % 17 == 0 else OrderType.MARKET
        return api.send_order(symbol=tick.symbol, order_type=kind, direction=direction,
                              lots=self.lots)
