"""fastpar.batch_orchestrator.BatchOrchestrator, the one-import switch: every
mode gives the same statistics, as fastpar.run_scenarios and the
pure-Python tick loop do; result entries in input order; the user's
performance log gets exactly the API's calls (and the user's framework's
result objects); the user's data worker is called as the API calls it;
app-config defaults; more scenarios than threads; live progress; threads
that really overlap (their engines hold no GIL)."""

import dataclasses
import inspect
import sys
import textwrap
import threading

import pytest
from fastpar import batch_orchestrator as bo
from fastpar.batch_orchestrator import BatchOrchestrator
from fastpar.performance import ScenarioSetPerformanceManager, ScenarioStatus
from fastpar.reference.scenario import run_scenario as python_run
from fastpar.scenario_config import AppConfig, ScenarioConfigLoader, TestScenario, data_path
from fastpar.scenarios import ScenarioResult, run_scenarios
from fastpar.ticks import sample_data

BROKER = str(data_path("broker_config.json"))


@pytest.fixture(scope="module")
def data():
    return sample_data()


@pytest.fixture(scope="module")
def sample():
    return ScenarioConfigLoader().load_config("sample_scenarios.json")


def app(parallel=True, max_parallel=4, **extra):
    return AppConfig.from_dict({"execution": {
        "default_parallel_scenarios": parallel, "default_max_parallel_scenarios": max_parallel,
        **extra}})


def scenario(name, start="2025-09-03T07:00:00+00:00", end="2025-09-03T10:00:00+00:00",
             max_ticks=None, extra_workers=None, **ts):
    instances = {"rsi_fast": "CORE/rsi", "envelope_main": "CORE/envelope"}
    workers = {"rsi_fast": {"period": 14, "timeframe": "M5"},
               "envelope_main": {"period": 20, "deviation": 0.02, "timeframe": "M30"}}
    for wname, (wtype, params) in (extra_workers or {}).items():
        instances[wname] = wtype
        workers[wname] = params
    return TestScenario(
        symbol="EURUSD", start_date=start, end_date=end, max_ticks=max_ticks, name=name,
        strategy_config={"decision_logic_type": "CORE/aggressive_trend",
                         "worker_instances": instances, "workers": workers},
        trade_simulator_config={"broker_config_path": BROKER, "initial_balance": 10000, **ts})


def heavy(name, max_ticks=4000, load_ms=0.05):
    return scenario(name, start="2025-09-09T12:00:00+00:00", end="2025-09-12T00:00:00+00:00",
                    max_ticks=max_ticks,
                    extra_workers={"load": ("CORE/heavy_rsi", {"period": 14, "timeframe": "M5",
                                                               "artificial_load_ms": load_ms})})


def stats_dict(stats):
    d = dataclasses.asdict(stats)
    d.pop("elapsed_time")
    d.pop("profiling_data")
    for w in d["worker_statistics"]["workers"].values():
        for k in list(w):
            if k.endswith("time_ms"):
                del w[k]
    for k in list(d["worker_statistics"]["decision_logic"]):
        if k.endswith("time_ms"):
            del d["worker_statistics"]["decision_logic"][k]
    return d


def run(scenarios, data_worker, app_config=None, log=None, **kw):
    log = ScenarioSetPerformanceManager() if log is None else log
    orch = BatchOrchestrator(scenarios, data_worker, app_config or app(), log, **kw)
    return orch, orch.run(), log


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------


def test_modes_agree_with_run_scenarios_and_the_python_loop(sample, data):
    results = {}
    for name, kw in (("sequential", {"app_config": app(parallel=False)}),
                     ("threads", {"app_config": app(max_parallel=2)}),
                     ("native", {"app_config": app(max_parallel=2), "native": True})):
        _, summary, log = run(sample, data, **kw)
        assert summary["success"] is True and summary["scenarios_count"] == len(sample)
        assert summary["scenario_results"] == [
            {"success": True, "scenario_name": s.name} for s in sample]
        results[name] = [stats_dict(s) for s in log.get_all_scenarios()]
    assert results["sequential"] == results["threads"] == results["native"]
    pool = run_scenarios(data, sample, threads=2, progress=False)
    assert [stats_dict(r.to_performance_stats(i)) for i, r in enumerate(pool)] == results[
        "sequential"]
    # The same scenario with the tick loop in plain Python.
    for i in (0, 3):
        expected = python_run(data, sample[i])
        assert stats_dict(expected.to_performance_stats(i)) == results["sequential"][i]


def test_errors_are_entries_in_input_order(data):
    scenarios = [scenario("a"), scenario("b", broker_config_path="missing_broker.json"),
                 scenario("c"),
                 scenario("d", start="2025-09-03T07:00:00.5+00:00"),
                 None, scenario("f")]
    _, summary, log = run(scenarios, data, app(max_parallel=2))
    res = summary["scenario_results"]
    assert res[0] == {"success": True, "scenario_name": "a"}
    assert res[1]["scenario"] == "b" and "missing_broker.json" in res[1]["error"]
    assert res[2] == {"success": True, "scenario_name": "c"}
    assert res[3]["scenario"] == "d" and "no tick at the start" in res[3]["error"]
    assert res[4]["scenario"] == "None_None_None" and res[4]["error"]
    assert res[5] == {"success": True, "scenario_name": "f"}
    assert [s.scenario_index for s in log.get_all_scenarios()] == [0, 2, 5]
    assert summary["success"] is True  # as the API: the entries tell


class StrictLog:
    """A performance log with exactly the API's method signatures (its
    ScenarioSetPerformanceManager): a call it does not have fails."""

    def __init__(self):
        self.calls = []
        self.stats = {}

    def start_scenario_tracking(self, scenario_index, scenario_name, symbol):
        self.calls.append(("start", scenario_index))

    def set_trade_simulator(self, scenario_index, scenario_trade_simulator):
        p = scenario_trade_simulator.portfolio
        p.initial_balance, p.get_total_trades(), p.get_equity()
        self.calls.append(("simulator", scenario_index))

    def set_live_status(self, scenario_index, status):
        self.calls.append(("status", scenario_index, status.value))

    def set_total_ticks(self, scenario_index, total_ticks):
        self.calls.append(("total", scenario_index, total_ticks))

    def update_live_stats(self, scenario_index, ticks_processed=None):
        self.calls.append(("live", scenario_index, ticks_processed))

    def add_scenario_stats(self, scenario_index, stats):
        self.stats[scenario_index] = stats
        self.calls.append(("stats", scenario_index))

    def set_metadata(self, execution_time, success):
        self.calls.append(("metadata", success))


def test_performance_log_gets_the_apis_calls(data):
    log = StrictLog()
    scenarios = [scenario("a", max_ticks=500), scenario("b", broker_config_path="nope.json")]
    _, summary, _ = run(scenarios, data, app(parallel=False), log)
    assert summary["scenario_results"][0]["success"]
    calls_a = [c for c in log.calls if c[0] != "metadata" and c[1] == 0]
    assert [c[0] for c in calls_a if c[0] != "live"] == [
        "start", "simulator", "status", "total", "status", "status", "stats"]
    assert [c[2] for c in calls_a if c[0] == "status"] == ["warmup", "warmup_complete", "running"]
    assert ("total", 0, 500) in calls_a and ("live", 0, 500) in calls_a
    assert [c for c in log.calls if c[0] != "metadata" and c[1] == 1] == [
        ("start", 1), ("status", 1, "finished_with_error")]
    assert log.calls[-1] == ("metadata", True)
    stats = log.stats[0]
    assert stats.ticks_processed == 500 and stats.success is True
    assert stats.worker_statistics.total_workers == 2


def test_results_are_the_users_framework_objects(tmp_path, monkeypatch, data):
    """With a performance log from an API framework (its package has the
    API's module layout), the statistics are that framework's classes."""
    root = tmp_path / "hostfw"
    types = root / "framework" / "types"
    types.mkdir(parents=True)
    for d in (root, root / "framework", types, root / "framework" / "reporting",
              root / "framework" / "trading_env"):
        d.mkdir(exist_ok=True)
        (d / "__init__.py").write_text("")
    from fastpar import framework as fw
    from fastpar import performance as perf

    def copy_classes(path, module, names, imports=""):
        src = "from __future__ import annotations\nfrom dataclasses import dataclass, field\n"
        src += "from datetime import datetime\nfrom enum import Enum\nfrom typing import Any\n"
        src += imports
        for n in names:
            src += "\n" + textwrap.dedent(inspect.getsource(getattr(module, n)))
        path.write_text(src.replace("from __future__ import annotations", ""))

    copy_classes(types / "global_types.py", fw, ["WorkerState", "TickData", "Bar",
                                                  "WorkerResult", "Decision"])
    copy_classes(types / "order_types.py", fw, ["OrderType", "OrderDirection", "OrderStatus",
                                                 "RejectionReason", "OrderResult",
                                                 "OrderCapabilities"])
    copy_classes(types / "trading_env_types.py", perf, ["PortfolioStats", "ExecutionStats",
                                                         "CostBreakdown"])
    with open(types / "trading_env_types.py", "a") as f:
        f.write(textwrap.dedent(inspect.getsource(fw.AccountInfo)))
    copy_classes(root / "framework" / "trading_env" / "portfolio_manager.py", fw, ["Position"],
                 "from ..types.order_types import OrderDirection\n")
    copy_classes(types / "performance_stats_types.py", perf, [
        "WorkerPerformanceStats", "DecisionLogicPerformanceStats", "BatchPerformanceStats"])
    copy_classes(types / "scenario_set_performance_types.py", perf,
                 ["ScenarioPerformanceStats"],
                 "from .trading_env_types import *\nfrom .performance_stats_types import *\n")
    copy_classes(types / "live_stats_types.py", perf, ["ScenarioStatus"])
    (root / "framework" / "reporting" / "manager.py").write_text(
        "class Manager:\n"
        "    def __init__(self):\n        self.stats = {}\n        self.statuses = []\n"
        "    def add_scenario_stats(self, i, s):\n        self.stats[i] = s\n"
        "    def set_live_status(self, scenario_index, status):\n"
        "        self.statuses.append(status)\n"
        "    def set_metadata(self, execution_time, success):\n        pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    from hostfw.framework.reporting.manager import Manager
    from hostfw.framework.types import live_stats_types, scenario_set_performance_types

    log = Manager()
    run([scenario("a", max_ticks=300)], data, app(), log)
    stats = log.stats[0]
    assert type(stats) is scenario_set_performance_types.ScenarioPerformanceStats
    assert type(stats.portfolio_stats).__module__ == "hostfw.framework.types.trading_env_types"
    assert type(stats.worker_statistics).__module__ == (
        "hostfw.framework.types.performance_stats_types")
    assert all(type(s) is live_stats_types.ScenarioStatus for s in log.statuses)
    for name in list(sys.modules):
        if name.startswith("hostfw"):
            del sys.modules[name]


class SpyData:
    """A data worker that records how it is called."""

    def __init__(self, inner):
        self.inner = inner
        self.index_manager = inner.index_manager
        self.calls = []

    def load_symbol_data(self, **kw):
        self.calls.append(kw)
        return self.inner.load_symbol_data(**kw)

    def bars(self, symbol, timeframe):
        return self.inner.bars(symbol, timeframe)


def test_data_worker_is_called_as_the_api_calls_it(data):
    spy = SpyData(data)
    spy.bar_source = data
    run([scenario("tick", max_ticks=100), scenario("span", data_mode="raw")], spy,
        app(parallel=False))
    assert spy.calls == [
        {"symbol": "EURUSD", "start_date": "2025-09-03T07:00:00+00:00",
         "end_date": "2026-09-03T07:00:00+00:00", "use_cache": True, "data_mode": "realistic"},
        {"symbol": "EURUSD", "start_date": "2025-09-03T07:00:00+00:00",
         "end_date": "2025-09-03T10:00:00+00:00", "use_cache": True, "data_mode": "realistic"},
    ]


def test_dict_scenarios(data):
    as_dict = dataclasses.asdict(scenario("d", max_ticks=200))
    _, summary, log = run([as_dict], data)
    assert summary["scenario_results"] == [{"success": True, "scenario_name": "d"}]
    assert log.get_all_scenarios()[0].ticks_processed == 200


class Spy(bo.ThreadPoolExecutor):
    max_workers = []

    def __init__(self, max_workers=None, **kw):
        Spy.max_workers.append(max_workers)
        super().__init__(max_workers=max_workers, **kw)


@pytest.mark.parametrize("app_config", [{}, object(), {"execution": {}}],
                         ids=["empty-dict", "no-methods", "no-keys"])
def test_app_config_defaults(monkeypatch, data, app_config):
    Spy.max_workers = []
    monkeypatch.setattr(bo, "ThreadPoolExecutor", Spy)
    scenarios = [scenario(f"s{i}", max_ticks=200) for i in range(6)]
    orch = BatchOrchestrator(scenarios, data, app_config, ScenarioSetPerformanceManager())
    summary = orch.run()
    assert Spy.max_workers == [4]  # parallel by default, 4 threads
    assert all(e.get("success") for e in summary["scenario_results"])


def test_sequential_when_configured_or_single(monkeypatch, data):
    calls = []
    for name in ("_run_sequential", "_run_parallel", "_run_native"):
        real = getattr(BatchOrchestrator, name)

        def wrapper(self, _real=real, _name=name):
            calls.append(_name)
            return _real(self)

        monkeypatch.setattr(BatchOrchestrator, name, wrapper)
    a, b = scenario("a", max_ticks=100), scenario("b", max_ticks=100)
    run([a, b], data, app(parallel=False))
    run([a], data, app(parallel=True))
    run([a, b], data, app(parallel=True))
    run([a, b], data, app(native_scenarios=True))
    assert calls == ["_run_sequential", "_run_sequential", "_run_parallel", "_run_native"]


def test_patched_execute_single_scenario(monkeypatch, data):
    real = BatchOrchestrator._execute_single_scenario

    def flaky(self, sc, index):
        if index == 1:
            raise RuntimeError("patched failure")
        return real(self, sc, index)

    monkeypatch.setattr(BatchOrchestrator, "_execute_single_scenario", flaky)
    scenarios = [scenario(n, max_ticks=100) for n in "abc"]
    _, summary, log = run(scenarios, data, app())
    assert summary["scenario_results"] == [
        {"success": True, "scenario_name": "a"},
        {"error": "patched failure", "scenario": "b"},
        {"success": True, "scenario_name": "c"},
    ]
    assert [s.scenario_index for s in log.get_all_scenarios()] == [0, 2]


def test_stats_not_stored_is_an_error_entry(data):
    class Failing(ScenarioSetPerformanceManager):
        def add_scenario_stats(self, index, stats):
            raise OSError("disk full")

    _, summary, _ = run([scenario("a", max_ticks=100)], data, app(), Failing())
    assert summary["scenario_results"] == [{"error": "disk full", "scenario": "a"}]


def test_get_last_orchestrator(data):
    orch = BatchOrchestrator([scenario("a", max_ticks=100)], data, app(),
                             ScenarioSetPerformanceManager())
    assert orch.get_last_orchestrator() is None
    orch.run()
    last = orch.get_last_orchestrator()
    assert isinstance(last, ScenarioResult) and last.scenario_name == "a"


# ---------------------------------------------------------------------------
# Threads: no hang, real parallelism, live progress
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("native", [False, True])
def test_more_scenarios_than_threads_does_not_hang(data, native):
    scenarios = [scenario(f"s{i}", max_ticks=300 + 50 * i) for i in range(12)]
    box = {}
    th = threading.Thread(
        target=lambda: box.update(r=run(scenarios, data, app(max_parallel=2), native=native)),
        daemon=True)
    th.start()
    th.join(60)
    assert not th.is_alive(), "batch hung"
    _, summary, log = box["r"]
    assert [e["scenario_name"] for e in summary["scenario_results"]] == [s.name for s in scenarios]
    assert [s.ticks_processed for s in log.get_all_scenarios()] == [300 + 50 * i for i in range(12)]


class LiveLog(ScenarioSetPerformanceManager):
    def __init__(self):
        super().__init__()
        self.updates = []

    def update_live_stats(self, index, ticks_processed=None):
        with self._lock:
            live = self._live.get(index)
            total = None if live is None else live.total_ticks
        self.updates.append((index, ticks_processed, total))
        super().update_live_stats(index, ticks_processed)


def test_threads_run_at_once(monkeypatch, data):
    """Both scenarios are part-way through at the same moment: the engine
    holds no GIL, so the ThreadPoolExecutor's threads really overlap (on
    two free cores they also finish in about half the time; timing is not
    asserted, as the machine may be shared)."""
    monkeypatch.setattr(bo, "MONITOR_INTERVAL_S", 0.005)
    log = LiveLog()
    _, summary, _ = run([heavy("h0", 12000), heavy("h1", 12000)], data, app(max_parallel=2), log)
    assert all(e.get("success") for e in summary["scenario_results"])
    latest = {}
    overlapped = False
    for index, ticks, _ in log.updates:
        latest[index] = ticks
        if len(latest) == 2 and all(0 < t < 12000 for t in latest.values()):
            overlapped = True
    assert overlapped, log.updates


@pytest.mark.parametrize("native", [False, True])
def test_live_stats_are_updated_while_running(monkeypatch, data, native):
    monkeypatch.setattr(bo, "MONITOR_INTERVAL_S", 0.01)
    log = LiveLog()
    run([heavy("h0", max_ticks=12000), heavy("h1", max_ticks=12000)], data, app(max_parallel=2),
        log, native=native)
    for i in (0, 1):
        ticks_seen = [t for idx, t, _ in log.updates if idx == i and t is not None]
        assert ticks_seen == sorted(ticks_seen)
        assert ticks_seen[-1] == 12000
        assert any(0 < t < 12000 for t in ticks_seen), ticks_seen
        assert all(total == 12000 for idx, _, total in log.updates if idx == i)
    live = log.get_all_live_stats()
    assert [s.status for s in live] == [ScenarioStatus.COMPLETED] * 2
    assert [s.ticks_processed for s in live] == [12000, 12000]


def test_progress_bar(data, capsys):
    run([scenario("a", max_ticks=300), scenario("b", max_ticks=300)], data, app(), progress=True)
    err = capsys.readouterr().err
    assert "tick" in err and "100%" in err


def test_native_from_app_config(data):
    orch = BatchOrchestrator([scenario("a")], data, app(native_scenarios=True),
                             ScenarioSetPerformanceManager())
    assert orch.native is True
    orch = BatchOrchestrator([scenario("a")], data, app(native_scenarios=True),
                             ScenarioSetPerformanceManager(), native=False)
    assert orch.native is False


def test_empty_batch(data):
    _, summary, log = run([], data)
    assert summary["scenarios_count"] == 0 and summary["scenario_results"] == []
    assert log.get_metadata()["success"] is True


def test_bad_max_parallel_is_refused(data):
    class Odd:
        def get_default_parallel_scenarios(self):
            return True

        def get_default_max_parallel_scenarios(self):
            return 0

    with pytest.raises(ValueError, match="max parallel scenarios must be an integer >= 1"):
        run([scenario("a"), scenario("b")], data, Odd())


def test_the_runtime_path_never_imports_the_reference():
    """The reference is what the tests hold the kernels to, never a part
    of what users run: importing fastpar and running an indicator, a
    sweep and a scenario batch through the drop-in loads none of it."""
    import subprocess

    code = textwrap.dedent("""
        import sys
        import numpy as np
        import fastpar
        from fastpar.batch_orchestrator import BatchOrchestrator
        from fastpar.performance import ScenarioSetPerformanceManager
        from fastpar.scenario_config import AppConfig, ScenarioConfigLoader
        from fastpar.ticks import sample_data

        close = 100 + np.cumsum(np.random.default_rng(1).normal(0, 1, 500))
        fastpar.rsi(close, 14)
        fastpar.sweep({"close": close}, "rsi_threshold", {"period": [14], "low": [30], "high": [70]},
                      progress=False)
        own = fastpar.strategy(entry=lambda b, p: (fastpar.rsi(b.close, p.n) < 30)
                               & (b.bars_since_exit >= 3),
                               exit=lambda b, p: fastpar.rsi(b.close, p.n) > 70)
        fastpar.sweep({"close": close}, own, {"n": [14]}, progress=False)
        scenarios = ScenarioConfigLoader().load_config("sample_scenarios.json")[:2]
        summary = BatchOrchestrator(scenarios, sample_data(), AppConfig(),
                                    ScenarioSetPerformanceManager()).run()
        assert all(r.get("success") for r in summary["scenario_results"]), summary
        print(sorted(m for m in sys.modules if m.startswith("fastpar.reference")))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
