"""fastpar.batch_orchestrator.BatchOrchestrator: the batch_orchestrator API
on the C scenario kernel - results of every mode against each other and
against the pure-Python reference, result entries and their order, the
performance log's side effects, duck-typed arguments, app-config defaults,
more scenarios than threads, live progress and real parallelism."""

import dataclasses
import math
import threading
from pathlib import Path

import numpy as np
import pytest
from fastpar import batch_orchestrator as bo
from fastpar.batch_orchestrator import BatchOrchestrator
from fastpar.performance import ScenarioSetPerformanceManager, ScenarioStatus
from fastpar.reference.scenario import ScenarioResult
from fastpar.reference.scenario import run_scenario as reference_run
from fastpar.scenario_config import DATA_DIR, AppConfig, BrokerConfig, ScenarioConfigLoader
from fastpar.ticks import TickDataLoader
from scenario_factory import make_scenario

pytestmark = pytest.mark.thread_unsafe  # monkeypatches module globals, captures output

TOL = 1e-9


@pytest.fixture(scope="module")
def loader():
    return TickDataLoader()


@pytest.fixture(scope="module")
def ticks(loader):
    return loader.get_ticks("EURUSD")


@pytest.fixture(scope="module")
def sample():
    return ScenarioConfigLoader().load_config("sample_scenarios.json")


def app(parallel=True, max_parallel=4, **extra):
    return AppConfig.from_dict(
        {
            "execution": {
                "default_parallel_scenarios": parallel,
                "default_max_parallel_scenarios": max_parallel,
                **extra,
            }
        }
    )


def scenario(name, start="2025-09-03T07:00:00+00:00", end="2025-09-03T10:00:00+00:00",
             max_ticks=None, rsi=None, symbol="EURUSD", logic="CORE/aggressive_trend"):
    kind, params = rsi or ("CORE/rsi", {})
    built = make_scenario(logic=logic, rsi=(kind, {"period": 14, "timeframe": "M5", **params}),
                          start=start, end=end, max_ticks=max_ticks, name=name)
    return dataclasses.replace(built, symbol=symbol)


def heavy(name, max_ticks=4000, load_ms=0.05):
    return scenario(name, start="2025-09-09T12:00:00+00:00", end="2025-09-12T00:00:00+00:00",
                    max_ticks=max_ticks, rsi=("CORE/heavy_rsi", {"artificial_load_ms": load_ms}))


def stats_dict(stats):
    d = dataclasses.asdict(stats)
    d.pop("elapsed_time")
    return d


def assert_close(a, b, path="stats"):
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            assert_close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_close(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and not isinstance(a, bool):
        assert math.isclose(a, b, rel_tol=TOL, abs_tol=TOL) or a == b, (path, a, b)
    else:
        assert a == b, (path, a, b)


def run(scenarios, data_worker, app_config=None, log=None, **kw):
    log = ScenarioSetPerformanceManager() if log is None else log
    orch = BatchOrchestrator(scenarios, data_worker, app_config or app(), log, **kw)
    return orch, orch.run(), log


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------


def test_modes_agree_and_match_the_reference(sample, loader, ticks):
    by_mode = {}
    for mode, cfg, native in (
        ("sequential", app(parallel=False), False),
        ("parallel", app(max_parallel=3), False),
        ("native", app(max_parallel=2), True),
    ):
        _, summary, log = run(sample, loader, cfg, native=native)
        assert summary["success"] is True
        assert summary["scenarios_count"] == len(sample)
        assert summary["execution_time"] > 0
        assert summary["scenario_results"] == [
            {"success": True, "scenario_name": s.name} for s in sample
        ]
        stats = log.get_all_scenarios()
        assert [s.scenario_index for s in stats] == list(range(len(sample)))
        by_mode[mode] = [stats_dict(s) for s in stats]
    assert by_mode["sequential"] == by_mode["parallel"] == by_mode["native"]

    for i, sc in enumerate(sample):
        ref = stats_dict(reference_run(ticks, sc).to_performance_stats(i))
        assert_close(ref, by_mode["sequential"][i], f"{sc.name}")


@pytest.mark.parametrize("mode", ["sequential", "parallel", "native"])
def test_errors_are_entries_in_input_order(mode):
    data = TickDataLoader(synthetic_fallback=False)
    data.add_ticks(TickDataLoader().get_ticks("EURUSD"))
    bad_config = scenario("bad_config")
    bad_config.strategy_config["decision_logic_type"] = "CORE/no_such_logic"
    scenarios = [
        scenario("ok1"),
        bad_config,
        scenario("empty_weekend", start="2025-09-06T09:00:00", end="2025-09-06T12:00:00"),
        scenario("no_data", symbol="GBPUSD"),
        scenario("ok2", logic="CORE/simple_consensus"),
    ]
    cfg = app(parallel=mode != "sequential", max_parallel=2)
    _, summary, log = run(scenarios, data, cfg, native=mode == "native")
    res = summary["scenario_results"]
    assert summary["success"] is True and summary["scenarios_count"] == 5
    assert res[0] == {"success": True, "scenario_name": "ok1"}
    assert res[4] == {"success": True, "scenario_name": "ok2"}
    assert set(res[1]) == {"error", "scenario"} and res[1]["scenario"] == "bad_config"
    assert "no_such_logic" in res[1]["error"]
    assert res[2]["scenario"] == "empty_weekend" and "no tick" in res[2]["error"]
    assert res[3]["scenario"] == "no_data" and "GBPUSD" in res[3]["error"]
    assert [s.scenario_index for s in log.get_all_scenarios()] == [0, 4]
    for i in (1, 2, 3):
        assert log.get_live_scenario_stats(i).status is ScenarioStatus.FINISHED_WITH_ERROR


@pytest.mark.parametrize("native", [False, True])
def test_odd_scenario_object_fails_alone(loader, native):
    odd = scenario("odd")
    odd.trade_simulator_config["seeds"] = ["not", "a", "dict"]  # AttributeError in the kernel glue
    _, summary, log = run([scenario("a"), odd, scenario("b")], loader, native=native)
    res = summary["scenario_results"]
    assert res[0]["success"] and res[2]["success"]
    assert res[1]["scenario"] == "odd" and "error" in res[1]
    assert [s.scenario_index for s in log.get_all_scenarios()] == [0, 2]


def test_no_data_loaded_once_per_symbol_even_when_it_fails():
    calls = []

    class Failing:
        def load_symbol_data(self, symbol):
            calls.append(symbol)
            raise FileNotFoundError(f"nothing for {symbol}")

    _, summary, _ = run([scenario(f"s{i}") for i in range(4)], Failing())
    assert calls == ["EURUSD"]
    assert all(e["error"] == "nothing for EURUSD" for e in summary["scenario_results"])


# ---------------------------------------------------------------------------
# Side effects and duck typing
# ---------------------------------------------------------------------------


class RecordingLog:
    """A user's own performance log: only the two methods the API requires."""

    def __init__(self):
        self.calls = []
        self.lock = threading.Lock()

    def add_scenario_stats(self, index, stats):
        with self.lock:
            self.calls.append(("add", index, stats))

    def set_metadata(self, execution_time, success):
        with self.lock:
            self.calls.append(("meta", execution_time, success))


def test_performance_log_side_effects(loader):
    scenarios = [
        scenario("a"),
        scenario("b", start="2025-09-04T07:00:00", end="2025-09-04T09:00:00"),
    ]
    log = RecordingLog()
    _, summary, _ = run(scenarios, loader, app(), log)
    adds = [c for c in log.calls if c[0] == "add"]
    assert sorted(c[1] for c in adds) == [0, 1]
    assert {c[1]: c[2].scenario_name for c in adds} == {0: "a", 1: "b"}
    assert all(c[2].success and c[2].ticks_processed > 0 for c in adds)
    assert log.calls[-1] == ("meta", summary["execution_time"], True)
    assert sum(c[0] == "meta" for c in log.calls) == 1


def test_duck_typed_data_worker_app_config_and_log(loader, ticks):
    pd = pytest.importorskip("pandas")
    loads = []

    class MyLoader:  # the API's loader call, returning a DataFrame
        def load_symbol_data(self, symbol, start_date=None, end_date=None):
            loads.append((symbol, start_date, end_date))
            return pd.DataFrame(
                {
                    "timestamp": pd.to_datetime(ticks.timestamp, unit="ns", utc=True),
                    "bid": ticks.bid,
                    "ask": ticks.ask,
                    "volume": ticks.volume,
                }
            )

    class MyAppConfig:
        def get_default_parallel_scenarios(self):
            return True

        def get_default_max_parallel_scenarios(self):
            return 3

    scenarios = [
        scenario(f"s{i}", start=f"2025-09-0{i + 2}T07:00:00", end=f"2025-09-0{i + 2}T09:00:00")
        for i in range(4)
    ]
    log = RecordingLog()
    _, summary, _ = run(scenarios, MyLoader(), MyAppConfig(), log)
    assert loads == [("EURUSD", None, None)]  # once per symbol, whole history
    assert all(e.get("success") for e in summary["scenario_results"])
    _, _, ref_log = run(scenarios, loader, app())
    mine = {c[1]: stats_dict(c[2]) for c in log.calls if c[0] == "add"}
    assert [mine[i] for i in range(4)] == [stats_dict(s) for s in ref_log.get_all_scenarios()]


def test_dict_scenarios_and_dict_ticks(ticks):
    class DictLoader:
        def load_symbol_data(self, symbol):
            return {"timestamp": ticks.timestamp, "bid": ticks.bid, "ask": ticks.ask}

    sc = dataclasses.asdict(scenario("as_dict"))
    _, summary, log = run([sc], DictLoader())
    assert summary["scenario_results"] == [{"success": True, "scenario_name": "as_dict"}]
    assert log.get_all_scenarios()[0].ticks_processed > 0


def test_ticks_are_loaded_once_and_shared(monkeypatch, loader, ticks):
    seen = []
    real = bo._kernel.run_scenarios

    def spy(t, *a, **k):
        seen.append(t)
        return real(t, *a, **k)

    monkeypatch.setattr(bo._kernel, "run_scenarios", spy)
    run([scenario(f"s{i}") for i in range(5)], loader, app(max_parallel=3))
    assert len(seen) == 5 and all(t is ticks for t in seen)
    seen.clear()
    run([scenario(f"s{i}") for i in range(3)], loader, native=True)
    assert len(seen) == 1 and seen[0] is ticks


@pytest.mark.parametrize("mode", ["sequential", "parallel", "native"])
def test_broker_files_are_read_once_per_batch(monkeypatch, loader, tmp_path, mode):
    """Each broker file is read once, however many scenarios name it; a
    missing one fails each of its scenarios alone, naming the file."""
    custom = tmp_path / "my_broker.json"
    custom.write_text((DATA_DIR / "broker_config.json").read_text())
    missing = tmp_path / "missing_broker.json"
    reads = []
    real = BrokerConfig.from_json.__func__

    def counting(cls, path):
        reads.append(Path(path).name)
        return real(cls, path)

    monkeypatch.setattr(BrokerConfig, "from_json", classmethod(counting))
    scenarios = [scenario(f"s{i}") for i in range(7)]
    for i in (1, 3, 5):
        scenarios[i].trade_simulator_config["broker_config_path"] = str(custom)
    for i in (2, 6):
        scenarios[i].trade_simulator_config["broker_config_path"] = str(missing)
    _, summary, log = run(scenarios, loader, app(parallel=mode != "sequential", max_parallel=2),
                          native=mode == "native")
    assert sorted(reads) == ["broker_config.json", "missing_broker.json",
                             "missing_broker.json", "my_broker.json"]
    res = summary["scenario_results"]
    for i in (0, 1, 3, 4, 5):
        assert res[i] == {"success": True, "scenario_name": f"s{i}"}
    for i in (2, 6):
        assert res[i]["scenario"] == f"s{i}" and "missing_broker.json" in res[i]["error"]
    # The copy holds the shipped contents: the same statistics.
    by_index = {
        s.scenario_index: {k: v for k, v in stats_dict(s).items()
                           if k not in ("scenario_index", "scenario_name")}
        for s in log.get_all_scenarios()
    }
    for i in (1, 3, 5):
        assert_close(by_index[0], by_index[i])


class Spy(bo.ThreadPoolExecutor):
    max_workers = []

    def __init__(self, max_workers=None, **kw):
        Spy.max_workers.append(max_workers)
        super().__init__(max_workers=max_workers, **kw)


@pytest.mark.parametrize(
    "app_config",
    [None, {}, object(), {"execution": {}}],
    ids=["none", "empty-dict", "no-methods", "no-keys"],
)
def test_app_config_defaults(monkeypatch, loader, app_config):
    Spy.max_workers = []
    monkeypatch.setattr(bo, "ThreadPoolExecutor", Spy)
    scenarios = [scenario(f"s{i}") for i in range(6)]
    orch = BatchOrchestrator(scenarios, loader, app_config, ScenarioSetPerformanceManager())
    summary = orch.run()
    assert Spy.max_workers == [4]  # parallel by default, 4 threads
    assert all(e.get("success") for e in summary["scenario_results"])


def test_app_config_methods_raising_keyerror_give_defaults(monkeypatch, loader):
    class Partial:
        def get_default_parallel_scenarios(self):
            raise KeyError("default_parallel_scenarios")

        def get_default_max_parallel_scenarios(self):
            raise KeyError("default_max_parallel_scenarios")

    Spy.max_workers = []
    monkeypatch.setattr(bo, "ThreadPoolExecutor", Spy)
    run([scenario("a"), scenario("b")], loader, Partial())
    assert Spy.max_workers == [2]  # min(4, number of scenarios)


def test_sequential_when_configured_or_single(monkeypatch, loader):
    calls = []
    for name in ("_run_sequential", "_run_parallel", "_run_native"):
        real = getattr(BatchOrchestrator, name)

        def wrapper(self, _real=real, _name=name):
            calls.append(_name)
            return _real(self)

        monkeypatch.setattr(BatchOrchestrator, name, wrapper)
    run([scenario("a"), scenario("b")], loader, app(parallel=False))
    run([scenario("a")], loader, app(parallel=True))
    run([scenario("a"), scenario("b")], loader, app(parallel=True))
    run([scenario("a"), scenario("b")], loader, app(native_scenarios=True))
    assert calls == ["_run_sequential", "_run_sequential", "_run_parallel", "_run_native"]


def test_patched_execute_single_scenario(monkeypatch, loader):
    real = BatchOrchestrator._execute_single_scenario

    def flaky(self, sc, index):
        if index == 1:
            raise RuntimeError("patched failure")
        return real(self, sc, index)

    monkeypatch.setattr(BatchOrchestrator, "_execute_single_scenario", flaky)
    _, summary, log = run([scenario("a"), scenario("b"), scenario("c")], loader, app())
    assert summary["scenario_results"] == [
        {"success": True, "scenario_name": "a"},
        {"error": "patched failure", "scenario": "b"},
        {"success": True, "scenario_name": "c"},
    ]
    assert [s.scenario_index for s in log.get_all_scenarios()] == [0, 2]


def test_get_last_orchestrator(loader):
    orch = BatchOrchestrator([scenario("a")], loader, app(), ScenarioSetPerformanceManager())
    assert orch.get_last_orchestrator() is None
    orch.run()
    last = orch.get_last_orchestrator()
    assert isinstance(last, ScenarioResult) and last.scenario_name == "a"


# ---------------------------------------------------------------------------
# Threads: no hang, real parallelism, live progress
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("native", [False, True])
def test_more_scenarios_than_threads_does_not_hang(loader, native):
    scenarios = [scenario(f"s{i}", max_ticks=300 + 50 * i) for i in range(12)]
    box = {}
    th = threading.Thread(
        target=lambda: box.update(r=run(scenarios, loader, app(max_parallel=2), native=native)),
        daemon=True,
    )
    th.start()
    th.join(60)
    assert not th.is_alive(), "batch hung"
    _, summary, log = box["r"]
    assert [e["scenario_name"] for e in summary["scenario_results"]] == [s.name for s in scenarios]
    assert [s.ticks_processed for s in log.get_all_scenarios()] == [300 + 50 * i for i in range(12)]


def test_threads_run_at_once(monkeypatch, loader):
    """Both scenarios are part-way through at the same moment: the kernel
    holds no GIL, so the ThreadPoolExecutor's threads really overlap (on
    two free cores they also finish in about half the time; timing is not
    asserted, as the machine may be shared)."""
    monkeypatch.setattr(bo, "MONITOR_INTERVAL_S", 0.005)
    log = LiveLog()
    _, summary, _ = run([heavy("h0", 12000), heavy("h1", 12000)], loader, app(max_parallel=2), log)
    assert all(e.get("success") for e in summary["scenario_results"])
    latest = {}
    overlapped = False
    for index, ticks, _ in log.updates:
        latest[index] = ticks
        if len(latest) == 2 and all(0 < t < 12000 for t in latest.values()):
            overlapped = True
    assert overlapped, log.updates


class LiveLog(ScenarioSetPerformanceManager):
    def __init__(self):
        super().__init__()
        self.updates = []
        self.tracked = []

    def start_scenario_tracking(self, index, name, symbol):
        self.tracked.append((index, name, symbol))
        super().start_scenario_tracking(index, name, symbol)

    def update_live_stats(self, index, ticks_processed=None, **kw):
        with self._lock:
            live = self._live.get(index)
            total = None if live is None else live.total_ticks
        self.updates.append((index, ticks_processed, total))
        super().update_live_stats(index, ticks_processed, **kw)


@pytest.mark.parametrize("native", [False, True])
def test_live_stats_are_updated_while_running(monkeypatch, loader, native):
    monkeypatch.setattr(bo, "MONITOR_INTERVAL_S", 0.01)
    log = LiveLog()
    # 12,000 ticks of 0.05 ms each: about 0.6 s, with the kernel's counters
    # moving every 2,048 ticks, so the 10 ms poller sees several values even
    # when two busy threads share this machine's two cores with it.
    scenarios = [heavy("h0", max_ticks=12000), heavy("h1", max_ticks=12000)]
    run(scenarios, loader, app(max_parallel=2), log, native=native)
    assert sorted(t[:2] for t in log.tracked) == [(0, "h0"), (1, "h1")]
    for i in (0, 1):
        ticks_seen = [t for idx, t, _ in log.updates if idx == i and t is not None]
        assert ticks_seen == sorted(ticks_seen)
        assert ticks_seen[-1] == 12000
        assert any(0 < t < 12000 for t in ticks_seen), ticks_seen
        assert all(total == 12000 for idx, _, total in log.updates if idx == i)
    live = log.get_all_live_stats()
    assert [s.status for s in live] == [ScenarioStatus.COMPLETED] * 2
    assert [s.ticks_processed for s in live] == [12000, 12000]


def test_progress_bar(loader, capsys):
    run([scenario("a"), scenario("b")], loader, app(), progress=True)
    err = capsys.readouterr().err
    assert "tick" in err and "100%" in err


def test_native_from_app_config(loader):
    orch = BatchOrchestrator([scenario("a")], loader, app(native_scenarios=True),
                             ScenarioSetPerformanceManager())
    assert orch.native is True
    orch = BatchOrchestrator([scenario("a")], loader, app(native_scenarios=True),
                             ScenarioSetPerformanceManager(), native=False)
    assert orch.native is False


def test_empty_batch(loader):
    _, summary, log = run([], loader)
    assert summary["scenarios_count"] == 0 and summary["scenario_results"] == []
    assert log.get_metadata()["success"] is True
