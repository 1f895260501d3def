"""A drop-in ``BatchOrchestrator`` whose scenarios run on fastpar's C engine.

Users of the batch_orchestrator API switch with one import::

    from fastpar.batch_orchestrator import BatchOrchestrator

    orchestrator = BatchOrchestrator(scenarios, data_worker, app_config, performance_log)
    results = orchestrator.run()

The four arguments are the user's own objects (or fastpar's counterparts):

- ``scenarios``: TestScenario objects (or dicts with the same fields);
- ``data_worker``: the API's TickDataLoader, or fastpar's
  (:class:`fastpar.ticks.TickDataLoader`), called as the API calls it:
  ``load_symbol_data(symbol=, start_date=, end_date=, use_cache=True,
  data_mode=)`` per scenario, ``index_manager.get_coverage_report(symbol)``
  for timespan windows. Warm-up bars come from its ``bar_source`` if it has
  one, else, as in the API, from the bar files under ``./data/processed/``;
- ``app_config``: ``get_default_parallel_scenarios()`` and
  ``get_default_max_parallel_scenarios()``;
- ``performance_log``: the API's ScenarioSetPerformanceManager (or
  fastpar's), told what the API tells it: ``start_scenario_tracking``,
  ``set_trade_simulator`` (a live account of the scenario),
  ``set_live_status``, ``set_total_ticks``, ``update_live_stats(index,
  ticks_processed)``, ``add_scenario_stats`` with a ScenarioPerformanceStats
  of the user's framework (so its BatchSummary renders it), and
  ``set_metadata``.

``run()`` returns the API's summary, one entry per scenario in order:
``{"success": True, "scenario_name": ...}`` once its statistics are stored,
else ``{"error": ..., "scenario": ...}`` (one failure never stops the
others). Scenarios run as the API runs them (see :mod:`fastpar.scenarios`
for the steps and :mod:`fastpar.reference.scenario` for the tick rules); the
difference is that each one's tick loop is one C call with the GIL
released, so ``_run_parallel``'s threads really run at once. There is no
barrier between the threads: any number of scenarios runs on any number
of threads.

fastpar-only keywords: ``native=True`` runs the scenarios as one job of
fastpar's native pool instead of a ThreadPoolExecutor (``native=None``
reads ``execution.native_scenarios`` of the app config);
``progress=True`` shows a tqdm bar of ticks processed.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from . import _fastpar
from . import scenarios as _engine
from .bars import BarFiles
from .framework import Framework

__all__ = ["BatchOrchestrator"]

DEFAULT_PARALLEL_SCENARIOS = True
DEFAULT_MAX_PARALLEL_SCENARIOS = 4
MONITOR_INTERVAL_S = 0.1


def _execution_block(app_config) -> dict:
    if isinstance(app_config, dict):
        block = app_config.get("execution", {})
        return block if isinstance(block, dict) else {}
    getter = getattr(app_config, "get_execution_config", None)
    if callable(getter):
        try:
            block = getter()
        except KeyError:
            return {}
        return block if isinstance(block, dict) else {}
    return {}


def _config_value(app_config, method: str, key: str, default):
    """app_config.<method>(), or the execution block's key, or default."""
    getter = None if isinstance(app_config, dict) else getattr(app_config, method, None)
    if callable(getter):
        value = getter()
        if value is not None:
            return value
    value = _execution_block(app_config).get(key)
    return default if value is None else value


def _call(obj, method: str, *args, **kwargs) -> None:
    fn = getattr(obj, method, None)
    if callable(fn):
        fn(*args, **kwargs)


class _LivePortfolio:
    """What a performance log reads of a running scenario's account; the
    engine reports it when the scenario ends."""

    def __init__(self, initial_balance):
        self.initial_balance = initial_balance
        self.total_trades = self.winning_trades = self.losing_trades = 0
        self.equity = initial_balance

    def get_total_trades(self):
        return self.total_trades

    def get_winning_trades(self):
        return self.winning_trades

    def get_losing_trades(self):
        return self.losing_trades

    def get_equity(self):
        return self.equity


class _LiveAccount:
    def __init__(self, initial_balance):
        self.portfolio = _LivePortfolio(initial_balance)


class _ProgressMonitor:
    """Polls the engine's progress counters from a background thread and
    passes them to ``performance_log.update_live_stats`` and a tqdm bar."""

    def __init__(self, performance_log, show_bar: bool):
        self._log = performance_log
        self._lock = threading.Lock()
        self._watched: dict[int, tuple[np.ndarray, int]] = {}
        self._reported: dict[int, int] = {}
        self._stop = threading.Event()
        self._bar = None
        if show_bar:
            from tqdm import tqdm

            self._bar = tqdm(total=0, unit="tick", unit_scale=True, desc="scenarios")
        self._thread = threading.Thread(target=self._loop, name="fastpar-progress", daemon=True)

    def start(self):
        self._thread.start()
        return self

    def watch(self, index: int, counters: np.ndarray, slot: int, total: int) -> None:
        with self._lock:
            self._watched[index] = (counters, slot)
            if self._bar is not None:
                self._bar.total += total
                self._bar.refresh()

    def finish(self, index: int, ticks: int) -> None:
        with self._lock:
            self._watched.pop(index, None)
            self._advance(index, ticks)

    def _advance(self, index, done) -> None:
        before = self._reported.get(index, 0)
        if done != before:
            self._reported[index] = done
            if self._bar is not None:
                self._bar.update(done - before)

    def _report(self) -> None:
        with self._lock:
            updates = []
            for index, (counters, slot) in self._watched.items():
                done = int(counters[slot])
                if done != self._reported.get(index):
                    updates.append((index, done))
                    self._advance(index, done)
            # Under the lock, so no update can follow a scenario's finish().
            for index, done in updates:
                _call(self._log, "update_live_stats", index, done)

    def _loop(self) -> None:
        while not self._stop.wait(MONITOR_INTERVAL_S):
            self._report()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._report()
        if self._bar is not None:
            self._bar.close()


class BatchOrchestrator:
    """Runs a list of scenarios and reports them to ``performance_log``;
    see the module documentation."""

    def __init__(self, scenarios, data_worker, app_config, performance_log, *,
                 native: bool | None = None, progress: bool = False):
        self.scenarios = list(scenarios)
        self.data_worker = data_worker
        self.appConfig = app_config  # the API's attribute name
        self.app_config = app_config
        self.performance_log = performance_log
        if native is None:
            native = bool(_execution_block(app_config).get("native_scenarios", False))
        self.native = bool(native)
        self.progress = bool(progress)
        self._last_result = None
        # The classes the results and statuses are made of: the user's
        # framework's when the performance log or scenarios come from one.
        self.framework = Framework.of(performance_log, *self.scenarios[:1])
        self._brokers = _engine.BrokerFiles()
        self._bar_source = getattr(data_worker, "bar_source", None) or BarFiles("./data/processed/")
        self._monitor: _ProgressMonitor | None = None

    # -- configuration -------------------------------------------------------

    def _parallel_enabled(self) -> bool:
        return bool(_config_value(self.app_config, "get_default_parallel_scenarios",
                                  "default_parallel_scenarios", DEFAULT_PARALLEL_SCENARIOS))

    def _max_parallel(self) -> int:
        n = _config_value(self.app_config, "get_default_max_parallel_scenarios",
                          "default_max_parallel_scenarios", DEFAULT_MAX_PARALLEL_SCENARIOS)
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"max parallel scenarios must be an integer >= 1, got {n!r}")
        return n

    # -- public API ----------------------------------------------------------

    def run(self) -> dict[str, Any]:
        """Run every scenario; one failure never stops the others."""
        start = time.time()
        self._monitor = _ProgressMonitor(self.performance_log, self.progress).start()
        try:
            if self.native:
                results = self._run_native()
            elif self._parallel_enabled() and len(self.scenarios) > 1:
                results = self._run_parallel()
            else:
                results = self._run_sequential()
        finally:
            self._monitor.close()
            self._monitor = None
        execution_time = time.time() - start
        self.performance_log.set_metadata(execution_time=execution_time, success=True)
        return {
            "success": True,
            "scenarios_count": len(self.scenarios),
            "execution_time": execution_time,
            "scenario_results": results,
        }

    def get_last_orchestrator(self):
        """The last finished scenario's :class:`fastpar.scenarios.ScenarioResult`
        (trades, orders, statistics), for debugging; None before any."""
        return self._last_result

    # -- execution -----------------------------------------------------------

    def _error_entry(self, index: int, scenario, error: BaseException) -> dict[str, Any]:
        _call(self.performance_log, "set_live_status", scenario_index=index,
              status=self.framework.ScenarioStatus.FINISHED_WITH_ERROR)
        if self._monitor is not None:
            self._monitor.finish(index, 0)
        return {"error": str(error), "scenario": _engine.scenario_name(scenario)}

    def _run_sequential(self) -> list[dict[str, Any]]:
        results = []
        for index, scenario in enumerate(self.scenarios):
            try:
                results.append(self._execute_single_scenario(scenario, index))
            except Exception as e:  # noqa: BLE001 - one failure never stops the batch
                results.append(self._error_entry(index, scenario, e))
        return results

    def _run_parallel(self) -> list[dict[str, Any]]:
        results: list[dict[str, Any] | None] = [None] * len(self.scenarios)
        with ThreadPoolExecutor(max_workers=self._max_parallel()) as executor:
            futures = {
                executor.submit(self._execute_single_scenario, scenario, index): index
                for index, scenario in enumerate(self.scenarios)
            }
            for future, index in futures.items():
                try:
                    results[index] = future.result()
                except Exception as e:  # noqa: BLE001
                    results[index] = self._error_entry(index, self.scenarios[index], e)
        return results

    def _prepare(self, scenario, index: int) -> _engine.PreparedScenario:
        """The API's set-up of one scenario, with its live-tracking calls."""
        log, status = self.performance_log, self.framework.ScenarioStatus
        _call(log, "start_scenario_tracking", scenario_index=index,
              scenario_name=_engine.scenario_name(scenario), symbol=_engine._get(scenario, "symbol"))
        live = {}

        def on_step(step, value):
            if step == "broker":
                live["account"] = _LiveAccount(value)
                _call(log, "set_trade_simulator", index, live["account"])
            elif step == "data":
                _call(log, "set_live_status", scenario_index=index, status=status.WARMUP)
            elif step == "window":
                _call(log, "set_total_ticks", index, value)
            elif step == "warmup":
                _call(log, "set_live_status", scenario_index=index, status=status.WARMUP_COMPLETE)

        prep = _engine.prepare_scenario(scenario, self.data_worker, brokers=self._brokers,
                                        bar_source=self._bar_source, on_step=on_step)
        prep.live_account = live.get("account")
        return prep

    def _finish(self, index: int, prep, result) -> dict[str, Any]:
        account = getattr(prep, "live_account", None)
        if account is not None:
            p, ps = account.portfolio, result.portfolio_stats
            p.total_trades, p.winning_trades, p.losing_trades = (
                ps.total_trades, ps.winning_trades, ps.losing_trades)
            p.equity = result.portfolio_value
        _call(self.performance_log, "update_live_stats", index, result.ticks_processed)
        if self._monitor is not None:
            self._monitor.finish(index, result.ticks_processed)
        self.performance_log.add_scenario_stats(
            index, result.to_performance_stats(index, types=self.framework))
        self._last_result = result
        return {"success": True, "scenario_name": result.scenario_name}

    def _execute_single_scenario(self, scenario, scenario_index: int, barrier=None):
        """Run one scenario on the calling thread (the engine runs with the
        GIL released) and report it; raises if it cannot run."""
        prep = self._prepare(scenario, scenario_index)
        counter = np.zeros(1, dtype=np.int64)
        if self._monitor is not None:
            self._monitor.watch(scenario_index, counter, 0, len(prep.window))
        _call(self.performance_log, "set_live_status", scenario_index=scenario_index,
              status=self.framework.ScenarioStatus.RUNNING)
        started = time.perf_counter()
        (outcome,) = _fastpar.run_scenarios([prep.window.arrays()], [prep.spec], [prep.hook], 1,
                                            counter)
        elapsed = time.perf_counter() - started
        status, r, detail = outcome
        if status != 0:
            raise _engine.engine_error(prep, status, detail)
        return self._finish(scenario_index, prep, _engine.build_result(prep, r, elapsed))

    def _run_native(self) -> list[dict[str, Any]]:
        """All scenarios as one job of the native pool."""
        threads = self._max_parallel() if self._parallel_enabled() else 1
        results: list[dict[str, Any] | None] = [None] * len(self.scenarios)
        prepared = []
        for index, scenario in enumerate(self.scenarios):
            try:
                prepared.append((index, self._prepare(scenario, index)))
            except Exception as e:  # noqa: BLE001
                results[index] = self._error_entry(index, scenario, e)
        counters = np.zeros(len(prepared), dtype=np.int64)
        for slot, (index, prep) in enumerate(prepared):
            _call(self.performance_log, "set_live_status", scenario_index=index,
                  status=self.framework.ScenarioStatus.RUNNING)
            if self._monitor is not None:
                self._monitor.watch(index, counters, slot, len(prep.window))
        started = time.perf_counter()
        outcomes = _fastpar.run_scenarios([p.window.arrays() for _, p in prepared],
                                          [p.spec for _, p in prepared],
                                          [p.hook for _, p in prepared], threads, counters)
        elapsed = time.perf_counter() - started
        for (index, prep), (status, r, detail) in zip(prepared, outcomes, strict=True):
            try:
                if status != 0:
                    raise _engine.engine_error(prep, status, detail)
                results[index] = self._finish(index, prep, _engine.build_result(prep, r, elapsed))
            except Exception as e:  # noqa: BLE001
                results[index] = self._error_entry(index, self.scenarios[index], e)
        return results
