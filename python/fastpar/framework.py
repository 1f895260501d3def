"""The objects a scenario's Python parts see, and the classes to write them.

A scenario may name USER workers (``"USER/my_worker"``) and a USER decision
logic (``"USER/my_logic"``): Python classes with the batch_orchestrator
API's interface. fastpar runs them where the API does, with the same
arguments: a :class:`TickData` per tick, the completed bars of each
timeframe (``bar_history``, lists of :class:`Bar`), the bars being built
(``current_bars``), the workers' :class:`WorkerResult` objects, and a
trading API for the decision logic.

Those objects come from the framework the USER classes are written for.
A class built on the API's own base classes (a FiniexTestingIDE project's
``python.framework...``) gets that framework's TickData, Bar,
WorkerResult, OrderDirection, OrderResult, Position and AccountInfo, so
its comparisons and isinstance checks hold. A class built on the base
classes here gets the equivalents defined here. :class:`Framework` finds
out which, from the classes themselves.

USER classes are found as the API finds them: ``USER/<name>`` is the
class ``<Name>Worker`` (words capitalized, ``Worker`` appended unless
present) in the module ``python.workers.user.<name>``, and the decision
logic ``<Name>`` in ``python.decision_logic.user.<name>`` (``python``
being the framework's package, importable from the working directory).
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

__all__ = [
    "AbstractBlackboxWorker",
    "AbstractDecisionLogic",
    "AccountInfo",
    "Bar",
    "Decision",
    "Framework",
    "OrderCapabilities",
    "OrderDirection",
    "OrderResult",
    "OrderStatus",
    "OrderType",
    "Position",
    "RejectionReason",
    "TickData",
    "WorkerResult",
    "WorkerState",
    "WorkerType",
]


# ---------------------------------------------------------------------------
# Market data and results
# ---------------------------------------------------------------------------


class WorkerState(Enum):
    IDLE = "idle"
    WORKING = "working"
    READY = "ready"
    ERROR = "error"
    ASYNC_WORKING = "async_working"


class WorkerType(Enum):
    COMPUTE = "compute"
    API = "api"
    EVENT = "event"


@dataclass
class TickData:
    """One tick: ``timestamp`` a naive datetime in UTC."""

    timestamp: datetime
    symbol: str
    bid: float
    ask: float
    volume: float = 0.0

    @property
    def mid(self) -> float:
        return (self.bid + self.ask) / 2.0


@dataclass
class Bar:
    """An OHLC bar; ``timestamp`` is its start, as ISO text."""

    symbol: str
    timeframe: str
    timestamp: str
    open: float
    high: float
    low: float
    close: float
    volume: float
    tick_count: int = 0
    is_complete: bool = False

    @property
    def ohlc(self) -> tuple[float, float, float, float]:
        return (self.open, self.high, self.low, self.close)

    def update_with_tick(self, tick_price: float, tick_volume: float = 0) -> None:
        if self.open == 0:
            self.open = self.high = self.low = tick_price
        else:
            self.high = max(self.high, tick_price)
            self.low = min(self.low, tick_price)
        self.close = tick_price
        self.volume += tick_volume
        self.tick_count += 1


@dataclass
class WorkerResult:
    worker_name: str
    value: Any
    confidence: float = 1.0
    computation_time_ms: float = 0.0
    metadata: dict[str, Any] = field(default_factory=dict)
    is_stale: bool = False


@dataclass
class Decision:
    """A decision logic's output: ``action`` is "BUY", "SELL", "FLAT" or a
    logic's own word (anything but "FLAT" goes to execute_decision)."""

    action: str
    confidence: float
    reason: str = ""
    price: float = 0.0
    timestamp: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "confidence": self.confidence,
            "reason": self.reason,
            "price": self.price,
            "timestamp": self.timestamp,
            **self.metadata,
        }


# ---------------------------------------------------------------------------
# Orders and the account
# ---------------------------------------------------------------------------


class OrderType(Enum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"
    TRAILING_STOP = "trailing_stop"
    ICEBERG = "iceberg"


class OrderDirection(Enum):
    BUY = "buy"
    SELL = "sell"


class OrderStatus(Enum):
    PENDING = "pending"
    SUBMITTED = "submitted"
    EXECUTED = "executed"
    PARTIALLY_FILLED = "partial"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class RejectionReason(Enum):
    INSUFFICIENT_MARGIN = "insufficient_margin"
    INVALID_LOT_SIZE = "invalid_lot_size"
    SYMBOL_NOT_TRADEABLE = "symbol_not_tradeable"
    MARKET_CLOSED = "market_closed"
    INVALID_PRICE = "invalid_price"
    ORDER_TYPE_NOT_SUPPORTED = "order_type_not_supported"
    BROKER_ERROR = "broker_error"


@dataclass
class OrderCapabilities:
    market_orders: bool = True
    limit_orders: bool = True
    stop_orders: bool = False
    stop_limit_orders: bool = False
    trailing_stop: bool = False
    iceberg_orders: bool = False
    hedging_allowed: bool = False
    partial_fills_supported: bool = False

    def supports_order_type(self, order_type) -> bool:
        attr = {
            "market": "market_orders",
            "limit": "limit_orders",
            "stop": "stop_orders",
            "stop_limit": "stop_limit_orders",
            "trailing_stop": "trailing_stop",
            "iceberg": "iceberg_orders",
        }.get(getattr(order_type, "value", None))
        return bool(getattr(self, attr)) if attr else False


@dataclass
class OrderResult:
    order_id: str
    status: OrderStatus
    executed_price: float | None = None
    executed_lots: float | None = None
    execution_time: datetime | None = None
    commission: float = 0.0
    swap: float = 0.0
    slippage_points: float = 0.0
    rejection_reason: RejectionReason | None = None
    rejection_message: str = ""
    broker_order_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def is_success(self) -> bool:
        return self.status in (OrderStatus.EXECUTED, OrderStatus.PARTIALLY_FILLED)

    @property
    def is_rejected(self) -> bool:
        return self.status == OrderStatus.REJECTED


@dataclass
class AccountInfo:
    balance: float
    equity: float
    margin_used: float
    free_margin: float
    margin_level: float
    open_positions: int
    total_lots: float
    currency: str
    leverage: int


@dataclass
class Position:
    """An open position as the trading API reports it (a snapshot)."""

    position_id: str
    symbol: str
    direction: OrderDirection
    lots: float
    entry_price: float
    entry_time: datetime
    stop_loss: float | None = None
    take_profit: float | None = None
    fees: list = field(default_factory=list)
    current_price: float = 0.0
    unrealized_pnl: float = 0.0
    comment: str = ""
    magic_number: int = 0


# ---------------------------------------------------------------------------
# Base classes for USER workers and decision logics
# ---------------------------------------------------------------------------


class AbstractBlackboxWorker(ABC):
    """A worker: ``compute(tick, bar_history, current_bars)`` returns a
    WorkerResult on every tick (when ``should_recompute`` says so)."""

    def __init__(self, name: str, parameters: dict[str, Any] | None = None):
        self.name = name
        self.parameters = parameters or {}
        self.state = WorkerState.IDLE
        self._last_result = None
        self.performance_logger = None

    @classmethod
    def get_required_parameters(cls) -> dict[str, type]:
        return {}

    @classmethod
    def get_optional_parameters(cls) -> dict[str, Any]:
        return {}

    def get_warmup_requirements(self) -> dict[str, int]:
        """Bars per timeframe to load before the window."""
        return {}

    def get_required_timeframes(self) -> list[str]:
        return ["M1"]

    def get_max_computation_time_ms(self) -> float:
        return 100.0

    @abstractmethod
    def should_recompute(self, tick: TickData, bar_updated: bool) -> bool: ...

    @abstractmethod
    def compute(self, tick: TickData, bar_history: dict[str, list[Bar]],
                current_bars: dict[str, Bar]) -> WorkerResult: ...

    def get_last_result(self):
        return self._last_result

    def set_state(self, state) -> None:
        self.state = state

    def set_performance_logger(self, logger) -> None:
        self.performance_logger = logger

    def get_worker_type(self) -> WorkerType:
        return WorkerType.COMPUTE

    @classmethod
    def get_default_parameters(cls) -> dict[str, Any]:
        return {}


class AbstractDecisionLogic(ABC):
    """A decision logic: ``compute(tick, worker_results, current_bars,
    bar_history)`` returns a Decision on every tick;
    ``_execute_decision_impl(decision, tick)`` trades through
    ``self.trading_api``."""

    def __init__(self, name: str, config: dict[str, Any] | None = None):
        self.name = name
        self.config = config or {}
        self.trading_api = None
        self._statistics = {
            "decisions_made": 0,
            "buy_signals": 0,
            "sell_signals": 0,
            "flat_signals": 0,
            "orders_executed": 0,
            "orders_rejected": 0,
        }
        self.performance_logger = None

    @abstractmethod
    def get_required_order_types(self) -> list: ...

    def execute_decision(self, decision: Decision, tick: TickData):
        result = self._execute_decision_impl(decision, tick)
        self._update_statistics(decision, result)
        return result

    @abstractmethod
    def _execute_decision_impl(self, decision: Decision, tick: TickData): ...

    @abstractmethod
    def get_required_worker_instances(self) -> dict[str, str]: ...

    @abstractmethod
    def compute(self, tick: TickData, worker_results: dict[str, WorkerResult],
                current_bars: dict[str, Bar], bar_history: dict[str, list[Bar]]) -> Decision: ...

    def set_trading_api(self, trading_api) -> None:
        self.trading_api = trading_api

    def _update_statistics(self, decision, order_result=None) -> None:
        s = self._statistics
        s["decisions_made"] += 1
        key = {"BUY": "buy_signals", "SELL": "sell_signals", "FLAT": "flat_signals"}.get(
            decision.action)
        if key:
            s[key] += 1
        if order_result:
            if order_result.is_success:
                s["orders_executed"] += 1
            elif order_result.is_rejected:
                s["orders_rejected"] += 1

    def get_config_value(self, key: str, default: Any = None) -> Any:
        return self.config.get(key, default)

    def set_performance_logger(self, logger) -> None:
        self.performance_logger = logger


# ---------------------------------------------------------------------------
# Which framework's objects a scenario's Python parts get
# ---------------------------------------------------------------------------

# The API's own modules, relative to its package root, and what each
# holds that fastpar hands to USER code or to the performance log.
_HOST_MODULES = {
    "framework.types.global_types": ("TickData", "Bar", "WorkerResult", "Decision",
                                     "WorkerState"),
    "framework.types.order_types": ("OrderType", "OrderDirection", "OrderStatus",
                                    "RejectionReason", "OrderResult", "OrderCapabilities"),
    "framework.types.trading_env_types": ("AccountInfo", "PortfolioStats", "ExecutionStats",
                                          "CostBreakdown"),
    "framework.trading_env.portfolio_manager": ("Position",),
    "framework.types.performance_stats_types": ("BatchPerformanceStats", "WorkerPerformanceStats",
                                                "DecisionLogicPerformanceStats"),
    "framework.types.scenario_set_performance_types": ("ScenarioPerformanceStats",),
    "framework.types.live_stats_types": ("ScenarioStatus",),
}


def _root_of(cls) -> str | None:
    """The package root of the API framework ``cls`` is built on (the part
    of a base class's module before ``.framework.``), or None."""
    for base in getattr(cls, "__mro__", (cls,)):
        module = getattr(base, "__module__", "") or ""
        root, sep, _ = module.partition(".framework.")
        if sep and root:
            return root
    return None


class Framework:
    """The classes of one framework: fastpar's (:meth:`fastpar_own`) or the
    user's API framework, found from the user's classes (:meth:`of`)."""

    def __init__(self, root: str | None, classes: dict[str, type]):
        self.root = root  # None: fastpar's own
        self.__dict__.update(classes)

    @classmethod
    def fastpar_own(cls) -> Framework:
        from . import performance

        names = {n for group in _HOST_MODULES.values() for n in group}
        return cls(None, {n: globals().get(n) or getattr(performance, n) for n in names})

    @classmethod
    def of(cls, *objects) -> Framework:
        """The framework of the first of ``objects`` (classes or instances)
        built on the API's own classes; fastpar's if none is."""
        for obj in objects:
            root = _root_of(obj if isinstance(obj, type) else type(obj))
            if root is not None:
                return cls.from_root(root)
        return cls.fastpar_own()

    @classmethod
    def from_root(cls, root: str) -> Framework:
        classes = {}
        for module, names in _HOST_MODULES.items():
            mod = importlib.import_module(f"{root}.{module}")
            for name in names:
                classes[name] = getattr(mod, name)
        return cls(root, classes)

    @property
    def user_package(self) -> str:
        """Where USER classes live: ``<root>.workers.user`` and
        ``<root>.decision_logic.user``; ``python`` for fastpar's own."""
        return self.root or "python"


def camel_case(name: str) -> str:
    """``my_custom_rsi`` -> ``MyCustomRsi``: the API's class-name rule."""
    return "".join(word.capitalize() for word in name.split("_"))
