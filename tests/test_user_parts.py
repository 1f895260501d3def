"""USER workers and decision logics (fastpar.user_parts): classes written on
fastpar.framework's base classes, found as the API finds USER classes,
called with the API's arguments; the same results on the calling thread,
on the native pool and in the pure-Python tick loop; their trading API;
their errors; the time they take; on a free-threaded build their calls
overlap."""

import sys
import textwrap
import threading
import time

import pytest
from fastpar import framework
from fastpar.reference.scenario import run_scenario as python_run
from fastpar.scenario_config import TestScenario, data_path
from fastpar.scenarios import ScenarioResult, run_scenario, run_scenarios
from fastpar.ticks import sample_data

pytestmark = pytest.mark.thread_unsafe  # imports modules from a temporary project

WORKER = '''
import threading, time
from fastpar.framework import AbstractBlackboxWorker, WorkerResult

CALLS = []


class ProbeWorker(AbstractBlackboxWorker):
    @classmethod
    def get_optional_parameters(cls):
        return {"timeframe": "M5", "bars": 3, "raise_at": -1, "record": False}

    def __init__(self, name, parameters=None):
        super().__init__(name, parameters)
        self.timeframe = self.parameters["timeframe"]
        self.seen = 0

    def get_warmup_requirements(self):
        return {self.timeframe: self.parameters["bars"]}

    def get_required_timeframes(self):
        return [self.timeframe]

    def should_recompute(self, tick, bar_updated):
        return True

    def compute(self, tick, bar_history, current_bars):
        self.seen += 1
        if self.seen == self.parameters["raise_at"]:
            raise KeyError("probe failed on purpose")
        if self.parameters["record"]:
            start = time.perf_counter()
            x = 0
            while time.perf_counter() - start < 0.0005:
                x += 1
            CALLS.append((threading.get_ident(), start, time.perf_counter()))
        history = bar_history[self.timeframe]
        bar = current_bars[self.timeframe]
        assert bar.timestamp <= tick.timestamp.isoformat()
        assert history[-1].is_complete and not bar.is_complete
        return WorkerResult(self.name, value=tick.mid - history[-1].close,
                            metadata={"n": len(history), "open": bar.open})
'''

LOGIC = '''
from fastpar.framework import (AbstractDecisionLogic, Decision, OrderDirection, OrderStatus,
                               OrderType, RejectionReason)

LOG = []


class ProbeLogic(AbstractDecisionLogic):
    def get_required_order_types(self):
        return [OrderType.MARKET]

    def get_required_worker_instances(self):
        return {"probe": "USER/probe"}

    def compute(self, tick, worker_results, current_bars, bar_history):
        assert set(worker_results) == {"rsi_fast", "envelope_main", "probe"}
        value = worker_results["probe"].value
        if value > 0.0002:
            return Decision("BUY", 0.8, "up", tick.mid)
        if value < -0.0002:
            return Decision("SELL", 0.8, "down", tick.mid)
        return Decision("FLAT", 0.5)

    def _execute_decision_impl(self, decision, tick):
        api = self.trading_api
        d = OrderDirection.BUY if decision.action == "BUY" else OrderDirection.SELL
        pending = api.get_pending_orders()
        if any(p["direction"] == d for p in pending):
            return None
        positions = api.get_open_positions()
        if positions:
            if positions[0].direction == d:
                return None
            closed = api.close_position(positions[0].position_id)
            LOG.append(("close", closed.status, closed.metadata["realized_pnl"]))
        missing = api.close_position("pos_999999")
        LOG.append(("missing", missing.status, missing.rejection_reason))
        limit = api.send_order(symbol=tick.symbol, order_type=OrderType.LIMIT, direction=d, lots=0.1)
        LOG.append(("limit", limit.status, limit.rejection_reason, limit.rejection_message))
        account = api.get_account_info()
        LOG.append(("account", account.open_positions, account.currency, account.leverage))
        return api.send_order(symbol=tick.symbol, order_type=OrderType.MARKET, direction=d,
                              lots=0.1)
'''


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("user_project")
    for kind, name, source in (("workers", "probe", WORKER), ("decision_logic", "probe_logic",
                                                                 LOGIC)):
        pkg = root / "python" / kind / "user"
        pkg.mkdir(parents=True, exist_ok=True)
        for d in (root / "python", root / "python" / kind, pkg):
            (d / "__init__.py").write_text("")
        (pkg / f"{name}.py").write_text(textwrap.dedent(source))
    sys.path.insert(0, str(root))
    yield root
    sys.path.remove(str(root))
    for name in [n for n in sys.modules if n == "python" or n.startswith("python.")]:
        del sys.modules[name]


@pytest.fixture(scope="module")
def data():
    return sample_data()


def scenario(logic="USER/probe_logic", name="u", max_ticks=3000, **probe):
    return TestScenario(
        symbol="EURUSD", start_date="2025-09-03T07:00:00+00:00",
        end_date="2025-09-03T16:00:00+00:00", max_ticks=max_ticks, name=name,
        strategy_config={
            "decision_logic_type": logic,
            "worker_instances": {"rsi_fast": "CORE/rsi", "envelope_main": "CORE/envelope",
                                 "probe": "USER/probe"},
            "workers": {"rsi_fast": {"period": 14, "timeframe": "M5"},
                        "envelope_main": {"period": 20, "deviation": 2.0, "timeframe": "M15"},
                        "probe": probe},
        },
        trade_simulator_config={"broker_config_path": str(data_path("broker_config.json"))})


def comparable(result: ScenarioResult):
    return (result.ticks_processed, result.signals_generated, result.signals_gen_buy,
            result.portfolio_value, result.portfolio_stats, result.execution_stats,
            result.sample_signals, [(o.order_id, o.status, o.fill_price) for o in result.orders],
            result.worker_statistics.workers["probe"].worker_call_count)


@pytest.mark.parametrize("logic", ["USER/probe_logic", "CORE/aggressive_trend"])
def test_same_results_on_every_path(project, data, logic):
    alone = run_scenario(data, scenario(logic))
    assert alone.user_time > 0 and alone.worker_statistics.workers["probe"].worker_call_count == 3000
    assert alone.profiling_data["user_python_ms"] == pytest.approx(alone.user_time * 1000)
    assert comparable(python_run(data, scenario(logic))) == comparable(alone)
    pooled = run_scenarios(data, [scenario(logic, name=f"u{i}") for i in range(4)], threads=2,
                           progress=False)
    for r in pooled:
        assert comparable(r) == comparable(alone)


def test_a_core_scenario_spends_no_time_in_python(data):
    core = scenario("CORE/aggressive_trend")
    del core.strategy_config["worker_instances"]["probe"]
    result = run_scenario(data, core)
    assert result.user_time == 0.0 and result.profiling_data["user_python_ms"] == 0.0


def test_the_trading_api(project, data):
    from python.decision_logic.user import probe_logic

    probe_logic.LOG.clear()
    result = run_scenario(data, scenario())
    log = probe_logic.LOG
    kinds = {entry[0] for entry in log}
    assert kinds == {"close", "missing", "limit", "account"}
    assert all(e[1] == framework.OrderStatus.EXECUTED for e in log if e[0] == "close")
    assert all(e[1:] == (framework.OrderStatus.REJECTED, framework.RejectionReason.BROKER_ERROR)
               for e in log if e[0] == "missing")
    assert all(e[1:] == (framework.OrderStatus.REJECTED,
                         framework.RejectionReason.ORDER_TYPE_NOT_SUPPORTED,
                         "Limit orders not implemented in MVP") for e in log if e[0] == "limit")
    assert all(e[2:] == ("EUR", 500) for e in log if e[0] == "account")
    # Every limit order was sent and refused; market orders made the trades.
    limits = sum(1 for e in log if e[0] == "limit")
    assert result.execution_stats.orders_rejected == limits
    assert result.execution_stats.orders_sent == limits + result.signals_generated
    assert result.portfolio_stats.total_trades > 5


def test_a_failing_worker_fails_its_scenario_only(project, data):
    out = run_scenarios(data, [scenario(name="ok"), scenario(name="bad", raise_at=100),
                               scenario(name="ok2")], threads=2, progress=False)
    assert isinstance(out[0], ScenarioResult) and isinstance(out[2], ScenarioResult)
    assert isinstance(out[1], KeyError) and "probe failed on purpose" in str(out[1])
    with pytest.raises(KeyError, match="probe failed on purpose"):
        run_scenario(data, scenario(raise_at=7))


def test_user_classes_get_their_frameworks_objects(project):
    from python.workers.user.probe import ProbeWorker

    fw = framework.Framework.of(ProbeWorker)
    assert fw.root is None and fw.TickData is framework.TickData
    assert fw.user_package == "python"


@pytest.mark.skipif(sys.version_info < (3, 13) or sys._is_gil_enabled(),
                    reason="only a free-threaded build runs Python in two threads at once")
def test_user_code_of_two_scenarios_runs_at_once(project, data):
    from python.workers.user import probe

    probe.CALLS.clear()
    started = time.perf_counter()
    run_scenarios(data, [scenario("CORE/aggressive_trend", name=f"p{i}", max_ticks=400,
                                  record=True) for i in range(2)], threads=2, progress=False)
    assert time.perf_counter() > started
    by_thread = {}
    for ident, a, b in probe.CALLS:
        by_thread.setdefault(ident, []).append((a, b))
    assert len(by_thread) == 2
    (t1, calls1), (t2, calls2) = by_thread.items()
    overlaps = sum(1 for a1, b1 in calls1 for a2, b2 in calls2 if a1 < b2 and a2 < b1)
    assert overlaps > 10, overlaps
    assert threading.active_count() >= 1
