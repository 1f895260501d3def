"""Scenario-set, app and broker configuration read as the batch_orchestrator
API reads them; tick files and the synthetic ticks; the performance
container."""

import copy
import json
import threading

import numpy as np
import pytest
from fastpar.performance import (
    BatchPerformanceStats,
    PortfolioStats,
    ScenarioPerformanceStats,
    ScenarioSetPerformanceManager,
    ScenarioStatus,
)
from fastpar.scenario_config import (
    AppConfig,
    AppConfigLoader,
    BrokerConfig,
    ConfigError,
    InvalidDateRangeError,
    ScenarioConfigLoader,
    TestScenario,
    data_path,
    load_broker_config,
)
from fastpar.ticks import TickArrays, iso_utc, load_file, synthetic_ticks, to_ns

STRATEGY = {
    "decision_logic_type": "CORE/aggressive_trend",
    "worker_instances": {"rsi_fast": "CORE/rsi", "envelope_main": "CORE/envelope"},
    "workers": {
        "rsi_fast": {"period": 14, "timeframe": "M5"},
        "envelope_main": {"period": 20, "deviation": 0.02, "timeframe": "M30"},
    },
    "decision_logic_config": {
        "rsi_buy_threshold": 35,
        "rsi_sell_threshold": 65,
        "min_confidence": 0.4,
    },
}


def scenario_set(scenarios=None, **global_blocks):
    glob = {
        "data_mode": "realistic",
        "strategy_config": copy.deepcopy(STRATEGY),
        "execution_config": {"parallel_workers": False, "worker_parallel_threshold_ms": 1.0},
        "trade_simulator_config": {
            "broker_config_path": "broker_config.json",
            "initial_balance": 10000,
            "currency": "EUR",
        },
    }
    glob.update(global_blocks)
    return {
        "version": "1.0",
        "scenario_set_name": "test",
        "created": "2025-10-12T08:41:31",
        "global": glob,
        "scenarios": scenarios
        if scenarios is not None
        else [
            {
                "name": "w1",
                "symbol": "EURUSD",
                "start_date": "2025-09-03T07:00:00+00:00",
                "end_date": "2025-09-03T16:00:00+00:00",
            }
        ],
    }


def write(tmp_path, data, name="set.json"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def load(tmp_path, data):
    return ScenarioConfigLoader().load_config(write(tmp_path, data))


# ---------------------------------------------------------------------------
# TestScenario and the loader
# ---------------------------------------------------------------------------


def test_test_scenario_defaults():
    s = TestScenario(symbol="EURUSD", start_date="a", end_date="b")
    assert s.name == "EURUSD_a_b" and s.max_ticks is None and s.data_mode == "realistic"
    assert s.enabled is True and s.strategy_config == {} and s.trade_simulator_config is None
    # The API's default execution block.
    assert s.execution_config["parallel_workers"] is None
    assert s.execution_config["worker_parallel_threshold_ms"] == 1.0


def test_blocks_are_global_shallowly_updated_by_scenario(tmp_path):
    data = scenario_set([
        {"name": "a", "symbol": "EURUSD", "start_date": "2025-09-03T07:00:00+00:00",
         "end_date": "2025-09-03T16:00:00+00:00",
         "strategy_config": {"workers": {"rsi_fast": {"period": 5}}},
         "trade_simulator_config": {"initial_balance": 5000}},
        {"name": "b", "symbol": "EURUSD", "start_date": "2025-09-03T07:00:00+00:00",
         "end_date": "2025-09-03T16:00:00+00:00", "strategy_config": {}, "data_mode": "raw",
         "max_ticks": 100},
    ])
    a, b = load(tmp_path, data)
    # A scenario's block replaces whole keys: its "workers" is all there is.
    assert a.strategy_config["workers"] == {"rsi_fast": {"period": 5}}
    assert a.strategy_config["decision_logic_type"] == "CORE/aggressive_trend"
    assert a.trade_simulator_config["initial_balance"] == 5000
    assert a.trade_simulator_config["broker_config_path"] == "broker_config.json"
    assert b.strategy_config == STRATEGY and b.data_mode == "raw" and b.max_ticks == 100
    # The global data_mode is not read: a scenario without one is "realistic".
    data["global"]["data_mode"] = "raw"
    assert load(tmp_path, data)[0].data_mode == "realistic"


def test_disabled_scenarios_are_dropped(tmp_path):
    base = {"symbol": "EURUSD", "start_date": "2025-09-03T07:00:00+00:00",
            "end_date": "2025-09-03T16:00:00+00:00"}
    data = scenario_set([{**base, "name": "on"}, {**base, "name": "off", "enabled": False},
                         {**base, "name": "zero", "enabled": 0}])
    assert [s.name for s in load(tmp_path, data)] == ["on"]


def test_end_before_start_refuses_the_file(tmp_path):
    data = scenario_set([{"name": "x", "symbol": "EURUSD",
                          "start_date": "2025-09-03T16:00:00+00:00",
                          "end_date": "2025-09-03T07:00:00+00:00"}])
    with pytest.raises(InvalidDateRangeError, match=r"set\.json: scenario 'x': end_date"):
        load(tmp_path, data)


def test_strategies_are_not_checked_at_load_time(tmp_path):
    """Both formats of the ThreadPoolExecutor era load, as do strategies
    that will fail when they run: the API checks them per scenario."""
    old = copy.deepcopy(STRATEGY)
    del old["worker_instances"]
    old["worker_types"] = ["CORE/rsi", "CORE/envelope"]
    old["workers"] = {"CORE/rsi": {"period": 14, "timeframe": "M5"}, "CORE/envelope": {}}
    assert load(tmp_path, scenario_set(strategy_config=old))[0].strategy_config == old
    odd = copy.deepcopy(STRATEGY)
    odd["worker_instances"]["rsi_fast"] = "CORE/heavy_rsi"
    odd["decision_logic_type"] = "USER/not_there"
    assert load(tmp_path, scenario_set(strategy_config=odd))[0].strategy_config == odd


@pytest.mark.parametrize(
    "mutate,pattern",
    [
        (lambda d: d.__setitem__("global", []), r"global must be an object"),
        (lambda d: d["global"].__setitem__("strategy_config", 3), r"global\.strategy_config"),
        (lambda d: d.__setitem__("scenarios", {}), r"scenarios must be a list"),
        (lambda d: d["scenarios"].__setitem__(0, "w1"), r"scenarios\[0\] must be an object"),
        (lambda d: d["scenarios"][0].pop("symbol"), r"scenarios\[0\]: symbol is required"),
        (lambda d: d["scenarios"][0].pop("name"), r"scenarios\[0\]: name is required"),
        (lambda d: d["scenarios"][0].__setitem__("start_date", "soon"),
         r"scenario 'w1': start_date is not an ISO 8601"),
        (lambda d: d["scenarios"][0].__setitem__("end_date", "2025-09-03T16:00:00"),
         r"scenario 'w1': start_date and end_date must both have a time zone"),
        (lambda d: d["scenarios"][0].__setitem__("strategy_config", [1]),
         r"scenario 'w1': strategy_config must be an object"),
    ],
)
def test_malformed_scenario_sets_name_file_and_field(tmp_path, mutate, pattern):
    data = scenario_set()
    mutate(data)
    with pytest.raises(ConfigError, match=pattern) as info:
        load(tmp_path, data)
    assert "set.json" in str(info.value)


def test_invalid_json_names_file_and_position(tmp_path):
    with pytest.raises(ConfigError, match=r"set\.json: invalid JSON at line 1, column 2"):
        load(tmp_path, "{")


def test_lookup_in_a_directory_and_shipped_sets(tmp_path):
    write(tmp_path, scenario_set())
    assert ScenarioConfigLoader(tmp_path).load_config("set.json")[0].name == "w1"
    with pytest.raises(FileNotFoundError, match="Config file not found"):
        ScenarioConfigLoader(tmp_path).load_config("other.json")
    shipped = ScenarioConfigLoader().load_config("sample_scenarios.json")
    assert len(shipped) == 5
    # A shipped set names the broker file shipped beside it.
    assert shipped[0].trade_simulator_config["broker_config_path"] == str(
        data_path("broker_config.json"))


# ---------------------------------------------------------------------------
# App and broker configuration
# ---------------------------------------------------------------------------


def test_app_config_defaults_and_values(tmp_path):
    shipped = AppConfig()
    assert shipped.get_default_parallel_scenarios() is True
    assert shipped.get_default_max_parallel_scenarios() == 4
    empty = AppConfig.from_dict({})
    assert empty.get_default_parallel_scenarios() is True
    assert empty.get_default_max_parallel_scenarios() == 4
    assert empty.get_default_parallel_workers() is True
    assert empty.get_default_worker_parallel_threshold_ms() == 1.0
    path = write(
        tmp_path,
        {"execution": {"default_parallel_scenarios": False, "default_max_parallel_scenarios": 20}},
        "app.json",
    )
    cfg = AppConfigLoader(path)
    assert (
        cfg.get_default_parallel_scenarios() is False
        and cfg.get_default_max_parallel_scenarios() == 20
    )
    with pytest.raises(ConfigError, match=r"app\.json: execution\.default_max_parallel_scenarios"):
        AppConfig(write(tmp_path, {"execution": {"default_max_parallel_scenarios": 0}}, "app.json"))
    with pytest.raises(ConfigError, match=r"app\.json: invalid JSON"):
        AppConfig(write(tmp_path, "{", "app.json"))


def test_broker_config_reads_an_mt5_export_as_the_api(tmp_path):
    broker = load_broker_config()
    assert broker.leverage == 500 and broker.name == "fastpar sample broker"
    assert broker.capabilities.supports_order_type(type("T", (), {"value": "market"})())
    fields = broker.kernel_fields("EURUSD")
    assert fields == {
        "symbol_known": True, "leverage": 500.0, "digits": 5, "tick_value": 0.85155,
        "margin_contract_size": 100000.0, "margin_price": 1.0, "volume_min": 0.01,
        "volume_max": 100.0, "volume_step": 0.01, "trade_allowed": True}
    # An unknown symbol is known to fail on the first tick, not here.
    assert broker.kernel_fields("XAUUSD")["symbol_known"] is False
    with pytest.raises(ValueError, match="Symbol XAUUSD not found in broker configuration"):
        broker.symbol_info("XAUUSD")
    export = json.loads(data_path("broker_config.json").read_text())
    # The adapter's defaults: trade_allowed false, leverage 100, the broker
    # file's bid for the margin.
    export["symbols"]["EURUSD"] = {"bid": 1.17}
    del export["broker_info"]["leverage"]
    b = BrokerConfig.from_dict(export)
    assert b.leverage == 100
    f = b.kernel_fields("EURUSD")
    assert f["trade_allowed"] is False and f["margin_price"] == 1.17 and f["digits"] == 5
    for key, pattern in (("broker_info", "Missing required config key: broker_info"),
                         ("symbols", "Missing required config key: symbols")):
        bad = json.loads(data_path("broker_config.json").read_text())
        del bad[key]
        with pytest.raises(ConfigError, match=pattern):
            BrokerConfig.from_dict(bad)
    bad = json.loads(data_path("broker_config.json").read_text())
    bad["symbols"]["EURUSD"]["digits"] = "5"
    with pytest.raises(ConfigError, match=r"symbols\.EURUSD\.digits"):
        BrokerConfig.from_dict(bad).kernel_fields("EURUSD")
    with pytest.raises(FileNotFoundError, match="Broker config not found"):
        BrokerConfig.from_json(tmp_path / "missing.json")
    # The broker type: an MT5 folder in the path, or an MT5 export's shape.
    flat = write(tmp_path, {"symbols": {"EURUSD": {}}}, "b.json")
    with pytest.raises(ConfigError, match="Cannot detect broker type"):
        BrokerConfig.from_json(flat)
    kraken = write(tmp_path, {**export, "broker_type": "kraken_spot"}, "k.json")
    with pytest.raises(ConfigError, match="MT5 only"):
        BrokerConfig.from_json(kraken)


# ---------------------------------------------------------------------------
# Ticks
# ---------------------------------------------------------------------------


def test_synthetic_ticks_are_deterministic_and_plausible():
    a = synthetic_ticks("EURUSD", start="2025-09-01", days=14, seed=42)
    b = synthetic_ticks("EURUSD", start="2025-09-01", days=14, seed=42)
    for name in ("timestamp", "bid", "ask", "volume"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
        assert not getattr(a, name).flags.writeable
    assert not np.array_equal(a.bid, synthetic_ticks("EURUSD", days=14, seed=43).bid)
    assert 80_000 < len(a) < 200_000
    assert (np.diff(a.timestamp) >= 0).all() and (a.bid <= a.ask).all()
    spread_points = np.round((a.ask - a.bid) * 1e5)
    assert spread_points.min() >= 1 and spread_points.max() <= 5
    minutes = a.timestamp // 60_000_000_000
    weekday = ((minutes // 1440) + 3) % 7
    hour = (minutes % 1440) // 60
    assert not (weekday == 5).any()  # no Saturday ticks
    assert not ((weekday == 6) & (hour < 22)).any()
    per_hour = np.bincount(hour, minlength=24)
    assert per_hour[13] > 3 * per_hour[3]  # London/New York busier than Asia
    quiet = np.isin(hour, [21, 22, 23, 0, 1])
    assert spread_points[quiet].mean() > spread_points[~quiet].mean() + 1
    # A tick on every open minute, the first on the minute.
    open_minutes = np.unique(minutes)
    on_minute = a.timestamp[a.timestamp % 60_000_000_000 == 0] // 60_000_000_000
    np.testing.assert_array_equal(np.unique(on_minute), open_minutes)
    jpy = synthetic_ticks("USDJPY", days=2)
    assert 100 < jpy.bid.mean() < 200 and np.allclose(jpy.bid, np.round(jpy.bid, 3))


def test_time_helpers():
    assert to_ns("1970-01-01T00:00:01Z") == 10**9
    assert to_ns("2025-09-01T02:00:00+02:00") == to_ns("2025-09-01T00:00:00") == to_ns("2025-09-01")
    assert iso_utc(to_ns("2025-09-01T07:30:00.123456+00:00")) == "2025-09-01T07:30:00.123456+00:00"
    assert to_ns(np.datetime64("2025-09-01T00:00:00", "ns")) == to_ns("2025-09-01")


CSV_OK = "timestamp,bid,ask,volume\n2025-09-01T00:00:00Z,1.1,1.1002,1\n2025-09-01T00:00:01Z,1.1001,1.1003,2\n"


@pytest.mark.parametrize(
    "body,pattern",
    [
        ("timestamp,bid\n2025-09-01,1.1\n", r"missing column\(s\) \['ask'\]"),
        (
            "timestamp,bid,ask,volume\n2025-09-01T00:00:01Z,1.1,1.2,1\n2025-09-01T00:00:00Z,1.1,1.2,1\n",
            r"not sorted, row 1",
        ),
        ("timestamp,bid,ask,volume\n2025-09-01,nan,1.2,1\n", r"'bid' has NaN or inf at row 0"),
        ("timestamp,bid,ask,volume\n2025-09-01,-1.1,1.2,1\n", r"'bid' must be positive"),
        ("timestamp,bid,ask,volume\n2025-09-01,1.3,1.2,1\n", r"bid > ask at row 0"),
        ("timestamp,bid,ask,volume\n2025-09-01,1.1,1.2,-1\n", r"'volume' is negative"),
        ("timestamp,bid,ask,volume\nsoon,1.1,1.2,1\n", r"line 2: not an ISO 8601"),
    ],
)
def test_tick_file_validation(tmp_path, body, pattern):
    path = write(tmp_path, body, "EURUSD_ticks.csv")
    with pytest.raises(ValueError, match=pattern) as info:
        load_file(path)
    assert "EURUSD_ticks.csv" in str(info.value)


def test_parquet_round_trip(tmp_path):
    ticks = synthetic_ticks("EURUSD", days=1)
    ticks.to_dataframe().to_parquet(tmp_path / "EURUSD_x.parquet")
    back = load_file(tmp_path / "EURUSD_x.parquet")
    np.testing.assert_array_equal(back.timestamp, ticks.timestamp)
    np.testing.assert_array_equal(back.ask, ticks.ask)


# ---------------------------------------------------------------------------
# ScenarioSetPerformanceManager
# ---------------------------------------------------------------------------


def stats(i):
    return ScenarioPerformanceStats(
        scenario_index=i,
        scenario_name=f"s{i}",
        symbol="EURUSD",
        ticks_processed=100,
        signals_generated=1,
        signals_gen_buy=1,
        signals_gen_sell=0,
        signal_rate=0.01,
        success=True,
        portfolio_value=10010.0,
        initial_balance=10000.0,
        elapsed_time=0.1,
        worker_statistics=BatchPerformanceStats("s", 100, False, 0, 0),
        decision_logic_name="aggressive_trend",
        portfolio_stats=PortfolioStats(total_trades=3, winning_trades=2, losing_trades=1),
    )


def test_performance_manager_orders_by_index_across_threads():
    manager = ScenarioSetPerformanceManager()
    order = [7, 2, 9, 0, 5, 1, 8, 3, 6, 4]
    threads = [
        threading.Thread(target=manager.add_scenario_stats, args=(i, stats(i))) for i in order
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [s.scenario_index for s in manager.get_all_scenarios()] == list(range(10))
    manager.set_metadata(execution_time=1.5, success=True)
    assert manager.get_metadata() == {"execution_time": 1.5, "success": True, "total_scenarios": 10}


def test_performance_manager_live_stats():
    manager = ScenarioSetPerformanceManager()
    manager.start_scenario_tracking(0, "s0", "EURUSD")
    manager.start_scenario_tracking(1, "s1", "EURUSD")
    manager.set_live_status(0, ScenarioStatus.RUNNING)
    manager.set_total_ticks(0, 200)
    manager.set_portfolio_balance(0, 10000.0)
    manager.update_live_stats(0, ticks_processed=50)
    live = manager.get_live_scenario_stats(0)
    assert (live.status, live.progress_percent, live.total_trades, live.portfolio_value) == (
        ScenarioStatus.RUNNING,
        25.0,
        0,
        10000.0,
    )
    # A live account (the API's trade simulator) gives trades and equity.
    account = type("A", (), {})()
    account.portfolio = type("P", (), {
        "initial_balance": 10000.0, "get_total_trades": lambda self: 2,
        "get_winning_trades": lambda self: 1, "get_losing_trades": lambda self: 1,
        "get_equity": lambda self: 10005.0})()
    manager.set_trade_simulator(0, account)
    manager.update_live_stats(0, 50)
    live = manager.get_live_scenario_stats(0)
    assert (live.total_trades, live.portfolio_value) == (2, 10005.0)
    live.ticks_processed = 999  # a copy: the manager's state is untouched
    assert manager.get_live_scenario_stats(0).ticks_processed == 50
    manager.update_live_stats(0, ticks_processed=200)
    assert manager.get_live_scenario_stats(0).status == ScenarioStatus.COMPLETED
    manager.add_scenario_stats(1, stats(1))
    all_live = manager.get_all_live_stats()
    assert [s.scenario_name for s in all_live] == ["s0", "s1"]
    assert all_live[1].status == ScenarioStatus.COMPLETED and all_live[1].total_trades == 3
    manager.update_live_stats(42, ticks_processed=1)  # unknown index: ignored
    assert manager.get_live_scenario_stats(42) is None


def test_integers_beyond_the_doubles_range_are_config_errors():
    """JSON integers have any size; one too large for a double is a clear
    error where a number is read, never an OverflowError."""
    from fastpar.scenarios import prepare_scenario
    from scenario_factory import make_scenario

    big = 10**400
    export = json.loads(data_path("broker_config.json").read_text())
    export["broker_info"]["leverage"] = big
    with pytest.raises(ConfigError, match=r"broker_info\.leverage must be a positive number"):
        BrokerConfig.from_dict(export)
    export = json.loads(data_path("broker_config.json").read_text())
    export["symbols"]["EURUSD"]["contract_size"] = big
    with pytest.raises(ConfigError, match=r"symbols\.EURUSD\.contract_size must be a finite"):
        BrokerConfig.from_dict(export).kernel_fields("EURUSD")
    ticks = synthetic_ticks("EURUSD", start="2025-09-01", days=4, seed=1)
    bad = make_scenario(env=("CORE/envelope", {"period": 20, "deviation": big, "timeframe": "M30"}),
                        broker_config_path=str(data_path("broker_config.json")))
    with pytest.raises(ValueError, match="deviation must be a finite number"):
        prepare_scenario(bad, ticks)
