"""Scenario-set, app and broker configuration; tick loading and the
synthetic ticks; the performance container."""

import copy
import json
import threading

import numpy as np
import pytest
from fastpar.performance import (
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
    ScenarioConfigLoader,
    TestScenario,
    load_broker_config,
    parse_strategy_config,
)
from fastpar.ticks import TickArrays, TickDataLoader, iso_utc, synthetic_ticks, to_ns

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
    s = TestScenario(symbol="EURUSD", start_date="2025-09-01", end_date="2025-09-02")
    assert s.name == "EURUSD_2025-09-01_2025-09-02"
    assert (s.max_ticks, s.data_mode, s.enabled) == (None, "realistic", True)
    assert (
        s.strategy_config == {} and s.execution_config is None and s.trade_simulator_config is None
    )
    assert TestScenario("EURUSD", "a", "b", name="mine").name == "mine"


def test_blocks_are_global_shallowly_updated_by_scenario(tmp_path):
    data = scenario_set(
        [
            {
                "name": "inherits",
                "symbol": "EURUSD",
                "start_date": "2025-09-01",
                "end_date": "2025-09-02",
            },
            {
                "name": "overrides",
                "symbol": "EURUSD",
                "start_date": "2025-09-01",
                "end_date": "2025-09-02",
                "max_ticks": 500,
                "strategy_config": {
                    "decision_logic_type": "CORE/simple_consensus",
                    "workers": {"rsi_fast": {"period": 7, "timeframe": "M1"}},
                },
                "execution_config": {"parallel_workers": True},
                "trade_simulator_config": {"initial_balance": 5000},
            },
        ]
    )
    inherits, overrides = load(tmp_path, data)
    assert inherits.strategy_config == STRATEGY
    assert inherits.trade_simulator_config["initial_balance"] == 10000
    assert overrides.max_ticks == 500
    sc = overrides.strategy_config
    assert sc["decision_logic_type"] == "CORE/simple_consensus"
    assert sc["worker_instances"] == STRATEGY["worker_instances"]  # untouched key kept
    # Shallow: the scenario's "workers" replaces the global one as a whole.
    assert sc["workers"] == {"rsi_fast": {"period": 7, "timeframe": "M1"}}
    assert overrides.execution_config == {
        "parallel_workers": True,
        "worker_parallel_threshold_ms": 1.0,
    }
    assert overrides.trade_simulator_config == {
        "broker_config_path": "broker_config.json",
        "initial_balance": 5000,
        "currency": "EUR",
    }
    # Scenarios do not share (or alter) the global dicts.
    assert data["global"]["strategy_config"]["decision_logic_type"] == "CORE/aggressive_trend"
    twins = load(tmp_path, scenario_set([dict(data["scenarios"][0], name=n) for n in ("a", "b")]))
    twins[0].strategy_config["workers"]["rsi_fast"]["period"] = 99
    assert twins[1].strategy_config["workers"]["rsi_fast"]["period"] == 14


def test_disabled_scenarios_are_dropped_and_names_default(tmp_path):
    data = scenario_set(
        [
            {"symbol": "EURUSD", "start_date": "2025-09-01", "end_date": "2025-09-02"},
            {
                "name": "off",
                "symbol": "EURUSD",
                "start_date": "2025-09-01",
                "end_date": "2025-09-02",
                "enabled": False,
            },
        ]
    )
    (only,) = load(tmp_path, data)
    assert only.name == "EURUSD_2025-09-01_2025-09-02"


def test_end_before_start_is_an_error(tmp_path):
    data = scenario_set(
        [{"name": "bad", "symbol": "EURUSD", "start_date": "2025-09-02", "end_date": "2025-09-01"}]
    )
    with pytest.raises(
        ConfigError, match=r"set\.json: scenarios\[0\] \(bad\): end_date .* before start_date"
    ):
        load(tmp_path, data)


@pytest.mark.parametrize(
    "mutate,pattern",
    [
        (lambda d: d.pop("scenarios"), r"set\.json: scenarios is required"),
        (lambda d: d.update(scenarios={}), r"scenarios must be a list"),
        (lambda d: d["scenarios"][0].pop("symbol"), r"scenarios\[0\] \(w1\)\.symbol is required"),
        (
            lambda d: d["scenarios"][0].update(start_date="yesterday"),
            r"scenarios\[0\] \(w1\): not an ISO 8601",
        ),
        (lambda d: d["scenarios"][0].update(max_ticks=0), r"max_ticks must be a positive integer"),
        (lambda d: d["scenarios"][0].update(enabled="yes"), r"enabled must be true or false"),
        (
            lambda d: d["scenarios"][0].update(start_time="x"),
            r"unknown field\(s\) \['start_time'\]",
        ),
        (
            lambda d: d["global"].update(strategy_config=[]),
            r"global\.strategy_config must be an object",
        ),
        (
            lambda d: d["scenarios"][0].update(execution_config=[]),
            r"\(w1\)\.execution_config must be an object",
        ),
        (lambda d: d.update(version=1), r"version must be a string"),
        (
            lambda d: d["global"]["strategy_config"]["worker_instances"].update(
                rsi_fast="CORE/rsii"
            ),
            r"worker_instances\.rsi_fast: unknown worker type 'CORE/rsii'; known: .*'CORE/heavy_rsi'.*'CORE/rsi'",
        ),
        (
            lambda d: d["global"]["strategy_config"].update(decision_logic_type="CORE/yolo"),
            r"unknown decision logic 'CORE/yolo'; known: \['CORE/aggressive_trend', 'CORE/simple_consensus'\]",
        ),
        (
            lambda d: d["global"]["strategy_config"].pop("decision_logic_type"),
            r"decision_logic_type is required",
        ),
        (
            lambda d: d["global"]["strategy_config"]["workers"]["rsi_fast"].pop("period"),
            r"workers\.rsi_fast\.period is required",
        ),
        (
            lambda d: d["global"]["strategy_config"]["workers"]["rsi_fast"].update(perod=3),
            r"unknown parameter\(s\) \['perod'\]",
        ),
        (
            lambda d: d["global"]["strategy_config"]["workers"]["rsi_fast"].update(timeframe="M7"),
            r"timeframe must be one of",
        ),
        (
            lambda d: d["global"]["strategy_config"]["workers"]["envelope_main"].update(period=0),
            r"period must be an integer >= 1",
        ),
        (
            lambda d: (
                d["global"]["strategy_config"]["worker_instances"].pop("envelope_main")
                and d["global"]["strategy_config"]["workers"].pop("envelope_main")
            ),
            r"needs a worker 'envelope_main'",
        ),
        (
            lambda d: (
                d["global"]["strategy_config"]["worker_instances"].update(envelope_main="CORE/rsi")
                or d["global"]["strategy_config"]["workers"].update(
                    envelope_main={"period": 5, "timeframe": "M5"}
                )
            ),
            r"worker_instances\.envelope_main: .* needs one of \['CORE/envelope', 'CORE/heavy_envelope'\]",
        ),
        (
            lambda d: d["global"]["strategy_config"]["workers"].update(ghost={}),
            r"undeclared worker\(s\) \['ghost'\]",
        ),
        (
            lambda d: d["global"]["trade_simulator_config"].update(initial_balance=-1),
            r"initial_balance must be a positive number",
        ),
    ],
)
def test_malformed_scenario_sets_name_file_and_field(tmp_path, mutate, pattern):
    data = scenario_set()
    mutate(data)
    with pytest.raises(ConfigError, match=pattern) as info:
        load(tmp_path, data)
    assert "set.json" in str(info.value)


def test_invalid_json_names_file_and_position(tmp_path):
    path = write(tmp_path, '{"version": "1.0", "scenarios": [,]}')
    with pytest.raises(ConfigError, match=r"set\.json: invalid JSON at line 1, column \d+"):
        ScenarioConfigLoader().load_config(path)


def test_lookup_by_name(tmp_path):
    write(tmp_path, scenario_set(), "mine.json")
    assert len(ScenarioConfigLoader(tmp_path).load_config("mine.json")) == 1
    assert len(ScenarioConfigLoader().load_config("sample_scenarios.json")) >= 4  # shipped
    with pytest.raises(FileNotFoundError, match="nope.json"):
        ScenarioConfigLoader(tmp_path).load_config("nope.json")


def test_heavy_and_macd_workers_get_defaults():
    spec = parse_strategy_config(
        {
            "decision_logic_type": "CORE/simple_consensus",
            "worker_instances": {
                "rsi_fast": "CORE/heavy_rsi",
                "envelope_main": "CORE/envelope",
                "m": "CORE/heavy_macd",
            },
            "workers": {"rsi_fast": {"period": 14, "timeframe": "M5"}},
        }
    )
    by_name = {w.name: w for w in spec.workers}
    assert by_name["rsi_fast"].params == {
        "period": 14,
        "timeframe": "M5",
        "artificial_load_ms": 5.0,
    }
    assert by_name["envelope_main"].params == {"period": 20, "deviation": 0.02, "timeframe": "M5"}
    assert by_name["m"].params == {
        "fast": 12,
        "slow": 26,
        "signal": 9,
        "timeframe": "M5",
        "artificial_load_ms": 6.0,
    }
    assert (
        spec.decision_logic.params["min_confidence"] == 0.5
        and spec.decision_logic.params["lot_size"] == 0.1
    )
    with pytest.raises(ConfigError, match="fast .* must be < slow"):
        parse_strategy_config(
            {
                **STRATEGY,
                "worker_instances": {**STRATEGY["worker_instances"], "m": "CORE/macd"},
                "workers": {**STRATEGY["workers"], "m": {"fast": 30}},
            }
        )


# ---------------------------------------------------------------------------
# App and broker configs
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


def test_broker_config(tmp_path):
    broker = load_broker_config()
    assert broker.leverage == 500
    eurusd = broker.symbol("EURUSD")
    assert (
        eurusd.digits,
        eurusd.contract_size,
        eurusd.volume_min,
        eurusd.volume_max,
        eurusd.volume_step,
    ) == (5, 100000, 0.01, 100, 0.01)
    assert eurusd.check_lots(0.1) is None and eurusd.check_lots(0.105) and eurusd.check_lots(0.001)
    with pytest.raises(ConfigError, match=r"no symbol 'XAUUSD'; known: \["):
        broker.symbol("XAUUSD")
    flat = BrokerConfig.from_dict(
        {"leverage": 100, "symbols": {"EURUSD": {"digits": 5, "tick_value": 1.0}}}
    )
    assert flat.leverage == 100 and flat.symbol("EURUSD").tick_value == 1.0
    with pytest.raises(
        ConfigError, match=r"b\.json: broker_info\.leverage \(or leverage\) is required"
    ):
        BrokerConfig.from_json(write(tmp_path, {"symbols": {"EURUSD": {}}}, "b.json"))
    with pytest.raises(ConfigError, match=r"b\.json: symbols\.EURUSD\.digits"):
        BrokerConfig.from_json(
            write(tmp_path, {"leverage": 1, "symbols": {"EURUSD": {"digits": "5"}}}, "b.json")
        )
    with pytest.raises(FileNotFoundError):
        load_broker_config("./configs/brokers/mt5/missing.json")


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
        TickDataLoader.load_file(path)
    assert "EURUSD_ticks.csv" in str(info.value)


def test_tick_loader_sources(tmp_path):
    write(tmp_path, CSV_OK, "EURUSD_part1.csv")
    loader = TickDataLoader(tmp_path, synthetic_fallback=False)
    ticks = loader.get_ticks("EURUSD")
    assert isinstance(ticks, TickArrays) and len(ticks) == 2 and ticks.symbol == "EURUSD"
    assert ticks.timestamp[0] == to_ns("2025-09-01") and ticks.volume.tolist() == [1.0, 2.0]
    assert loader.get_ticks("EURUSD") is ticks  # cached, shared
    with pytest.raises(FileNotFoundError, match="GBPUSD"):
        loader.get_ticks("GBPUSD")
    assert len(TickDataLoader(tmp_path).get_ticks("GBPUSD")) > 1000  # synthetic fallback
    df = loader.load_symbol_data("EURUSD", "2025-09-01T00:00:01Z", "2025-09-02")
    assert len(df) == 1 and list(df.columns) == ["timestamp", "bid", "ask", "volume"]


def test_parquet_round_trip(tmp_path):
    ticks = synthetic_ticks("EURUSD", days=1)
    ticks.to_dataframe().to_parquet(tmp_path / "EURUSD_x.parquet")
    back = TickDataLoader.load_file(tmp_path / "EURUSD_x.parquet")
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
        worker_statistics={},
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
    manager.update_live_stats(0, ticks_processed=50, total_trades=2, portfolio_value=10005.0)
    live = manager.get_live_scenario_stats(0)
    assert (live.status, live.progress_percent, live.total_trades, live.portfolio_value) == (
        ScenarioStatus.RUNNING,
        25.0,
        2,
        10005.0,
    )
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
