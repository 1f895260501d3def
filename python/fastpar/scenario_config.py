"""Scenario sets, app configuration and broker configuration, read as the
batch_orchestrator API reads them.

- :class:`ScenarioConfigLoader` reads scenario-set JSON files into lists of
  :class:`TestScenario`: each scenario's ``strategy_config``,
  ``execution_config`` and ``trade_simulator_config`` are the global
  block's, shallowly updated by its own; disabled scenarios are dropped;
  an ``end_date`` before its ``start_date`` refuses the whole file. The
  strategy itself is not checked here, exactly as the API does not: both
  the ``worker_instances`` format and the older ``worker_types`` one load,
  and a strategy that cannot run fails its own scenario when it runs.
- :class:`AppConfig` (alias ``AppConfigLoader``) reads the ``execution``
  block of ``app_config.json``.
- :class:`BrokerConfig` reads an MT5 broker export as the API's MT5
  adapter does: the account's leverage, each symbol's entry as a dict.

Malformed files give a :class:`ConfigError` (a ValueError) naming the file
and the field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from ._numbers import finite_real
from .framework import OrderCapabilities

__all__ = [
    "TIMEFRAME_MINUTES",
    "AppConfig",
    "AppConfigLoader",
    "BrokerConfig",
    "ConfigError",
    "InvalidDateRangeError",
    "ScenarioConfigLoader",
    "TestScenario",
    "data_path",
    "load_broker_config",
    "timeframe_minutes",
]

DATA_DIR = Path(__file__).resolve().parent / "data"


def data_path(name: str) -> Path:
    """Path of a file shipped in ``fastpar/data``."""
    return DATA_DIR / name


class ConfigError(ValueError):
    """A configuration file or dict is malformed or incomplete."""


class InvalidDateRangeError(ConfigError):
    """A scenario's end_date is before its start_date."""


TIMEFRAME_MINUTES = {"M1": 1, "M5": 5, "M15": 15, "M30": 30, "H1": 60, "H4": 240, "D1": 1440}


def timeframe_minutes(timeframe) -> int:
    """Minutes of a timeframe; the API counts an unknown name as 1."""
    return TIMEFRAME_MINUTES.get(timeframe, 1)


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
        if self.execution_config is None:
            self.execution_config = {
                "parallel_workers": None,
                "worker_parallel_threshold_ms": 1.0,
                "artificial_load_ms": 5.0,
                "adaptive_parallelization": True,
                "log_performance_stats": True,
            }


_MERGED_BLOCKS = ("strategy_config", "execution_config", "trade_simulator_config")


class ScenarioConfigLoader:
    """Reads scenario-set JSON files into lists of :class:`TestScenario`.

    ``load_config(name)`` reads ``config_path / name`` (an absolute path is
    used as it is); with no ``config_path``, ``name`` is a path, or the name
    of a set shipped with fastpar (``load_config("sample_scenarios.json")``).
    """

    def __init__(self, config_path=None):
        self.config_path = Path(config_path) if config_path is not None else None

    def resolve(self, name) -> Path:
        if self.config_path is not None:
            path = self.config_path / name
            if not path.is_file():
                raise FileNotFoundError(f"Config file not found: {path}")
            return path
        for path in (Path(name), DATA_DIR / name):
            if path.is_file():
                return path
        raise FileNotFoundError(f"Config file not found: {name}")

    def load_config(self, name) -> list[TestScenario]:
        path = self.resolve(name)
        scenarios = self.parse(_read_json(path), source=str(path))
        if path.resolve().parent == DATA_DIR:
            # A set shipped with fastpar names a broker file shipped beside it.
            for s in scenarios:
                ts = s.trade_simulator_config or {}
                name = ts.get("broker_config_path")
                if isinstance(name, str) and not Path(name).is_absolute():
                    s.trade_simulator_config = {**ts, "broker_config_path": str(DATA_DIR / name)}
        return scenarios

    def parse(self, data, source="<scenario set>") -> list[TestScenario]:
        """Scenarios of an already-parsed scenario-set dict."""
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: top level must be an object")
        glob = data.get("global", {})
        if not isinstance(glob, dict):
            raise ConfigError(f"{source}: global must be an object")
        blocks = {}
        for block in _MERGED_BLOCKS:
            value = glob.get(block, {})
            if not isinstance(value, dict):
                raise ConfigError(f"{source}: global.{block} must be an object")
            blocks[block] = value
        raw = data.get("scenarios", [])
        if not isinstance(raw, list):
            raise ConfigError(f"{source}: scenarios must be a list")
        scenarios = []
        for i, entry in enumerate(raw):
            where = f"{source}: scenarios[{i}]"
            if not isinstance(entry, dict):
                raise ConfigError(f"{where} must be an object")
            if not entry.get("enabled", True):
                continue
            for key in ("name", "symbol", "start_date", "end_date"):
                if key not in entry:
                    raise ConfigError(f"{where}: {key} is required")
            where = f"{source}: scenario {entry['name']!r}"
            merged = {}
            for block in _MERGED_BLOCKS:
                own = entry.get(block) or {}
                if not isinstance(own, dict):
                    raise ConfigError(f"{where}: {block} must be an object")
                merged[block] = {**blocks[block], **own}
            _check_dates(entry, where)
            scenarios.append(
                TestScenario(
                    name=entry["name"],
                    symbol=entry["symbol"],
                    start_date=entry["start_date"],
                    end_date=entry["end_date"],
                    data_mode=entry.get("data_mode", "realistic"),
                    max_ticks=entry.get("max_ticks"),
                    strategy_config=merged["strategy_config"],
                    execution_config=merged["execution_config"],
                    trade_simulator_config=merged["trade_simulator_config"] or None,
                )
            )
        return scenarios


def _check_dates(entry, where) -> None:
    parsed = []
    for key in ("start_date", "end_date"):
        value = entry[key]
        try:
            parsed.append(datetime.fromisoformat(value))
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: {key} is not an ISO 8601 date/time: {value!r}") from None
    try:
        before = parsed[1] < parsed[0]
    except TypeError:  # one with a time zone, one without
        raise ConfigError(
            f"{where}: start_date and end_date must both have a time zone or neither "
            f"({entry['start_date']!r}, {entry['end_date']!r})"
        ) from None
    if before:
        raise InvalidDateRangeError(
            f"{where}: end_date {entry['end_date']} is before start_date {entry['start_date']}"
        )


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

_BROKER_TYPES = ("mt5_forex", "mt5_cfd", "mt5_crypto", "kraken_spot", "binance_futures")


class BrokerConfig:
    """An MT5 broker export, read as the API's MT5 adapter reads it.

    ``leverage`` is ``broker_info.leverage`` (default 100); each symbol's
    entry stays the export's dict, read with the adapter's defaults:
    ``digits`` 5, ``tick_value`` 1.0, ``volume_min`` 0.01, ``volume_max``
    100, ``volume_step`` 0.01, ``trade_allowed`` false, and for the margin
    a fill needs ``contract_size`` 100,000 and ``bid`` 1.0 (the export's
    price, not the market's).
    """

    def __init__(self, data: dict, source: str = "<broker config>"):
        self.source = source
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: top level must be an object")
        for key in ("broker_info", "account_info", "symbols"):
            if key not in data:
                raise ConfigError(f"{source}: Missing required config key: {key}")
        info = data["broker_info"]
        if not isinstance(info, dict) or "company" not in info:
            raise ConfigError(f"{source}: Missing broker_info.company")
        symbols = data["symbols"]
        if not isinstance(symbols, dict) or not symbols:
            raise ConfigError(f"{source}: No symbols configured")
        self.data = data
        self.name = info["company"]
        self.leverage = info.get("leverage", 100)
        if not finite_real(self.leverage) or not self.leverage > 0:
            raise ConfigError(
                f"{source}: broker_info.leverage must be a positive number, got {self.leverage!r}"
            )
        self.symbols = symbols
        self.capabilities = OrderCapabilities(
            market_orders=True,
            limit_orders=True,
            stop_orders=True,
            stop_limit_orders=True,
            hedging_allowed=bool(info.get("hedging_allowed", False)),
        )

    @classmethod
    def from_dict(cls, data: dict, source="<broker config>") -> BrokerConfig:
        return cls(data, source)

    @classmethod
    def from_json(cls, path) -> BrokerConfig:
        """As the API's BrokerConfig.from_json: the file must exist, and its
        broker type (``broker_type``, a ``mt5`` folder in the path, or an
        MT5 export's structure) must be an MT5 one."""
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"Broker config not found: {path}")
        data = _read_json(path)
        kind = _broker_type(data, path)
        if not kind.startswith("mt5"):
            raise ConfigError(f"{path}: broker type {kind!r} is not supported (MT5 only)")
        return cls(data, str(path))

    def get_max_leverage(self):
        return self.leverage

    def has_symbol(self, symbol: str) -> bool:
        return symbol in self.symbols

    def symbol_info(self, symbol: str) -> dict:
        if symbol not in self.symbols:
            raise ValueError(f"Symbol {symbol} not found in broker configuration")
        info = self.symbols[symbol]
        if not isinstance(info, dict):
            raise ConfigError(f"{self.source}: symbols.{symbol} must be an object")
        return info

    def kernel_fields(self, symbol: str) -> dict:
        """The symbol's numbers as the scenario engine reads them (the
        symbol need not exist: then the scenario fails on its first tick,
        as in the API)."""
        out = {"symbol_known": symbol in self.symbols, "leverage": float(self.leverage)}
        info = self.symbol_info(symbol) if out["symbol_known"] else {}
        where = f"{self.source}: symbols.{symbol}"
        digits = info.get("digits", 5)
        if isinstance(digits, bool) or not isinstance(digits, int) or not -300 <= digits <= 300:
            raise ConfigError(f"{where}.digits must be an integer, got {digits!r}")
        out["digits"] = digits
        for key, default, name in (
            ("tick_value", 1.0, "tick_value"),
            ("contract_size", 100000, "margin_contract_size"),
            ("bid", 1.0, "margin_price"),
            ("volume_min", 0.01, "volume_min"),
            ("volume_max", 100.0, "volume_max"),
            ("volume_step", 0.01, "volume_step"),
        ):
            value = info.get(key, default)
            if not finite_real(value):
                raise ConfigError(f"{where}.{key} must be a finite number, got {value!r}")
            out[name] = float(value)
        out["trade_allowed"] = bool(info.get("trade_allowed", False))
        return out


def _broker_type(data, path: Path) -> str:
    if isinstance(data, dict) and "broker_type" in data:
        kind = str(data["broker_type"]).lower()
        if kind not in _BROKER_TYPES:
            raise ConfigError(f"{path}: Unknown broker type in config: {kind}")
        return kind
    text = str(path).lower()
    if "/mt5/" in text or "\\mt5\\" in text:
        return "mt5_forex"
    if "/kraken/" in text or "\\kraken\\" in text:
        return "kraken_spot"
    if isinstance(data, dict):
        info = data.get("broker_info")
        if (isinstance(info, dict) and "account_info" in data and "leverage" in info
                and "margin_mode" in info):
            return "mt5_forex"
    raise ConfigError(
        f"Cannot detect broker type from config: {path}. "
        "Add 'broker_type' field or organize in broker-specific folder."
    )


def load_broker_config(path=None) -> BrokerConfig:
    """A broker file by path, or (None) the sample broker file shipped with
    fastpar, for fastpar's own entry points; the batch_orchestrator drop-in
    always reads the scenario's own ``broker_config_path``."""
    return BrokerConfig.from_json(DATA_DIR / "broker_config.json" if path is None else path)
