"""Scenarios on the C engine, prepared and reported as the batch_orchestrator
API prepares and reports them.

A scenario goes through the API's steps, in the API's order, each failing
the scenario with its own error:

1. the trade simulator's broker file (``trade_simulator_config.
   broker_config_path``, required) and initial balance;
2. the workers, made by the API's factory rules from ``worker_instances``
   and ``workers`` (CORE types here, USER types imported from the user's
   project, see :mod:`fastpar.framework`);
3. the decision logic, from ``decision_logic_type`` and
   ``decision_logic_config``;
4. the broker's support for the order types the logic needs;
5. the logic's required worker instances, each of exactly its type;
6. the window's ticks, from the data worker (:func:`fastpar.ticks.
   prepare_window`), and the warm-up bars (:mod:`fastpar.bars`);
7. the tick loop: the C engine (``src/_fastpar/scenario.c``, defined by
   :mod:`fastpar.reference.scenario`), with the GIL released; USER parts run
   in Python from the engine's hook (:mod:`fastpar.user_parts`).

- :func:`run_scenario` runs one scenario on the calling thread.
- :func:`run_scenarios` runs many as one job of the native pool, one task
  per scenario; a scenario that fails gives a :class:`ScenarioError` in its
  slot while the others still return results.
"""

from __future__ import annotations

import math
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from . import _fastpar
from ._numbers import finite_real
from .bars import BAR_DTYPE, BarFiles, InsufficientWarmupDataError, warmup_bars
from .framework import Framework, camel_case
from .performance import (
    BatchPerformanceStats,
    CostBreakdown,
    DecisionLogicPerformanceStats,
    ExecutionStats,
    PortfolioStats,
    ScenarioPerformanceStats,
    WorkerPerformanceStats,
)
from .scenario_config import (
    BrokerConfig,
    ScenarioConfigLoader,
    load_broker_config,
    timeframe_minutes,
)
from .ticks import TickArrays, TickArraysData, Window, load_file, prepare_window

__all__ = [
    "BAR_DTYPE",
    "KernelSpec",
    "ScenarioError",
    "ScenarioResult",
    "prepare_scenario",
    "run_scenario",
    "run_scenarios",
]

SAMPLE_SIGNALS = 10
BAR_HISTORY_LIMIT = 1000
MAX_TIMEFRAMES = 8
MAX_WORKERS = 32

# scenario.h's enums.
RSI, ENVELOPE, MACD, USER = 0, 1, 2, 3
SIMPLE_CONSENSUS, AGGRESSIVE_TREND, USER_LOGIC = 0, 1, 2
BUY, SELL = 1, -1
PENDING, EXECUTED, REJECTED, FILL_REJECTED = 0, 1, 2, 3
_DIRECTION = {BUY: "BUY", SELL: "SELL"}

# Status codes of fp_scenario_run (status.h, scenario.h).
_STATUS_TEXT = {
    1: "invalid scenario description",
    2: "out of memory",
    3: "tick data contains NaN or inf",
    4: "cancelled",
    6: "tick timestamps are not sorted",
    7: "the scenario window holds no tick",
    8: "tick timestamp out of range (NaT?)",
    10: "a Python part of the scenario failed",
}
_EHOOK, _ESYMBOL, _EWORKER = 10, 9, 11


class ScenarioError(ValueError):
    """One scenario could not run; ``status`` is the engine's status code
    (0 when the scenario failed before reaching the engine)."""

    def __init__(self, message: str, status: int = 0):
        super().__init__(message)
        self.status = status


class KernelSpec(NamedTuple):
    """One scenario as the C engine reads it (scenario.h's fp_scenario, in
    this field order; the glue parses it as a tuple)."""

    timeframes: tuple  # ((minutes, rendered, in_history, warm-up BAR_DTYPE array), ...)
    workers: tuple  # ((kind, timeframe, period, deviation, fast, slow, heavy, load_ms), ...)
    logic: int
    th: tuple  # four thresholds, see scenario.h
    min_confidence: float
    lot_size: float
    min_free_margin: float
    rsi_worker: int
    envelope_worker: int
    symbol_known: bool
    digits: int
    tick_value: float
    leverage: float
    margin_contract_size: float
    margin_price: float
    volume_min: float
    volume_max: float
    volume_step: float
    trade_allowed: bool
    initial_balance: float
    api_latency_seed: int = 42
    market_execution_seed: int = 123
    # sum() over positions: CPython 3.12+ compensates, as the API's own
    # sums then do on this interpreter.
    compensated_sum: bool = sys.version_info >= (3, 12)


# ===========================================================================
# CORE workers and decision logics, made by the API's factory rules
# ===========================================================================


@dataclass
class CoreWorker:
    """A CORE worker instance: its parameters as the API's worker class
    reads them (``parameters.get(key) or default``: a 0 or null takes the
    default)."""

    name: str
    worker_type: str
    class_name: str
    parameters: dict
    kind: int
    timeframe: str
    period: int = 0
    deviation: float = 0.0
    fast: int = 0
    slow: int = 0
    heavy: bool = False
    artificial_load_ms: float = 0.0

    def get_warmup_requirements(self) -> dict[str, int]:
        return {self.timeframe: self.slow + 10 if self.kind == MACD else self.period}

    def get_required_timeframes(self) -> list[str]:
        return [self.timeframe]


def _or(params, key, default):
    return params.get(key) or default


def _make_rsi(name, wtype, cls, p, heavy):
    return CoreWorker(name, wtype, cls, p, RSI, _or(p, "timeframe", "M5"), _or(p, "period", 14),
                      heavy=heavy,
                      artificial_load_ms=_or(p, "artificial_load_ms", 5.0) if heavy else 0.0)


def _make_envelope(name, wtype, cls, p, heavy):
    return CoreWorker(name, wtype, cls, p, ENVELOPE, _or(p, "timeframe", "M5"),
                      _or(p, "period", 20), _or(p, "deviation", 0.02), heavy=heavy,
                      artificial_load_ms=_or(p, "artificial_load_ms", 8.0) if heavy else 0.0)


def _make_macd(name, wtype, cls, p, heavy):
    return CoreWorker(name, wtype, cls, p, MACD, _or(p, "timeframe", "M5"), fast=_or(p, "fast", 12),
                      slow=_or(p, "slow", 26), heavy=True,
                      artificial_load_ms=_or(p, "artificial_load_ms", 6.0))


# type -> (class name, required parameters, optional parameters, maker)
CORE_WORKERS = {
    "CORE/rsi": ("RSIWorker", {"period": int, "timeframe": str}, {}, _make_rsi),
    "CORE/envelope": ("EnvelopeWorker", {},
                      {"period": 20, "deviation": 0.02, "timeframe": "M5"}, _make_envelope),
    "CORE/heavy_rsi": ("HeavyRSIWorker", {"period": int, "timeframe": str},
                       {"artificial_load_ms": 5.0}, _make_rsi),
    "CORE/heavy_envelope": ("HeavyEnvelopeWorker", {},
                            {"period": 20, "deviation": 0.02, "timeframe": "M5",
                             "artificial_load_ms": 8.0}, _make_envelope),
    "CORE/heavy_macd": ("HeavyMACDWorker", {},
                        {"fast": 12, "slow": 26, "signal": 9, "timeframe": "M5",
                         "artificial_load_ms": 6.0}, _make_macd),
}

# The parameters each CORE logic reads (decision_logic_config.get(key,
# default)), and the worker instances both need.
CORE_LOGICS = {
    "CORE/simple_consensus": ("SimpleConsensus", SIMPLE_CONSENSUS, {
        "rsi_oversold": 30, "rsi_overbought": 70, "envelope_lower_threshold": 0.3,
        "envelope_upper_threshold": 0.7, "min_confidence": 0.5, "min_free_margin": 1000,
        "lot_size": 0.1}),
    "CORE/aggressive_trend": ("AggressiveTrend", AGGRESSIVE_TREND, {
        "rsi_buy_threshold": 35, "rsi_sell_threshold": 65, "envelope_extremes": 0.25,
        "min_confidence": 0.4, "min_free_margin": 1000, "lot_size": 0.1}),
}
CORE_REQUIRED_INSTANCES = {"rsi_fast": "CORE/rsi", "envelope_main": "CORE/envelope"}


@dataclass
class CoreLogic:
    name: str
    logic_type: str
    class_name: str
    kind: int
    config: dict
    params: dict

    def get_required_worker_instances(self) -> dict[str, str]:
        return dict(CORE_REQUIRED_INSTANCES)

    def get_required_order_types(self) -> list:
        return ["market"]


def _check_int_param(where, key, value, low=1):
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= 100_000:
        raise ValueError(f"{where}: {key} must be an integer in [{low}, 100000], got {value!r}")
    return value


def _check_number(where, key, value):
    if not isinstance(value, (int, float)) or not finite_real(value):
        raise ValueError(f"{where}: {key} must be a finite number, got {value!r}")
    return value


def _create_worker(framework, name, worker_type, config):
    """One worker by the API's factory: resolve the type, check required
    parameters (present, of their type), merge the optional defaults."""
    if not isinstance(worker_type, str):
        raise ValueError(f"Unknown worker type: {worker_type!r}")
    if worker_type in CORE_WORKERS:
        cls_name, required, optional, maker = CORE_WORKERS[worker_type]
        get_required, get_optional = (lambda: required), (lambda: optional)
    elif worker_type.startswith("USER/"):
        user_cls = _load_user_class(framework, "workers", worker_type, suffix="Worker")
        get_required = user_cls.get_required_parameters
        get_optional = user_cls.get_optional_parameters
    elif worker_type.startswith("BLACKBOX/"):
        raise NotImplementedError(f"BLACKBOX workers are not supported: {worker_type!r}")
    else:
        raise ValueError(f"Unknown worker type: {worker_type}. Available workers: "
                         f"{sorted(CORE_WORKERS)} and USER/<name>")
    if not isinstance(config, dict):
        raise ValueError(f"parameters of {name!r} must be an object, got {config!r}")
    missing = [k for k in get_required() if k not in config]
    if missing:
        raise ValueError(f"Worker '{worker_type}' missing required parameters: "
                         f"{', '.join(missing)}")
    wrong = [f"{k} (expected {t.__name__}, got {type(config[k]).__name__})"
             for k, t in get_required().items() if not isinstance(config[k], t)]
    if wrong:
        raise ValueError(f"Worker '{worker_type}' has wrong parameter types: {', '.join(wrong)}")
    merged = {**get_optional(), **config}
    if worker_type not in CORE_WORKERS:
        return user_cls(name=name, parameters=merged)
    worker = maker(name, worker_type, cls_name, merged, worker_type.startswith("CORE/heavy"))
    where = f"worker {name!r} ({worker_type})"
    if not isinstance(worker.timeframe, str):
        raise ValueError(f"{where}: timeframe must be a string, got {worker.timeframe!r}")
    if worker.kind == MACD:
        _check_int_param(where, "fast", worker.fast)
        _check_int_param(where, "slow", worker.slow)
    else:
        _check_int_param(where, "period", worker.period)
    _check_number(where, "deviation", worker.deviation)
    _check_number(where, "artificial_load_ms", worker.artificial_load_ms)
    if worker.artificial_load_ms < 0:
        raise ValueError(f"{where}: artificial_load_ms must be >= 0")
    return worker


def create_workers(strategy_config: dict, framework: Framework) -> dict:
    """The API's WorkerFactory.create_workers_from_config: name -> worker."""
    instances = strategy_config.get("worker_instances", {})
    configs = strategy_config.get("workers", {})
    if not instances:
        raise ValueError("No worker_instances specified in strategy_config")
    if not isinstance(instances, dict) or not isinstance(configs, dict):
        raise ValueError("worker_instances and workers must be objects")
    workers = {}
    for name, worker_type in instances.items():
        try:
            workers[name] = _create_worker(framework, name, worker_type, configs.get(name, {}))
        except Exception as e:  # noqa: BLE001 - the API wraps every creation error
            raise ValueError(f"Worker creation failed for {name} ({worker_type}): {e}") from e
    return workers


def create_logic(strategy_config: dict, framework: Framework):
    """The API's DecisionLogicFactory.create_logic_from_strategy_config."""
    logic_type = strategy_config.get("decision_logic_type")
    if not logic_type:
        raise ValueError("No decision_logic_type specified in strategy_config")
    config = strategy_config.get("decision_logic_config", {})
    if not isinstance(config, dict):
        raise ValueError(f"decision_logic_config must be an object, got {config!r}")
    if not isinstance(logic_type, str) or "/" not in logic_type:
        raise ValueError(f"Invalid logic type format: {logic_type}. "
                         "Expected 'NAMESPACE/logic_name' (e.g., 'USER/my_strategy')")
    name = logic_type.split("/", 1)[1]
    if logic_type in CORE_LOGICS:
        class_name, kind, defaults = CORE_LOGICS[logic_type]
        params = {}
        for key, default in defaults.items():
            params[key] = _check_number(f"{logic_type}: decision_logic_config", key,
                                        config.get(key, default))
        return CoreLogic(name, logic_type, class_name, kind, config, params)
    if logic_type.startswith("USER/"):
        cls = _load_user_class(framework, "decision_logic", logic_type, suffix=None)
        return cls(name=name, config=config)
    if logic_type.startswith("BLACKBOX/"):
        raise NotImplementedError(f"BLACKBOX decision logics are not supported: {logic_type!r}")
    raise ValueError(f"Unknown namespace: {logic_type.split('/', 1)[0]}")


def _load_user_class(framework: Framework, kind: str, type_name: str, suffix: str | None):
    """``USER/<name>``: the class ``<Name>[<suffix>]`` in
    ``<package>.<kind>.user.<name>``."""
    import importlib

    name = type_name.split("/", 1)[1]
    module_path = f"{framework.user_package}.{kind}.user.{name}"
    class_name = camel_case(name)
    if suffix and not class_name.endswith(suffix):
        class_name += suffix
    try:
        return getattr(importlib.import_module(module_path), class_name)
    except (ImportError, AttributeError) as e:
        raise ValueError(f"Failed to load custom {kind.replace('_', ' ')} {type_name}: {e}") from e


def _worker_type_label(worker) -> str:
    """The API's performance log's worker type: ``parameters["worker_type"]``
    or ``CORE/`` + the class name without ``Worker``, lowercased."""
    params = getattr(worker, "parameters", None)
    if isinstance(params, dict) and "worker_type" in params:
        return params["worker_type"]
    name = worker.class_name if isinstance(worker, CoreWorker) else type(worker).__name__
    return f"CORE/{name.replace('Worker', '').lower()}"


# ===========================================================================
# Preparing one scenario
# ===========================================================================


def _get(scenario, key, default=None):
    if isinstance(scenario, dict):
        return scenario.get(key, default)
    return getattr(scenario, key, default)


def scenario_name(scenario) -> str:
    name = _get(scenario, "name")
    if name:
        return str(name)
    return f"{_get(scenario, 'symbol')}_{_get(scenario, 'start_date')}_{_get(scenario, 'end_date')}"


class BrokerFiles:
    """Broker files read once each (thread-safe): a batch shares them."""

    def __init__(self):
        self._lock = threading.Lock()
        self._loaded: dict = {}

    def get(self, path) -> BrokerConfig:
        key = str(path)
        with self._lock:
            cached = self._loaded.get(key)
        if cached is None:
            cached = BrokerConfig.from_json(path)
            with self._lock:
                self._loaded[key] = cached
        return cached


def scenario_broker(scenario, broker=None, brokers: BrokerFiles | None = None) -> BrokerConfig:
    """The scenario's broker: ``broker`` (a BrokerConfig, a broker dict or a
    path) if given, else its ``trade_simulator_config.broker_config_path``
    (required, as in the API)."""
    if isinstance(broker, BrokerConfig):
        return broker
    if isinstance(broker, dict):
        return BrokerConfig.from_dict(broker)
    if broker is not None:
        return load_broker_config(broker)
    ts_config = _get(scenario, "trade_simulator_config") or {}
    path = ts_config.get("broker_config_path") if isinstance(ts_config, dict) else None
    if path is None:
        raise ValueError(
            "No broker_config_path specified in trade_simulator_config (e.g. "
            "'global.trade_simulator_config.broker_config_path': "
            "'./configs/brokers/mt5/ic_markets_demo.json')")
    if not isinstance(path, (str, Path)):
        raise ValueError(f"broker_config_path must be a path, got {path!r}")
    return brokers.get(path) if brokers is not None else BrokerConfig.from_json(path)


@dataclass
class PreparedScenario:
    """A scenario ready for the engine, and what its result needs."""

    name: str
    symbol: str
    initial_balance: Any
    window: Window
    spec: KernelSpec
    workers: dict
    logic: Any
    timeframes: list[str]
    requirement: dict
    parallel_workers: bool
    broker_info: dict = field(default_factory=dict)  # the symbol's broker entry
    runtime: Any = None  # fastpar.user_parts.UserRuntime for USER parts
    live_account: Any = None  # what a performance log reads while it runs

    @property
    def hook(self):
        return None if self.runtime is None else self.runtime.step


def requirement_of(workers: dict) -> dict:
    """The API's per-scenario requirement: warm-up bars per timeframe (the
    largest a worker asks), all timeframes, the worker count."""
    by_tf, reqs, timeframes = {}, [], set()
    for w in workers.values():
        r = w.get_warmup_requirements()
        reqs.append(r)
        timeframes.update(w.get_required_timeframes())
        for tf, n in r.items():
            by_tf[tf] = max(by_tf.get(tf, 0), n)
    return {
        "max_warmup_bars": max([max(r.values()) for r in reqs if r], default=50),
        "all_timeframes": list(timeframes),
        "warmup_by_timeframe": by_tf,
        "total_workers": len(workers),
    }


def _rendered_timeframes(workers: dict) -> list[str]:
    """The timeframes the API's bar renderer builds: each worker's
    ``required_timeframes`` or ``timeframe`` attribute; M1 if none."""
    out: list[str] = []
    for w in workers.values():
        names = getattr(w, "required_timeframes", None)
        if names is None:
            names = [w.timeframe] if hasattr(w, "timeframe") else []
        out.extend(n for n in names if n not in out)
    return out or ["M1"]


def _bar_source(data_worker):
    return getattr(data_worker, "bar_source", None) or BarFiles(Path("./data/processed/"))


def prepare_scenario(scenario, data_worker, *, broker=None, brokers=None, framework=None,
                     bar_source=None, on_step=None) -> PreparedScenario:
    """Every step of the API's scenario set-up before its tick loop, in its
    order; raises the first step's error. ``on_step(step, value)``, if
    given, is told of the steps a live display follows: "broker" (the
    initial balance), "data" (loading starts), "window" (its tick count),
    "warmup" (bars loaded)."""
    step = on_step or (lambda _step, _value: None)
    name = scenario_name(scenario)
    symbol = _get(scenario, "symbol")
    strategy = _get(scenario, "strategy_config") or {}
    ts_config = _get(scenario, "trade_simulator_config") or {}
    if not isinstance(strategy, dict) or not isinstance(ts_config, dict):
        raise ValueError("strategy_config and trade_simulator_config must be objects")
    if not isinstance(symbol, str) or not symbol:
        raise ValueError(f"symbol must be a non-empty string, got {symbol!r}")

    broker_config = scenario_broker(scenario, broker, brokers)  # 1
    initial_balance = ts_config.get("initial_balance", 10000.0)
    _check_number(name, "initial_balance", initial_balance)
    step("broker", initial_balance)

    framework = framework or Framework.fastpar_own()
    try:  # 2
        workers = create_workers(strategy, framework)
    except Exception as e:  # noqa: BLE001
        raise ValueError(f"Worker creation failed: {e}") from e
    user_classes = [type(w) for w in workers.values() if not isinstance(w, CoreWorker)]
    try:  # 3
        logic = create_logic(strategy, framework)
    except Exception as e:  # noqa: BLE001
        raise ValueError(f"Decision logic creation failed: {e}") from e
    if not isinstance(logic, CoreLogic):
        user_classes.append(type(logic))
    if user_classes and framework.root is None:
        framework = Framework.of(*user_classes)

    for order_type in logic.get_required_order_types():  # 4
        if not broker_config.capabilities.supports_order_type(_order_type(order_type)):
            raise ValueError(
                f"Broker does not support required order types: broker "
                f"{broker_config.name!r} does not support {getattr(order_type, 'value', order_type)}")

    requirement = requirement_of(workers)
    exec_config = _get(scenario, "execution_config") or {}
    parallel = exec_config.get("parallel_workers") if isinstance(exec_config, dict) else None
    parallel_workers = len(workers) >= 4 if parallel is None else bool(parallel)
    _check_logic_requirements(logic, strategy, workers)  # 5

    step("data", None)
    window = prepare_window(  # 6
        data_worker, symbol, _get(scenario, "start_date"), _get(scenario, "end_date"),
        _get(scenario, "max_ticks"), _get(scenario, "data_mode", "realistic"),
        requirement["warmup_by_timeframe"], name)
    step("window", len(window))
    bars = bar_source or _bar_source(data_worker)
    from datetime import datetime

    start = datetime.fromisoformat(_get(scenario, "start_date"))
    warm = {}
    for tf, needed in requirement["warmup_by_timeframe"].items():
        if isinstance(needed, bool) or not isinstance(needed, int) or needed < 0:
            raise InsufficientWarmupDataError(f"{tf}: warm-up bars must be a count, got {needed!r}")
        warm[tf] = warmup_bars(bars.bars(symbol, tf), start, needed, symbol=symbol, timeframe=tf)
    step("warmup", None)

    rendered = _rendered_timeframes(workers)
    timeframes = rendered + [tf for tf in warm if tf not in rendered]
    if len(timeframes) > MAX_TIMEFRAMES or len(workers) > MAX_WORKERS:
        raise ValueError(f"a scenario has at most {MAX_TIMEFRAMES} timeframes and {MAX_WORKERS} "
                         f"workers, this one {len(timeframes)} and {len(workers)}")
    tf_specs = tuple(
        (timeframe_minutes(tf), tf in rendered, tf in warm,
         np.ascontiguousarray(warm.get(tf, np.empty(0, BAR_DTYPE)), dtype=BAR_DTYPE))
        for tf in timeframes)
    names = list(workers)
    worker_specs = tuple(
        (w.kind, timeframes.index(w.timeframe), w.period, float(w.deviation), w.fast, w.slow,
         w.heavy, float(w.artificial_load_ms)) if isinstance(w, CoreWorker)
        else (USER, -1, 0, 0.0, 0, 0, False, 0.0)
        for w in workers.values())
    if isinstance(logic, CoreLogic):
        p = logic.params
        if logic.kind == SIMPLE_CONSENSUS:
            th = (p["rsi_oversold"], p["rsi_overbought"], p["envelope_lower_threshold"],
                  p["envelope_upper_threshold"])
        else:
            th = (p["rsi_buy_threshold"], p["rsi_sell_threshold"], p["envelope_extremes"], 0.0)
        logic_fields = (logic.kind, tuple(float(v) for v in th), float(p["min_confidence"]),
                        float(p["lot_size"]), float(p["min_free_margin"]),
                        names.index("rsi_fast"), names.index("envelope_main"))
    else:
        logic_fields = (USER_LOGIC, (0.0, 0.0, 0.0, 0.0), 0.0, 0.0, 0.0, -1, -1)
    b = broker_config.kernel_fields(symbol)
    spec = KernelSpec(
        tf_specs, worker_specs, *logic_fields, b["symbol_known"], b["digits"], b["tick_value"],
        b["leverage"], b["margin_contract_size"], b["margin_price"], b["volume_min"],
        b["volume_max"], b["volume_step"], b["trade_allowed"], float(initial_balance))
    prepared = PreparedScenario(name, symbol, initial_balance, window, spec, workers, logic,
                                timeframes, requirement, parallel_workers,
                                broker_config.symbols.get(symbol, {}))
    if any(not isinstance(w, CoreWorker) for w in workers.values()) or not isinstance(
            logic, CoreLogic):
        from .user_parts import UserRuntime

        prepared.runtime = UserRuntime(prepared, framework, broker_config,
                                       ts_config.get("currency", "EUR"))
    return prepared


def _order_type(value):
    """An order type of any framework (or its value) as fastpar's."""
    from .framework import OrderType

    return OrderType(getattr(value, "value", value))


def _check_logic_requirements(logic, strategy: dict, workers: dict) -> None:
    """The API's WorkerCoordinator check: each instance the logic requires
    is configured with exactly its type, and was created."""
    required = logic.get_required_worker_instances()
    if not required:
        return
    configured = strategy.get("worker_instances", {})
    errors = []
    for instance, worker_type in required.items():
        if instance not in configured:
            errors.append(f"Missing '{instance}' in worker_instances. "
                          "DecisionLogic requires this instance.")
        elif configured[instance] != worker_type:
            errors.append(f"Type mismatch for '{instance}': DecisionLogic requires "
                          f"'{worker_type}', but config has '{configured[instance]}'. "
                          "Type override not allowed!")
        elif instance not in workers:
            errors.append(f"Worker '{instance}' configured but not created.")
    if errors:
        cls = logic.class_name if isinstance(logic, CoreLogic) else type(logic).__name__
        raise ValueError(f"DecisionLogic '{cls}' validation failed:\n"
                         + "\n".join(f"  - {e}" for e in errors))


# ===========================================================================
# Results
# ===========================================================================

# Columns of the engine's order and trade tables (module.c).
(_OI_NUMBER, _OI_PENDING, _OI_DIRECTION, _OI_STATUS, _OI_REJECT, _OI_PLACED, _OI_FILL_AT,
 _OI_FILLED, _OI_POSITION, _OI_RSI_HIT, _OI_ENV_HIT) = range(11)
(_OF_LOTS, _OF_PRICE, _OF_SPREAD, _OF_VALUE, _OF_VALUE2, _OF_CONFIDENCE, _OF_RSI,
 _OF_POSITION, _OF_MID) = range(9)
_STATUS_NAME = {PENDING: "pending", EXECUTED: "executed", REJECTED: "rejected",
                FILL_REJECTED: "rejected_at_fill"}
_ORDER_TYPE_NAMES = ("MARKET", "LIMIT", "STOP", "STOP_LIMIT", "TRAILING_STOP", "ICEBERG")

# The API's RejectionReason of each refusal (scenario.h's enum fp_reject):
# a symbol not tradeable fails the broker's order validation, as a bad lot
# size does.
_REJECT_REASON = {1: "invalid_lot_size", 2: "invalid_lot_size", 3: "invalid_lot_size",
                  4: "invalid_lot_size", 5: "insufficient_margin", 6: "insufficient_margin",
                  7: "order_type_not_supported"}


@dataclass(frozen=True)
class OrderRecord:
    """One send_order call. ``order_id`` is the id the API reports for it:
    ``ord_<n>`` once pending, ``order_<n>`` if refused when sent."""

    order_id: str
    direction: str
    lots: float
    status: str
    placed_tick: int
    fill_at_tick: int | None
    filled_tick: int | None
    fill_price: float | None
    spread_cost: float | None
    position_id: str | None
    rejection_reason: str | None  # the API's RejectionReason value
    rejection: str | None  # its message


@dataclass(frozen=True)
class ClosedTrade:
    position_id: str
    direction: str
    lots: float
    entry_price: float
    exit_price: float
    entry_tick: int
    exit_tick: int
    spread_cost: float
    pnl: float
    reason: str  # "decision" or "end_of_scenario"


def _orders(ints, floats, texts):
    out = []
    for o, f in zip(ints.tolist(), floats.tolist()):
        status = o[_OI_STATUS]
        pending = o[_OI_PENDING]
        filled = status == EXECUTED
        refused = status in (REJECTED, FILL_REJECTED)
        out.append(OrderRecord(
            f"ord_{pending}" if pending else f"order_{o[_OI_NUMBER]}",
            _DIRECTION[o[_OI_DIRECTION]], f[_OF_LOTS], _STATUS_NAME[status], o[_OI_PLACED],
            o[_OI_FILL_AT] or None, o[_OI_FILLED] if filled else None,
            f[_OF_PRICE] if filled else None, f[_OF_SPREAD] if filled else None,
            f"pos_{o[_OI_POSITION]}" if filled else None,
            _REJECT_REASON[o[_OI_REJECT]] if refused else None,
            texts(o[_OI_REJECT], f) if refused else None))
    return out


class _RejectionTexts:
    """The API's refusal messages, with the numbers as the configuration
    wrote them (``Lot size 1 ...`` for an integer 1). Picklable."""

    def __init__(self, prep, broker_info: dict):
        logic = prep.logic
        self.lots = logic.params["lot_size"] if isinstance(logic, CoreLogic) else None
        self.symbol = prep.symbol
        self.limits = {k: broker_info.get(k, d) for k, d in
                       (("volume_min", 0.01), ("volume_max", 100.0), ("volume_step", 0.01))}

    def __call__(self, code, f) -> str:
        lots = self.lots if self.lots is not None else f[_OF_LOTS]
        v1, v2 = f[_OF_VALUE], f[_OF_VALUE2]
        if code == 1:
            return f"Trading not allowed for {self.symbol}"
        if code == 2:
            return f"Lot size {lots} below minimum {self.limits['volume_min']}"
        if code == 3:
            return f"Lot size {lots} exceeds maximum {self.limits['volume_max']}"
        if code == 4:
            return f"Lot size {lots} not aligned with step {self.limits['volume_step']}"
        if code == 5:
            return f"Insufficient margin: need ~{v1:.2f}"
        if code == 6:
            return f"Required margin {v1:.2f} exceeds free margin {v2:.2f}"
        if v1 == 1:  # code 7, a limit order
            return "Limit orders not implemented in MVP"
        return f"Order type OrderType.{_ORDER_TYPE_NAMES[int(v1)]} not implemented in MVP"


def _trades(ints, floats):
    return [
        ClosedTrade(f"pos_{pid}", _DIRECTION[d], lots, entry, exit_, entry_tick, exit_tick,
                    spread, pnl, "end_of_scenario" if reason else "decision")
        for (pid, d, reason, entry_tick, exit_tick), (lots, entry, exit_, spread, pnl)
        in zip(ints.tolist(), floats.tolist())
    ]


class _Deferred:
    """A list not built yet: ``build(*args)`` makes it. Picklable (a
    module-level function and arrays), so a result crosses processes as its
    compact tables."""

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


@dataclass
class ScenarioResult:
    """Everything one scenario produced. :meth:`to_performance_stats` gives
    the API's ScenarioPerformanceStats. ``trades`` and ``orders`` stay the
    engine's number tables until first read: making a Python object per
    order holds the GIL, which threads running scenarios share."""

    scenario_name: str
    symbol: str
    ticks_processed: int
    signals_generated: int
    signals_gen_buy: int
    signals_gen_sell: int
    signal_rate: float
    portfolio_value: float
    initial_balance: Any
    decision_logic_name: str
    decision_logic_type: str
    decision_counts: dict
    sample_signals: list
    portfolio_stats: PortfolioStats
    execution_stats: ExecutionStats
    cost_breakdown: CostBreakdown
    worker_statistics: BatchPerformanceStats
    scenario_requirement: dict
    warmup_bars: dict  # completed bars per timeframe before the first tick
    elapsed_time: float = 0.0
    user_time: float = 0.0  # seconds spent in the scenario's USER Python code
    profiling_data: dict = field(default_factory=dict)
    trades: list = field(default_factory=list, repr=False)
    orders: list = field(default_factory=list, repr=False)

    def to_performance_stats(self, scenario_index: int, types=None):
        """The API's ScenarioPerformanceStats; ``types`` is a namespace of
        the result classes to build (the user's framework's), else
        fastpar's."""
        t = types
        mk = (lambda name, default: getattr(t, name, default)) if t is not None else (
            lambda name, default: default)
        P, E, C = mk("PortfolioStats", PortfolioStats), mk("ExecutionStats", ExecutionStats), \
            mk("CostBreakdown", CostBreakdown)
        ws = self.worker_statistics
        WS, DS, BS = (mk("WorkerPerformanceStats", WorkerPerformanceStats),
                      mk("DecisionLogicPerformanceStats", DecisionLogicPerformanceStats),
                      mk("BatchPerformanceStats", BatchPerformanceStats))
        batch = BS(
            scenario_name=ws.scenario_name, ticks_processed=ws.ticks_processed,
            parallel_mode=ws.parallel_mode, total_workers=ws.total_workers,
            total_worker_calls=ws.total_worker_calls,
            workers={k: WS(**vars(v)) for k, v in ws.workers.items()},
            parallel_time_saved_ms=ws.parallel_time_saved_ms,
            parallel_avg_saved_per_tick_ms=ws.parallel_avg_saved_per_tick_ms,
            parallel_status=ws.parallel_status,
            decision_logic=DS(**vars(ws.decision_logic)))
        return mk("ScenarioPerformanceStats", ScenarioPerformanceStats)(
            scenario_index=scenario_index,
            scenario_name=self.scenario_name,
            symbol=self.symbol,
            ticks_processed=self.ticks_processed,
            signals_generated=self.signals_generated,
            signals_gen_buy=self.signals_gen_buy,
            signals_gen_sell=self.signals_gen_sell,
            signal_rate=self.signal_rate,
            success=True,
            portfolio_value=self.portfolio_value,
            initial_balance=self.initial_balance,
            elapsed_time=self.elapsed_time,
            worker_statistics=batch,
            decision_logic_name=self.decision_logic_name,
            scenario_requirement=self.scenario_requirement,
            sample_signals=list(self.sample_signals),
            portfolio_stats=P(**vars(self.portfolio_stats)),
            execution_stats=E(**vars(self.execution_stats)),
            cost_breakdown=C(**vars(self.cost_breakdown)),
            profiling_data=dict(self.profiling_data),
        )


# Built on first read (the dataclass's __init__ stores through the setters).
ScenarioResult.trades = _deferred_field("trades")
ScenarioResult.orders = _deferred_field("orders")


def _iso(ns: int) -> str:
    """A tick's time as the API's TickData.timestamp.isoformat() (naive)."""
    from datetime import datetime, timedelta

    seconds, rest = divmod(int(ns), 1_000_000_000)
    return (datetime(1970, 1, 1) + timedelta(seconds=seconds, microseconds=rest // 1000)
            ).isoformat()


def _core_reason(prep: PreparedScenario, action, rsi, pos, rsi_hit, env_hit) -> str:
    if prep.logic.kind == SIMPLE_CONSENSUS:
        if action == "BUY":
            return f"RSI={rsi:.1f} (oversold) + Envelope={pos:.2f} (lower)"
        return f"RSI={rsi:.1f} (overbought) + Envelope={pos:.2f} (upper)"
    parts = ([f"RSI={rsi:.1f}"] if rsi_hit else []) + ([f"Envelope={pos:.2f}"] if env_hit else [])
    return " OR ".join(parts) + " (aggressive)"


def build_result(prep: PreparedScenario, r: dict, elapsed: float) -> ScenarioResult:
    """A ScenarioResult from the engine's result dict."""
    oi, of = r["order_ints"], r["order_floats"]
    n = r["ticks_processed"]
    runtime = prep.runtime
    if runtime is not None and not isinstance(prep.logic, CoreLogic):
        signals = runtime.sample_signals
        decisions = runtime.decision_counts
    else:
        # The first SAMPLE_SIGNALS orders that became pending (refused
        # orders never did) lie among the first rows.
        signals = []
        for i in range(len(oi)):
            if len(signals) == SAMPLE_SIGNALS:
                break
            o = oi[i].tolist()
            if not o[_OI_PENDING]:
                continue
            f = of[i].tolist()
            action = _DIRECTION[o[_OI_DIRECTION]]
            signals.append({
                "action": action,
                "confidence": f[_OF_CONFIDENCE],
                "reason": _core_reason(prep, action, f[_OF_RSI], f[_OF_POSITION],
                                       o[_OI_RSI_HIT], o[_OI_ENV_HIT]),
                "price": f[_OF_MID],
                "timestamp": _iso(prep.window.timestamp[o[_OI_PLACED] - 1]),
                "order_id": f"ord_{o[_OI_PENDING]}",
                "executed_price": None,
                "lot_size": None,
            })
        decisions = {"BUY": r["decisions_buy"], "SELL": r["decisions_sell"],
                     "FLAT": r["decisions_flat"]}
    ntr = r["total_trades"]
    profit, loss = r["total_profit"], r["total_loss"]
    if loss > 0:
        profit_factor = profit / loss
    else:
        profit_factor = 0.0 if profit == 0 else math.inf
    # With no position ever opened the API's cost tracking still holds its
    # integer zeros.
    spread = r["portfolio_spread_cost"] if r["orders_executed"] else 0
    portfolio = PortfolioStats(
        total_trades=ntr, winning_trades=r["winning_trades"], losing_trades=r["losing_trades"],
        total_profit=profit, total_loss=loss, max_drawdown=r["max_drawdown"],
        max_equity=r["max_equity"] if ntr else prep.initial_balance,
        win_rate=r["winning_trades"] / ntr if ntr else 0.0, profit_factor=profit_factor,
        total_spread_cost=spread, total_commission=0, total_swap=0, total_fees=spread)
    user_ms = runtime.user_seconds * 1000 if runtime is not None else 0.0
    engine_ms = elapsed * 1000
    workers = {}
    for name, w in prep.workers.items():
        calls = runtime.worker_calls.get(name, n) if runtime is not None else n
        total = runtime.worker_ms.get(name, 0.0) if runtime is not None else 0.0
        workers[name] = WorkerPerformanceStats(
            worker_type=_worker_type_label(w), worker_name=name, worker_call_count=calls,
            worker_total_time_ms=round(total, 3),
            worker_avg_time_ms=round(total / calls, 3) if calls else 0.0,
            worker_min_time_ms=0.0, worker_max_time_ms=0.0)
    logic = prep.logic
    logic_type = getattr(logic, "config", {}).get("decision_logic_type") if isinstance(
        getattr(logic, "config", None), dict) else None
    if not logic_type:
        import re

        cls = logic.class_name if isinstance(logic, CoreLogic) else type(logic).__name__
        logic_type = "CORE/" + re.sub(r"(?<!^)(?=[A-Z])", "_", cls).lower()
    logic_ms = runtime.logic_ms if runtime is not None else 0.0
    worker_stats = BatchPerformanceStats(
        scenario_name=prep.name, ticks_processed=n, parallel_mode=prep.parallel_workers,
        total_workers=len(workers),
        total_worker_calls=sum(w.worker_call_count for w in workers.values()),
        workers=workers, parallel_time_saved_ms=0.0, parallel_avg_saved_per_tick_ms=0.0,
        parallel_status="≈ Equal",
        decision_logic=DecisionLogicPerformanceStats(
            logic_type=logic_type, logic_name=logic.name, decision_count=n,
            decision_buy_count=decisions["BUY"], decision_sell_count=decisions["SELL"],
            decision_total_time_ms=round(logic_ms, 3),
            decision_avg_time_ms=round(logic_ms / n, 3) if n else 0.0,
            decision_min_time_ms=0.0, decision_max_time_ms=0.0))
    if runtime is not None and not isinstance(logic, CoreLogic):
        generated, buys, sells = (runtime.signals_generated, runtime.signals_buy,
                                  runtime.signals_sell)
    else:
        buys, sells = r["signals_buy"], r["signals_sell"]
        generated = buys + sells
    spec = prep.spec
    warm = {tf: len(t[3]) for tf, t in zip(prep.timeframes, spec.timeframes) if t[2]}
    return ScenarioResult(
        scenario_name=prep.name,
        symbol=prep.symbol,
        ticks_processed=n,
        signals_generated=generated,
        signals_gen_buy=buys,
        signals_gen_sell=sells,
        signal_rate=generated / n if n else 0,
        portfolio_value=r["balance"],
        initial_balance=prep.initial_balance,
        decision_logic_name=logic.name,
        decision_logic_type=logic_type,
        decision_counts=decisions,
        sample_signals=signals,
        portfolio_stats=portfolio,
        execution_stats=ExecutionStats(
            orders_sent=r["orders_sent"], orders_executed=r["orders_executed"],
            orders_rejected=r["orders_rejected"], total_commission=0.0,
            total_spread_cost=r["execution_spread_cost"]),
        cost_breakdown=CostBreakdown(spread, 0, 0, spread),
        worker_statistics=worker_stats,
        scenario_requirement=prep.requirement,
        warmup_bars=warm,
        elapsed_time=elapsed,
        user_time=user_ms / 1000,
        profiling_data={
            "profile_times": {"worker_decision": user_ms, "total_per_tick": engine_ms},
            "profile_counts": {"worker_decision": n if user_ms else 0},
            "total_per_tick": engine_ms,
            "engine_ms": engine_ms,
            "user_python_ms": user_ms,
        },
        trades=_Deferred(_trades, r["trade_ints"], r["trade_floats"]),
        orders=_Deferred(_orders, oi, of, _RejectionTexts(prep, prep.broker_info)),
    )


def engine_error(prep: PreparedScenario, status: int, detail) -> BaseException:
    """The exception for an engine status: a USER part's own exception as
    it was raised, else a ScenarioError saying what happened."""
    if status == _EHOOK and isinstance(detail, BaseException):
        return detail
    if status == _ESYMBOL:
        return ScenarioError(f"Symbol {prep.symbol} not found in broker configuration", status)
    if status == _EWORKER:
        return ScenarioError(
            f"scenario {prep.name!r}: a CORE/heavy_envelope worker has fewer bars than its "
            "period (more than 1,000): the API cannot build its result", status)
    text = _STATUS_TEXT.get(status, detail if isinstance(detail, str) else f"status {status}")
    return ScenarioError(f"scenario {prep.name!r}: {text}", status)


# ===========================================================================
# Running
# ===========================================================================


def as_data_worker(ticks):
    """A data worker for fastpar's own entry points: an object with
    ``load_symbol_data`` is used as it is; a data directory becomes a
    :class:`fastpar.ticks.TickDataLoader`; a tick file, TickArrays, a
    DataFrame, a dict of arrays or a (timestamp, bid, ask, volume) tuple
    becomes a :class:`fastpar.ticks.TickArraysData` (the symbol taken from
    the scenario when the data has none)."""
    from .ticks import TickDataLoader

    if hasattr(ticks, "load_symbol_data"):
        return ticks
    if isinstance(ticks, (str, Path)):
        path = Path(ticks)
        if path.is_dir():
            return TickDataLoader(path)
        return TickArraysData(load_file(path))
    return ticks  # arrays: bound to a symbol by _bind


def _bind(data, symbol):
    """Arrays without a symbol become the scenario's symbol's data."""
    from .ticks import frame_timestamps

    if hasattr(data, "load_symbol_data"):
        return data
    if isinstance(data, TickArrays):
        return TickArraysData(data)
    if isinstance(data, dict):
        missing = [k for k in ("timestamp", "bid", "ask") if k not in data]
        if missing:
            raise ValueError(f"tick data: missing {missing}")
        return TickArraysData(TickArrays.from_arrays(
            data.get("symbol", symbol), data["timestamp"], data["bid"], data["ask"],
            data.get("volume"), source="tick data"))
    if hasattr(data, "columns"):
        missing = [k for k in ("bid", "ask") if k not in data.columns]
        if missing:
            raise ValueError(f"tick data: missing column(s) {missing}; found {list(data.columns)}")
        volume = data["volume"].to_numpy() if "volume" in data.columns else None
        return TickArraysData(TickArrays.from_arrays(
            symbol, frame_timestamps(data), data["bid"].to_numpy(), data["ask"].to_numpy(),
            volume, source="tick DataFrame"))
    if isinstance(data, tuple) and len(data) == 4:
        return TickArraysData(TickArrays.from_arrays(symbol, *data, source="tick tuple"))
    raise TypeError(
        "ticks must be a data worker (load_symbol_data), a data directory, a tick file, "
        f"TickArrays, a DataFrame, a dict or a (timestamp, bid, ask, volume) tuple, got "
        f"{type(data).__name__}")


def _check_scenario_object(scenario) -> None:
    if scenario is None or not (isinstance(scenario, dict) or hasattr(scenario, "symbol")):
        raise ScenarioError(f"a scenario must be a TestScenario or a dict of its fields, "
                            f"got {type(scenario).__name__}")


def run_scenario(ticks, scenario, broker=None) -> ScenarioResult:
    """Run one scenario on the C engine, on the calling thread (the GIL is
    released while the engine runs, taken back only for USER parts).

    ``ticks``: where the ticks come from (see :func:`as_data_worker`);
    ``scenario``: a :class:`~fastpar.scenario_config.TestScenario` or a
    dict; ``broker``: a BrokerConfig, dict or path instead of the
    scenario's ``broker_config_path``. Raises ScenarioError (a ValueError),
    or the error of the step that refused the scenario."""
    _check_scenario_object(scenario)
    data = _bind(as_data_worker(ticks), _get(scenario, "symbol"))
    prep = prepare_scenario(scenario, data, broker=broker)
    started = time.perf_counter()
    status, r, detail = _fastpar.run_scenario(prep.window.arrays(), prep.spec, prep.hook)
    elapsed = time.perf_counter() - started
    if status != 0:
        raise engine_error(prep, status, detail)
    return build_result(prep, r, elapsed)


def run_scenarios(ticks, scenarios, threads=None, progress=True, broker=None, *,
                  progress_counts=None):
    """Run many scenarios as one job of the native pool.

    ``ticks``: where the ticks come from (see :func:`as_data_worker`: a
    data directory, a tick file, arrays of one symbol, a data worker);
    ``scenarios``: a list of TestScenario (or dicts), or the path of a
    scenario-set JSON file. Returns one entry per scenario, in order: its
    ScenarioResult, or the exception that stopped it (the others are not
    affected).

    ``threads``: None for the pool's size; 1 runs every scenario on the
    calling thread (for callers that bring their own threads); otherwise
    the pool's threads run them and Ctrl-C stops the running scenarios
    within a fraction of a second and raises KeyboardInterrupt.
    ``progress``: a tqdm bar of ticks done. ``progress_counts``: a writable
    int64 array of len(scenarios) the engine sets to each scenario's ticks
    done so far. ``broker``: a BrokerConfig, dict or path for every
    scenario, instead of each one's ``broker_config_path``.
    """
    if isinstance(scenarios, (str, Path)):
        scenarios = ScenarioConfigLoader().load_config(scenarios)
    scenarios = list(scenarios)
    if progress_counts is not None:
        counts = progress_counts
        if (not isinstance(counts, np.ndarray) or counts.dtype != np.int64
                or counts.shape != (len(scenarios),) or not counts.flags.c_contiguous
                or not counts.flags.writeable):
            raise ValueError(
                f"progress_counts must be a writable C-contiguous int64 NumPy array of shape "
                f"({len(scenarios)},)")
        counts[:] = 0
    source = as_data_worker(ticks)
    brokers = BrokerFiles()
    bound: dict = {}  # one data worker per symbol: its warm-up bars rendered once
    out: list = [None] * len(scenarios)
    prepared = []
    for i, scenario in enumerate(scenarios):
        try:
            _check_scenario_object(scenario)
            symbol = _get(scenario, "symbol")
            data = bound.get(symbol) if isinstance(symbol, str) else None
            if data is None:
                data = _bind(source, symbol)
                if isinstance(symbol, str):
                    bound[symbol] = data
            prepared.append((i, prepare_scenario(scenario, data, broker=broker, brokers=brokers)))
        except Exception as e:  # noqa: BLE001 - one scenario's failure is its own
            out[i] = e if isinstance(e, (ValueError, KeyError, TypeError,
                                         NotImplementedError, FileNotFoundError)) else (
                ScenarioError(f"scenario {i}: {type(e).__name__}: {e}"))
    slot_counts = np.zeros(len(prepared), dtype=np.int64)
    bar = _TickBar(slot_counts, sum(len(p.window) for _, p in prepared)) if progress else None
    started = time.perf_counter()
    try:
        outcomes = _fastpar.run_scenarios([p.window.arrays() for _, p in prepared],
                                          [p.spec for _, p in prepared],
                                          [p.hook for _, p in prepared], threads, slot_counts)
    finally:
        if bar is not None:
            bar.close()
    elapsed = time.perf_counter() - started
    for slot, ((i, prep), (status, r, detail)) in enumerate(zip(prepared, outcomes, strict=True)):
        out[i] = build_result(prep, r, elapsed) if status == 0 else engine_error(prep, status,
                                                                                 detail)
        if progress_counts is not None:
            progress_counts[i] = slot_counts[slot]
    # An exception in `out` has a traceback whose frames reach this one
    # (f_back): were `out` still one of its locals, the results would be a
    # reference cycle, freed only by the cyclic GC (and on free-threaded
    # builds, later still), not by reference counting when the caller
    # drops them.
    try:
        return out
    finally:
        del out


class _TickBar:
    """A tqdm bar of ticks done, fed from the engine's progress counters by
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

