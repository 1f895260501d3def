"""Scenario sets, app configuration and broker configuration for the
batch_orchestrator API.

- :class:`TestScenario` and :class:`ScenarioConfigLoader` read scenario-set
  JSON files (``version, scenario_set_name, created, global, scenarios``).
- :class:`AppConfig` (alias ``AppConfigLoader``) reads the ``execution``
  block of ``app_config.json``.
- :class:`BrokerConfig` reads an MT5-export-like broker JSON.
- :func:`parse_strategy_config` checks a ``strategy_config`` against the
  known worker and decision-logic types and fills in their defaults; the
  scenario (Python reference and C kernel) runs on its result.

Every error is a :class:`ConfigError` (a ValueError) whose message names the
file and the field at fault.
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from .ticks import to_ns

__all__ = [
    "DECISION_LOGIC_TYPES",
    "TIMEFRAME_MINUTES",
    "WORKER_TYPES",
    "AppConfig",
    "AppConfigLoader",
    "BrokerConfig",
    "ConfigError",
    "DecisionLogicSpec",
    "ScenarioConfigLoader",
    "StrategySpec",
    "SymbolSpec",
    "TestScenario",
    "WorkerSpec",
    "data_path",
    "load_broker_config",
    "parse_strategy_config",
]

DATA_DIR = Path(__file__).resolve().parent / "data"


def data_path(name: str) -> Path:
    """Path of a file shipped in ``fastpar/data``."""
    return DATA_DIR / name


class ConfigError(ValueError):
    """A configuration file or dict is malformed or incomplete."""


def _where(source, field_path):
    return f"{source}: {field_path}" if field_path else f"{source}"


# ---------------------------------------------------------------------------
# Timeframes, workers, decision logics: what a strategy_config may name
# ---------------------------------------------------------------------------

TIMEFRAME_MINUTES = {"M1": 1, "M5": 5, "M15": 15, "M30": 30, "H1": 60, "H4": 240, "D1": 1440}

# Parameters of each worker type: name -> (kind, default); a default of
# None means the parameter is required. The CORE/heavy_* types compute the
# same values as their plain counterpart and add artificial_load_ms of CPU
# work on every tick.
_RSI_PARAMS = {"period": ("int", None), "timeframe": ("timeframe", None)}
_ENVELOPE_PARAMS = {
    "period": ("int", 20),
    "deviation": ("float", 0.02),
    "timeframe": ("timeframe", "M5"),
}
_MACD_PARAMS = {
    "fast": ("int", 12),
    "slow": ("int", 26),
    "signal": ("int", 9),
    "timeframe": ("timeframe", "M5"),
}
WORKER_TYPES: dict[str, dict[str, tuple[str, Any]]] = {
    "CORE/rsi": _RSI_PARAMS,
    "CORE/envelope": _ENVELOPE_PARAMS,
    "CORE/macd": _MACD_PARAMS,
    "CORE/heavy_rsi": {**_RSI_PARAMS, "artificial_load_ms": ("float", 5.0)},
    "CORE/heavy_envelope": {**_ENVELOPE_PARAMS, "artificial_load_ms": ("float", 8.0)},
    "CORE/heavy_macd": {**_MACD_PARAMS, "artificial_load_ms": ("float", 6.0)},
}

# The indicator each worker type computes (heavy variants share theirs).
WORKER_INDICATOR = {
    "CORE/rsi": "rsi",
    "CORE/heavy_rsi": "rsi",
    "CORE/envelope": "envelope",
    "CORE/heavy_envelope": "envelope",
    "CORE/macd": "macd",
    "CORE/heavy_macd": "macd",
}

# Both decision logics read the worker instances "rsi_fast" (an RSI worker)
# and "envelope_main" (an envelope worker); other workers run but are not
# read. Parameters: name -> (kind, default).
_TRADING_PARAMS = {"lot_size": ("float", 0.1), "min_free_margin": ("float", 1000.0)}
DECISION_LOGIC_TYPES: dict[str, dict[str, tuple[str, Any]]] = {
    "CORE/simple_consensus": {
        "rsi_oversold": ("float", 30.0),
        "rsi_overbought": ("float", 70.0),
        "envelope_lower_threshold": ("float", 0.3),
        "envelope_upper_threshold": ("float", 0.7),
        "min_confidence": ("float", 0.5),
        **_TRADING_PARAMS,
    },
    "CORE/aggressive_trend": {
        "rsi_buy_threshold": ("float", 35.0),
        "rsi_sell_threshold": ("float", 65.0),
        "envelope_extremes": ("float", 0.25),
        "min_confidence": ("float", 0.4),
        **_TRADING_PARAMS,
    },
}
DECISION_LOGIC_INPUTS = {"rsi_fast": "rsi", "envelope_main": "envelope"}


@dataclass(frozen=True)
class WorkerSpec:
    """One configured worker instance, parameters checked and defaulted."""

    name: str
    worker_type: str
    params: dict

    @property
    def indicator(self) -> str:
        return WORKER_INDICATOR[self.worker_type]

    @property
    def timeframe(self) -> str:
        return self.params["timeframe"]

    @property
    def artificial_load_ms(self) -> float:
        return float(self.params.get("artificial_load_ms", 0.0))


@dataclass(frozen=True)
class DecisionLogicSpec:
    logic_type: str
    params: dict

    @property
    def name(self) -> str:
        return self.logic_type.split("/", 1)[1]


@dataclass(frozen=True)
class StrategySpec:
    workers: tuple  # of WorkerSpec, in worker_instances order
    decision_logic: DecisionLogicSpec


def _finite(value) -> bool:
    """True for a real number that is finite as a float (a JSON integer too
    large for a float is not)."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _known(value, table) -> bool:
    """True if value is a key of table (names are strings: a list or an
    object found where a name belongs is an error, not a TypeError)."""
    return isinstance(value, str) and value in table


def _check_value(kind, value, where):
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{where} must be an integer >= 1, got {value!r}")
        return value
    if kind == "float":
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not _finite(value)
        ):
            raise ConfigError(f"{where} must be a number, got {value!r}")
        return float(value)
    if kind == "timeframe":
        if not _known(value, TIMEFRAME_MINUTES):
            raise ConfigError(f"{where} must be one of {list(TIMEFRAME_MINUTES)}, got {value!r}")
        return value
    raise AssertionError(kind)


def _check_params(table, given, where, *, strict):
    if not isinstance(given, dict):
        raise ConfigError(f"{where} must be an object, got {type(given).__name__}")
    out = {}
    for name, (kind, default) in table.items():
        if name in given and given[name] is not None:
            out[name] = _check_value(kind, given[name], f"{where}.{name}")
        elif default is None:
            raise ConfigError(f"{where}.{name} is required")
        else:
            out[name] = default
    if strict:
        unknown = sorted(set(given) - set(table))
        if unknown:
            raise ConfigError(f"{where}: unknown parameter(s) {unknown}; known: {sorted(table)}")
    return out


def parse_strategy_config(strategy_config, source="strategy_config") -> StrategySpec:
    """Check a strategy_config and return its workers and decision logic
    with every parameter present.

    Unknown worker parameters are errors (a misspelt "perod" would otherwise
    silently run with the default); unknown decision_logic_config keys are
    ignored, as the batch_orchestrator API does.
    """
    if not isinstance(strategy_config, dict):
        raise ConfigError(f"{source} must be an object")
    logic_type = strategy_config.get("decision_logic_type")
    if logic_type is None:
        raise ConfigError(
            f"{_where(source, 'decision_logic_type')} is required; known: {sorted(DECISION_LOGIC_TYPES)}"
        )
    if not _known(logic_type, DECISION_LOGIC_TYPES):
        raise ConfigError(
            f"{_where(source, 'decision_logic_type')}: unknown decision logic {logic_type!r}; "
            f"known: {sorted(DECISION_LOGIC_TYPES)}"
        )
    instances = strategy_config.get("worker_instances")
    if not isinstance(instances, dict) or not instances:
        raise ConfigError(
            f"{_where(source, 'worker_instances')} must be a non-empty object of name -> worker type"
        )
    params_by_name = strategy_config.get("workers", {}) or {}
    if not isinstance(params_by_name, dict):
        raise ConfigError(f"{_where(source, 'workers')} must be an object of name -> parameters")
    unused = sorted(set(params_by_name) - set(instances))
    if unused:
        raise ConfigError(
            f"{_where(source, 'workers')}: parameters given for undeclared worker(s) {unused}"
        )

    workers = []
    for name, worker_type in instances.items():
        if not _known(worker_type, WORKER_TYPES):
            raise ConfigError(
                f"{_where(source, f'worker_instances.{name}')}: unknown worker type {worker_type!r}; "
                f"known: {sorted(WORKER_TYPES)}"
            )
        params = _check_params(
            WORKER_TYPES[worker_type],
            params_by_name.get(name, {}),
            f"{source}: workers.{name}",
            strict=True,
        )
        if "artificial_load_ms" in params and params["artificial_load_ms"] < 0:
            raise ConfigError(f"{source}: workers.{name}.artificial_load_ms must be >= 0")
        if WORKER_INDICATOR[worker_type] == "macd" and params["fast"] >= params["slow"]:
            raise ConfigError(
                f"{source}: workers.{name}: fast ({params['fast']}) must be < slow ({params['slow']})"
            )
        if WORKER_INDICATOR[worker_type] == "envelope" and params["deviation"] <= 0:
            raise ConfigError(f"{source}: workers.{name}.deviation must be > 0")
        workers.append(WorkerSpec(name, worker_type, params))

    by_name = {w.name: w for w in workers}
    for name, indicator in DECISION_LOGIC_INPUTS.items():
        allowed = sorted(t for t, ind in WORKER_INDICATOR.items() if ind == indicator)
        if name not in by_name:
            raise ConfigError(
                f"{_where(source, 'worker_instances')}: {logic_type} needs a worker {name!r} of type {allowed}"
            )
        if by_name[name].indicator != indicator:
            raise ConfigError(
                f"{_where(source, f'worker_instances.{name}')}: {logic_type} needs one of {allowed}, "
                f"got {by_name[name].worker_type!r}"
            )

    logic_cfg = strategy_config.get("decision_logic_config", {}) or {}
    logic_params = _check_params(
        DECISION_LOGIC_TYPES[logic_type],
        logic_cfg,
        f"{source}: decision_logic_config",
        strict=False,
    )
    if logic_params["lot_size"] <= 0:
        raise ConfigError(f"{source}: decision_logic_config.lot_size must be > 0")
    return StrategySpec(tuple(workers), DecisionLogicSpec(logic_type, logic_params))


# ---------------------------------------------------------------------------
# TestScenario and scenario-set files
# ---------------------------------------------------------------------------


@dataclass
class TestScenario:
    """One test window of one symbol, as the batch_orchestrator API has it."""

    __test__ = False  # not a pytest test class despite the name

    symbol: str
    start_date: str
    end_date: str
    max_ticks: int | None = None
    data_mode: str = "realistic"
    enabled: bool = True
    strategy_config: dict[str, Any] = field(default_factory=dict)
    execution_config: dict[str, Any] | None = None
    trade_simulator_config: dict[str, Any] | None = None
    name: str | None = None

    def __post_init__(self):
        if self.name is None:
            self.name = f"{self.symbol}_{self.start_date}_{self.end_date}"


_SCENARIO_KEYS = {
    "name",
    "symbol",
    "start_date",
    "end_date",
    "max_ticks",
    "data_mode",
    "enabled",
    "strategy_config",
    "execution_config",
    "trade_simulator_config",
}
_MERGED_BLOCKS = ("strategy_config", "execution_config", "trade_simulator_config")


class ScenarioConfigLoader:
    """Reads scenario-set JSON files into lists of :class:`TestScenario`.

    ``load_config(path_or_name)`` accepts a path, or a file name looked up
    in ``config_path`` and then in fastpar's shipped data directory (so
    ``load_config("sample_scenarios.json")`` always works).
    """

    def __init__(self, config_path=None):
        self.config_path = Path(config_path) if config_path is not None else None

    def resolve(self, path_or_name) -> Path:
        candidates = [Path(path_or_name)]
        if self.config_path is not None:
            candidates.append(self.config_path / path_or_name)
        candidates.append(DATA_DIR / path_or_name)
        for c in candidates:
            if c.is_file():
                return c
        raise FileNotFoundError(
            f"scenario set {str(path_or_name)!r} not found; looked at {[str(c) for c in candidates]}"
        )

    def load_config(self, path_or_name) -> list[TestScenario]:
        path = self.resolve(path_or_name)
        data = _read_json(path)
        return self.parse(data, source=str(path))

    def parse(self, data, source="<scenario set>") -> list[TestScenario]:
        """Scenarios of an already-parsed scenario-set dict."""
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: top level must be an object")
        for key in ("version", "scenario_set_name", "created"):
            if key in data and not isinstance(data[key], str):
                raise ConfigError(f"{source}: {key} must be a string")
        glob = data.get("global", {}) or {}
        if not isinstance(glob, dict):
            raise ConfigError(f"{source}: global must be an object")
        for block in _MERGED_BLOCKS:
            if glob.get(block) is not None and not isinstance(glob[block], dict):
                raise ConfigError(f"{source}: global.{block} must be an object")
        if "scenarios" not in data:
            raise ConfigError(f"{source}: scenarios is required (a list of scenario objects)")
        raw = data["scenarios"]
        if not isinstance(raw, list):
            raise ConfigError(f"{source}: scenarios must be a list")

        scenarios = []
        for i, entry in enumerate(raw):
            where = f"scenarios[{i}]"
            if not isinstance(entry, dict):
                raise ConfigError(f"{source}: {where} must be an object")
            if "name" in entry:
                where = f"scenarios[{i}] ({entry['name']})"
            scenario = self._parse_scenario(entry, glob, source, where)
            if scenario is not None:
                scenarios.append(scenario)
        return scenarios

    @staticmethod
    def _parse_scenario(entry, glob, source, where):
        unknown = sorted(set(entry) - _SCENARIO_KEYS)
        if unknown:
            raise ConfigError(
                f"{source}: {where}: unknown field(s) {unknown}; known: {sorted(_SCENARIO_KEYS)}"
            )
        enabled = entry.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ConfigError(f"{source}: {where}.enabled must be true or false")
        if not enabled:
            return None
        for key in ("symbol", "start_date", "end_date"):
            if key not in entry:
                raise ConfigError(f"{source}: {where}.{key} is required")
            if not isinstance(entry[key], str) or not entry[key]:
                raise ConfigError(f"{source}: {where}.{key} must be a non-empty string")
        try:
            start, end = to_ns(entry["start_date"]), to_ns(entry["end_date"])
        except ValueError as e:
            raise ConfigError(f"{source}: {where}: {e}") from None
        if end < start:
            raise ConfigError(
                f"{source}: {where}: end_date {entry['end_date']} is before start_date {entry['start_date']}"
            )
        max_ticks = entry.get("max_ticks")
        if max_ticks is not None and (
            isinstance(max_ticks, bool) or not isinstance(max_ticks, int) or max_ticks < 1
        ):
            raise ConfigError(
                f"{source}: {where}.max_ticks must be a positive integer or null, got {max_ticks!r}"
            )

        # Each block: the global one shallowly updated by the scenario's own,
        # deep-copied so that no two scenarios share a nested dict.
        merged = {}
        for block in _MERGED_BLOCKS:
            own = entry.get(block)
            if own is None:
                own = {}
            elif not isinstance(own, dict):
                raise ConfigError(f"{source}: {where}.{block} must be an object")
            merged[block] = copy.deepcopy({**(glob.get(block) or {}), **own})
        parse_strategy_config(
            merged["strategy_config"], source=f"{source}: {where}.strategy_config"
        )
        _check_trade_simulator_config(
            merged["trade_simulator_config"], f"{source}: {where}.trade_simulator_config"
        )

        return TestScenario(
            name=entry.get("name"),
            symbol=entry["symbol"],
            start_date=entry["start_date"],
            end_date=entry["end_date"],
            max_ticks=max_ticks,
            data_mode=entry.get("data_mode", glob.get("data_mode", "realistic")),
            enabled=True,
            strategy_config=merged["strategy_config"],
            execution_config=merged["execution_config"],
            trade_simulator_config=merged["trade_simulator_config"] or None,
        )


def _check_trade_simulator_config(cfg, where):
    for key in ("initial_balance",):
        if key in cfg:
            v = cfg[key]
            if (
                isinstance(v, bool)
                or not isinstance(v, (int, float))
                or not v > 0
                or not _finite(v)
            ):
                raise ConfigError(f"{where}.{key} must be a positive number, got {v!r}")
    path = cfg.get("broker_config_path")
    if path is not None and not isinstance(path, str):
        raise ConfigError(f"{where}.broker_config_path must be a string, got {path!r}")
    seeds = cfg.get("seeds", {})
    if not isinstance(seeds, dict) or any(
        isinstance(v, bool) or not isinstance(v, int) for v in seeds.values()
    ):
        raise ConfigError(f"{where}.seeds must be an object of integer seeds")


def _read_json(path: Path):
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read: {e}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(
            f"{path}: invalid JSON at line {e.lineno}, column {e.colno}: {e.msg}"
        ) from None


# ---------------------------------------------------------------------------
# app_config.json
# ---------------------------------------------------------------------------


class AppConfig:
    """The ``execution`` block of app_config.json, with the API's defaults
    for missing keys. ``AppConfig()`` reads fastpar's shipped file;
    ``AppConfig(path)`` a given one; ``AppConfig.from_dict(d)`` a dict."""

    _EXECUTION_DEFAULTS: ClassVar[dict] = {
        "default_parallel_scenarios": True,
        "default_max_parallel_scenarios": 4,
        "default_parallel_workers": True,
        "default_worker_parallel_threshold_ms": 1.0,
    }

    def __init__(self, config_path=None):
        path = Path(config_path) if config_path is not None else DATA_DIR / "app_config.json"
        if not path.is_file():
            raise FileNotFoundError(f"app config not found: {path}")
        self._source = str(path)
        self._set(_read_json(path))

    @classmethod
    def from_dict(cls, config: dict, source="<app config>") -> AppConfig:
        self = cls.__new__(cls)
        self._source = source
        self._set(config)
        return self

    def _set(self, config):
        if not isinstance(config, dict):
            raise ConfigError(f"{self._source}: top level must be an object")
        execution = config.get("execution", {})
        if not isinstance(execution, dict):
            raise ConfigError(f"{self._source}: execution must be an object")
        for key in ("default_parallel_scenarios", "default_parallel_workers"):
            if key in execution and not isinstance(execution[key], bool):
                raise ConfigError(f"{self._source}: execution.{key} must be true or false")
        n = execution.get("default_max_parallel_scenarios", 4)
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ConfigError(
                f"{self._source}: execution.default_max_parallel_scenarios must be an integer >= 1"
            )
        self._config = config

    def get_config(self) -> dict:
        return self._config

    def get_execution_config(self) -> dict:
        return self._config.get("execution", {})

    def _execution(self, key):
        return self.get_execution_config().get(key, self._EXECUTION_DEFAULTS[key])

    def get_default_parallel_scenarios(self) -> bool:
        return self._execution("default_parallel_scenarios")

    def get_default_max_parallel_scenarios(self) -> int:
        return self._execution("default_max_parallel_scenarios")

    def get_default_parallel_workers(self) -> bool:
        return self._execution("default_parallel_workers")

    def get_default_worker_parallel_threshold_ms(self) -> float:
        return float(self._execution("default_worker_parallel_threshold_ms"))


AppConfigLoader = AppConfig


# ---------------------------------------------------------------------------
# Broker configuration
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SymbolSpec:
    """The broker's contract for one symbol (values as MT5 exports them)."""

    symbol: str
    digits: int = 5
    tick_value: float = 1.0
    contract_size: float = 100_000.0
    volume_min: float = 0.01
    volume_max: float = 100.0
    volume_step: float = 0.01
    trade_allowed: bool = True

    def check_lots(self, lots: float) -> str | None:
        """None if ``lots`` is a valid order size, else why not."""
        if lots < self.volume_min - 1e-12:
            return f"lots {lots} below volume_min {self.volume_min}"
        if lots > self.volume_max + 1e-12:
            return f"lots {lots} above volume_max {self.volume_max}"
        steps = lots / self.volume_step
        if abs(steps - round(steps)) > 1e-7:
            return f"lots {lots} is not a multiple of volume_step {self.volume_step}"
        return None


@dataclass(frozen=True)
class BrokerConfig:
    """Account leverage and per-symbol contracts of one broker."""

    leverage: float
    symbols: dict  # symbol -> SymbolSpec
    name: str = "unknown"

    def symbol(self, symbol: str) -> SymbolSpec:
        try:
            return self.symbols[symbol]
        except KeyError:
            raise ConfigError(
                f"broker {self.name!r} has no symbol {symbol!r}; known: {sorted(self.symbols)}"
            ) from None

    def get_max_leverage(self) -> float:
        return self.leverage

    @classmethod
    def from_dict(cls, data: dict, source="<broker config>") -> BrokerConfig:
        """From an MT5 export (``broker_info.leverage``, ``symbols``) or the
        flat form (``leverage``, ``symbols``)."""
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: top level must be an object")
        info = data.get("broker_info", {})
        if not isinstance(info, dict):
            raise ConfigError(f"{source}: broker_info must be an object")
        leverage = data.get("leverage", info.get("leverage"))
        if leverage is None:
            raise ConfigError(f"{source}: broker_info.leverage (or leverage) is required")
        if (
            isinstance(leverage, bool)
            or not isinstance(leverage, (int, float))
            or not leverage > 0
            or not _finite(leverage)
        ):
            raise ConfigError(f"{source}: leverage must be a positive number, got {leverage!r}")
        raw_symbols = data.get("symbols")
        if not isinstance(raw_symbols, dict) or not raw_symbols:
            raise ConfigError(
                f"{source}: symbols must be a non-empty object of symbol -> specification"
            )
        symbols = {}
        numeric = ("tick_value", "contract_size", "volume_min", "volume_max", "volume_step")
        for sym, spec in raw_symbols.items():
            where = f"{source}: symbols.{sym}"
            if not isinstance(spec, dict):
                raise ConfigError(f"{where} must be an object")
            values = {}
            digits = spec.get("digits", 5)
            if isinstance(digits, bool) or not isinstance(digits, int) or not 0 <= digits <= 10:
                raise ConfigError(f"{where}.digits must be an integer 0..10, got {digits!r}")
            values["digits"] = digits
            for key in numeric:
                if key in spec:
                    v = spec[key]
                    if (
                        isinstance(v, bool)
                        or not isinstance(v, (int, float))
                        or not v > 0
                        or not _finite(v)
                    ):
                        raise ConfigError(f"{where}.{key} must be a positive number, got {v!r}")
                    values[key] = float(v)
            values["trade_allowed"] = bool(spec.get("trade_allowed", True))
            s = SymbolSpec(sym, **values)
            if s.volume_min > s.volume_max:
                raise ConfigError(f"{where}: volume_min {s.volume_min} > volume_max {s.volume_max}")
            symbols[sym] = s
        name = info.get("company") or data.get("name") or Path(str(source)).stem
        return cls(leverage=float(leverage), symbols=symbols, name=str(name))

    @classmethod
    def from_json(cls, path) -> BrokerConfig:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"broker config not found: {path}")
        return cls.from_dict(_read_json(path), source=str(path))


def load_broker_config(path=None) -> BrokerConfig:
    """A broker config by path; relative paths are tried from the current
    directory, then in fastpar's data directory; None gives the shipped
    ``broker_config.json``."""
    if path is None:
        return BrokerConfig.from_json(DATA_DIR / "broker_config.json")
    p = Path(path)
    if p.is_file() or p.is_absolute():
        return BrokerConfig.from_json(p)
    shipped = DATA_DIR / p.name
    if shipped.is_file():
        return BrokerConfig.from_json(shipped)
    return BrokerConfig.from_json(p)  # raises FileNotFoundError naming it
