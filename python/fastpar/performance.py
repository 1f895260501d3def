"""Result objects of a scenario and the thread-safe container that collects
them across a scenario set, as the batch_orchestrator API defines them."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

__all__ = [
    "BatchPerformanceStats",
    "CostBreakdown",
    "DecisionLogicPerformanceStats",
    "ExecutionStats",
    "LiveScenarioStats",
    "PortfolioStats",
    "ScenarioPerformanceStats",
    "ScenarioSetPerformanceManager",
    "ScenarioStatus",
    "WorkerPerformanceStats",
]


@dataclass
class PortfolioStats:
    """Closed-trade statistics and costs of one scenario's account.

    total_loss is a positive amount; win_rate = winning / total (0 with no
    trades); profit_factor = total_profit / total_loss (0 with neither,
    inf with profit and no loss); max_equity and max_drawdown are updated
    at each close.
    """

    total_trades: int = 0
    winning_trades: int = 0
    losing_trades: int = 0
    total_profit: float = 0.0
    total_loss: float = 0.0
    max_drawdown: float = 0.0
    max_equity: float = 0.0
    win_rate: float = 0.0
    profit_factor: float = 0.0
    total_spread_cost: float = 0.0
    total_commission: float = 0.0
    total_swap: float = 0.0
    total_fees: float = 0.0


@dataclass
class ExecutionStats:
    """Order counts: sent = executed + rejected + still pending at the end."""

    orders_sent: int = 0
    orders_executed: int = 0
    orders_rejected: int = 0
    total_commission: float = 0.0
    total_spread_cost: float = 0.0


@dataclass
class CostBreakdown:
    total_spread_cost: float = 0.0
    total_commission: float = 0.0
    total_swap: float = 0.0
    total_fees: float = 0.0


@dataclass
class WorkerPerformanceStats:
    """One worker's calls and time (CORE workers run inside the engine,
    which does not time them one by one: their times are 0)."""

    worker_type: str
    worker_name: str
    worker_call_count: int
    worker_total_time_ms: float
    worker_avg_time_ms: float
    worker_min_time_ms: float
    worker_max_time_ms: float


@dataclass
class DecisionLogicPerformanceStats:
    logic_type: str
    logic_name: str
    decision_count: int
    decision_buy_count: int
    decision_sell_count: int
    decision_total_time_ms: float
    decision_avg_time_ms: float
    decision_min_time_ms: float
    decision_max_time_ms: float


@dataclass
class BatchPerformanceStats:
    """A scenario's worker and decision-logic statistics (the API's
    ``worker_statistics``)."""

    scenario_name: str
    ticks_processed: int
    parallel_mode: bool
    total_workers: int
    total_worker_calls: int
    workers: dict[str, WorkerPerformanceStats] = field(default_factory=dict)
    parallel_time_saved_ms: float = 0.0
    parallel_avg_saved_per_tick_ms: float = 0.0
    parallel_status: str = ""
    decision_logic: DecisionLogicPerformanceStats | None = None


@dataclass
class ScenarioPerformanceStats:
    """Everything one scenario reports to the ScenarioSetPerformanceManager."""

    scenario_index: int
    scenario_name: str
    symbol: str
    ticks_processed: int
    signals_generated: int
    signals_gen_buy: int
    signals_gen_sell: int
    signal_rate: float
    success: bool
    portfolio_value: float
    initial_balance: float
    elapsed_time: float
    worker_statistics: BatchPerformanceStats
    decision_logic_name: str
    scenario_requirement: dict[str, Any] = field(default_factory=dict)
    sample_signals: list[dict] = field(default_factory=list)
    portfolio_stats: PortfolioStats = field(default_factory=PortfolioStats)
    execution_stats: ExecutionStats = field(default_factory=ExecutionStats)
    cost_breakdown: CostBreakdown = field(default_factory=CostBreakdown)
    profiling_data: dict[str, Any] = field(default_factory=dict)


class ScenarioStatus(Enum):
    """INITIALIZED -> WARMUP -> WARMUP_COMPLETE -> RUNNING -> COMPLETED
    (or FINISHED_WITH_ERROR)."""

    INITIALIZED = "initialized"
    WARMUP = "warmup"
    WARMUP_COMPLETE = "warmup_complete"
    RUNNING = "running"
    COMPLETED = "completed"
    FINISHED_WITH_ERROR = "finished_with_error"


@dataclass
class LiveScenarioStats:
    """Progress of one scenario while it runs (for progress displays)."""

    scenario_name: str
    symbol: str
    total_ticks: int = 0
    ticks_processed: int = 0
    progress_percent: float = 0.0
    total_trades: int = 0
    winning_trades: int = 0
    losing_trades: int = 0
    portfolio_value: float = 0.0
    initial_balance: float = 0.0
    status: ScenarioStatus = ScenarioStatus.INITIALIZED
    scenario_trade_simulator: Any = None


class ScenarioSetPerformanceManager:
    """Collects ScenarioPerformanceStats from scenarios running in several
    threads; every method takes the same lock. Live stats are handed out
    as copies, so readers never see a half-updated object."""

    def __init__(self):
        # Reentrant: get_all_live_stats calls get_live_scenario_stats.
        self._lock = threading.RLock()
        self._scenarios: dict[int, ScenarioPerformanceStats] = {}
        self._execution_time = 0.0
        self._success = True
        self._live: dict[int, LiveScenarioStats] = {}
        self._start_times: dict[int, float] = {}

    # -- batch metadata ----------------------------------------------------

    def set_metadata(self, execution_time: float, success: bool) -> None:
        with self._lock:
            self._execution_time = execution_time
            self._success = success

    def get_metadata(self) -> dict[str, Any]:
        with self._lock:
            return {
                "execution_time": self._execution_time,
                "success": self._success,
                "total_scenarios": len(self._scenarios),
            }

    # -- finished scenarios ------------------------------------------------

    def add_scenario_stats(self, scenario_index: int, stats: ScenarioPerformanceStats) -> None:
        with self._lock:
            self._scenarios[scenario_index] = stats
            self._live.pop(scenario_index, None)
            self._start_times.pop(scenario_index, None)

    def get_all_scenarios(self) -> list[ScenarioPerformanceStats]:
        """Finished scenarios in scenario-index order."""
        with self._lock:
            return [self._scenarios[i] for i in sorted(self._scenarios)]

    def get_scenario(self, scenario_index: int) -> ScenarioPerformanceStats | None:
        with self._lock:
            return self._scenarios.get(scenario_index)

    # -- live progress -----------------------------------------------------

    def start_scenario_tracking(self, scenario_index: int, scenario_name: str, symbol: str) -> None:
        with self._lock:
            self._start_times[scenario_index] = time.time()
            self._live[scenario_index] = LiveScenarioStats(
                scenario_name=scenario_name, symbol=symbol
            )

    def set_live_status(self, scenario_index: int, status: ScenarioStatus) -> None:
        with self._lock:
            if scenario_index in self._live:
                self._live[scenario_index].status = status

    def set_total_ticks(self, scenario_index: int, total_ticks: int) -> None:
        with self._lock:
            if scenario_index in self._live:
                self._live[scenario_index].total_ticks = total_ticks

    def set_portfolio_balance(self, scenario_index: int, initial_balance: float) -> None:
        with self._lock:
            if scenario_index in self._live:
                live = self._live[scenario_index]
                live.initial_balance = initial_balance
                live.portfolio_value = initial_balance

    def set_trade_simulator(self, scenario_index: int, simulator) -> None:
        """The scenario's live account: ``simulator.portfolio`` has
        ``initial_balance``, ``get_total_trades()``, ``get_winning_trades()``,
        ``get_losing_trades()`` and ``get_equity()``."""
        with self._lock:
            live = self._live.get(scenario_index)
            if live is None:
                return
            live.scenario_trade_simulator = simulator
            live.initial_balance = simulator.portfolio.initial_balance
            live.portfolio_value = simulator.portfolio.initial_balance

    def update_live_stats(self, scenario_index: int, ticks_processed: int | None = None) -> None:
        """Update the ticks done; progress and COMPLETED follow from them,
        trades and equity from the scenario's live account if it has one."""
        with self._lock:
            live = self._live.get(scenario_index)
            if live is None:
                return
            if ticks_processed is not None:
                live.ticks_processed = ticks_processed
            if live.total_ticks > 0:
                live.progress_percent = live.ticks_processed / live.total_ticks * 100.0
                if live.progress_percent >= 100.0:
                    live.status = ScenarioStatus.COMPLETED
            sim = live.scenario_trade_simulator
            if sim is not None:
                p = sim.portfolio
                live.total_trades = p.get_total_trades()
                live.winning_trades = p.get_winning_trades()
                live.losing_trades = p.get_losing_trades()
                live.portfolio_value = p.get_equity()

    def get_live_scenario_stats(self, scenario_index: int) -> LiveScenarioStats | None:
        """A copy of the live stats; a finished scenario reports COMPLETED."""
        with self._lock:
            done = self._scenarios.get(scenario_index)
            if done is not None:
                return LiveScenarioStats(
                    scenario_name=done.scenario_name,
                    symbol=done.symbol,
                    total_ticks=done.ticks_processed,
                    ticks_processed=done.ticks_processed,
                    progress_percent=100.0,
                    total_trades=done.portfolio_stats.total_trades,
                    winning_trades=done.portfolio_stats.winning_trades,
                    losing_trades=done.portfolio_stats.losing_trades,
                    portfolio_value=done.portfolio_value,
                    initial_balance=done.initial_balance,
                    status=ScenarioStatus.COMPLETED,
                )
            live = self._live.get(scenario_index)
            return None if live is None else replace(live)

    def get_all_live_stats(self) -> list[LiveScenarioStats]:
        with self._lock:
            indices = sorted(set(self._live) | set(self._scenarios))
            return [s for s in (self.get_live_scenario_stats(i) for i in indices) if s is not None]
