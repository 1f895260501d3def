"""A drop-in ``BatchOrchestrator`` whose scenarios run on fastpar's C kernel.

Users of the batch_orchestrator API switch with one import::

    from fastpar.batch_orchestrator import BatchOrchestrator

    orchestrator = BatchOrchestrator(scenarios, data_worker, app_config, performance_log)
    results = orchestrator.run()

The constructor, ``run()``'s result, the side effects on ``performance_log``
and the private methods users patch (``_run_sequential``, ``_run_parallel``,
``_execute_single_scenario``) behave as the API defines them. What changes is
where a scenario runs: each one is a single call into the C kernel, which
holds no GIL while it replays the ticks, so the threads of
``_run_parallel``'s ``ThreadPoolExecutor`` really run at once.

Arguments (duck typing: fastpar's classes or the user's own objects):

- ``scenarios``: a list of :class:`~fastpar.scenario_config.TestScenario`,
  or of objects / dicts with the same fields.
- ``data_worker``: where the ticks come from. An object with
  ``get_ticks(symbol)`` (fastpar's :class:`~fastpar.ticks.TickDataLoader`)
  is asked for the symbol's arrays; otherwise ``load_symbol_data(symbol)``
  (the API's loader call, no date arguments: the whole history, as the
  warm-up reads ticks before the window) is called. Either may return a
  :class:`~fastpar.ticks.TickArrays`, a pandas DataFrame with ``timestamp,
  bid, ask[, volume]`` columns (or a DatetimeIndex), or a dict of arrays.
  Each symbol is loaded and validated once per orchestrator; all its
  scenarios share the same read-only arrays (no copy per scenario).
- ``app_config``: ``get_default_parallel_scenarios()`` (default True) and
  ``get_default_max_parallel_scenarios()`` (default 4) are used when
  present; a missing method, a ``KeyError`` from it, or ``None`` gives the
  default. A plain dict ``{"execution": {...}}`` or ``None`` also works.
- ``performance_log``: needs ``add_scenario_stats(index, stats)`` and
  ``set_metadata(execution_time=..., success=...)``. The live-progress
  methods of :class:`~fastpar.performance.ScenarioSetPerformanceManager`
  (``start_scenario_tracking``, ``set_live_status``, ``set_total_ticks``,
  ``set_portfolio_balance``, ``update_live_stats``) are called when it has
  them.

fastpar-only keywords:

- ``native=True``: run each symbol's scenarios as one job of fastpar's
  native thread pool (:func:`fastpar.scenarios.run_scenarios`) instead of a
  ``ThreadPoolExecutor`` (threads: ``get_default_max_parallel_scenarios()``,
  or 1 when parallel scenarios are off). ``native=None`` (the default)
  reads ``execution.native_scenarios`` from the app config (via
  ``get_execution_config()`` or a dict), False if absent. In native mode
  ``_run_sequential`` / ``_run_parallel`` / ``_execute_single_scenario``
  are not called, and each result's ``elapsed_time`` is the wall time of
  its symbol's whole job.
- ``progress=True``: show a tqdm bar of ticks processed over the total.

Live progress: while scenarios run, a monitor thread reads the kernel's
per-scenario tick counters (updated every 2048 ticks) about ten times a
second and passes them to ``performance_log.update_live_stats(index,
ticks_processed)`` and to the progress bar.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

import numpy as np

from . import scenarios as _kernel
from .performance import ScenarioStatus
from .reference.scenario import _get, select_window
from .ticks import TickArrays, frame_timestamps

__all__ = ["BatchOrchestrator"]

DEFAULT_PARALLEL_SCENARIOS = True
DEFAULT_MAX_PARALLEL_SCENARIOS = 4
MONITOR_INTERVAL_S = 0.1


# ---------------------------------------------------------------------------
# Duck-typed inputs
# ---------------------------------------------------------------------------


def _execution_block(app_config) -> dict:
    if app_config is None:
        return {}
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
        try:
            value = getter()
        except KeyError:
            value = None
        if value is not None:
            return value
    value = _execution_block(app_config).get(key)
    return default if value is None else value


def _scenario_name(scenario) -> str:
    name = _get(scenario, "name")
    if name:
        return str(name)
    return f"{_get(scenario, 'symbol')}_{_get(scenario, 'start_date')}_{_get(scenario, 'end_date')}"


def as_tick_arrays(symbol: str, data) -> TickArrays:
    """One symbol's ticks as validated read-only arrays, from what a data
    worker returned: TickArrays (used as is), a DataFrame or a dict."""
    if isinstance(data, TickArrays):
        return data
    source = f"tick data of {symbol}"
    if isinstance(data, dict):
        missing = [k for k in ("timestamp", "bid", "ask") if k not in data]
        if missing:
            raise ValueError(f"{source}: missing {missing}")
        return TickArrays.from_arrays(
            symbol, data["timestamp"], data["bid"], data["ask"], data.get("volume"), source=source
        )
    columns = getattr(data, "columns", None)
    if columns is not None:  # a pandas DataFrame
        missing = [k for k in ("bid", "ask") if k not in columns]
        if missing:
            raise ValueError(f"{source}: missing column(s) {missing}; found {list(columns)}")
        volume = data["volume"].to_numpy() if "volume" in columns else None
        return TickArrays.from_arrays(
            symbol,
            frame_timestamps(data),
            data["bid"].to_numpy(),
            data["ask"].to_numpy(),
            volume,
            source=source,
        )
    raise TypeError(
        f"{source}: expected TickArrays, a DataFrame or a dict of arrays, got {type(data).__name__}"
    )


def _load_ticks(data_worker, symbol: str) -> TickArrays:
    get_ticks = getattr(data_worker, "get_ticks", None)
    if callable(get_ticks):
        return as_tick_arrays(symbol, get_ticks(symbol))
    load = getattr(data_worker, "load_symbol_data", None)
    if callable(load):
        return as_tick_arrays(symbol, load(symbol))
    raise TypeError(
        f"data_worker {type(data_worker).__name__} has neither get_ticks(symbol) "
        "nor load_symbol_data(symbol)"
    )


def _call_optional(obj, method: str, *args, **kwargs) -> None:
    fn = getattr(obj, method, None)
    if callable(fn):
        fn(*args, **kwargs)


# ---------------------------------------------------------------------------
# Live progress
# ---------------------------------------------------------------------------


class _ProgressMonitor:
    """Polls the kernel's progress counters from a background thread and
    reports them to the performance log and an optional tqdm bar."""

    def __init__(self, performance_log, total_ticks: int, show_bar: bool):
        self._log = performance_log
        self._lock = threading.Lock()
        self._watched: dict[int, tuple[np.ndarray, int]] = {}
        self._reported: dict[int, int] = {}
        self._finished: dict[int, int] = {}
        self._stop = threading.Event()
        self._bar = None
        self._bar_n = 0
        if show_bar:
            from tqdm import tqdm

            self._bar = tqdm(total=total_ticks, unit="tick", unit_scale=True, desc="scenarios")
        self._thread = threading.Thread(target=self._loop, name="fastpar-progress", daemon=True)

    def start(self):
        self._thread.start()
        return self

    def watch(self, index: int, counters: np.ndarray, slot: int) -> None:
        with self._lock:
            self._watched[index] = (counters, slot)

    def finish(self, index: int, ticks: int) -> None:
        """The scenario ended (ticks it processed; 0 if it failed)."""
        with self._lock:
            self._watched.pop(index, None)
            self._finished[index] = ticks
        self._report()

    def _report(self) -> None:
        with self._lock:
            updates = []
            for index, (counters, slot) in self._watched.items():
                done = int(counters[slot])
                if done != self._reported.get(index):
                    self._reported[index] = done
                    updates.append((index, done))
            # The log is updated under the lock, so no update for a
            # scenario can follow its finish().
            for index, done in updates:
                _call_optional(self._log, "update_live_stats", index, done)
            total = sum(self._reported.get(i, 0) for i in self._watched)
            total += sum(self._finished.values())
            if self._bar is not None and total != self._bar_n:
                self._bar.update(total - self._bar_n)
                self._bar_n = total

    def _loop(self) -> None:
        while not self._stop.wait(MONITOR_INTERVAL_S):
            self._report()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._report()
        if self._bar is not None:
            self._bar.close()


# ---------------------------------------------------------------------------
# The orchestrator
# ---------------------------------------------------------------------------


class BatchOrchestrator:
    """Runs a list of scenarios and reports them to ``performance_log``;
    see the module documentation."""

    def __init__(
        self,
        scenarios,
        data_worker,
        app_config,
        performance_log,
        *,
        native: bool | None = None,
        progress: bool = False,
    ):
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
        self._ticks: dict[str, Any] = {}  # symbol -> TickArrays or the exception
        self._ticks_lock = threading.Lock()
        self._symbol_locks: dict[str, threading.Lock] = {}
        self._brokers = _kernel.BrokerConfigs()  # each broker file read once
        self._counters = np.zeros(len(self.scenarios), dtype=np.int64)
        self._monitor: _ProgressMonitor | None = None

    # -- configuration -------------------------------------------------------

    def _parallel_enabled(self) -> bool:
        return bool(
            _config_value(
                self.app_config,
                "get_default_parallel_scenarios",
                "default_parallel_scenarios",
                DEFAULT_PARALLEL_SCENARIOS,
            )
        )

    def _max_parallel(self) -> int:
        n = _config_value(
            self.app_config,
            "get_default_max_parallel_scenarios",
            "default_max_parallel_scenarios",
            DEFAULT_MAX_PARALLEL_SCENARIOS,
        )
        try:
            n = int(n)
        except (TypeError, ValueError):
            raise ValueError(f"max parallel scenarios must be an integer, got {n!r}") from None
        if n < 1:
            raise ValueError(f"max parallel scenarios must be >= 1, got {n}")
        return n

    # -- public API ----------------------------------------------------------

    def run(self) -> dict[str, Any]:
        """Run every scenario; one failure never stops the others."""
        start = time.time()
        self._monitor = _ProgressMonitor(
            self.performance_log, self._total_ticks(), self.progress
        ).start()
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
        """The last finished scenario's full result (a
        :class:`~fastpar.reference.scenario.ScenarioResult`: trades, orders,
        worker statistics), for debugging; None before any has run. fastpar
        has no per-scenario coordinator object; this is its counterpart."""
        return self._last_result

    # -- ticks ---------------------------------------------------------------

    def _ticks_for(self, symbol: str) -> TickArrays:
        """The symbol's ticks, loaded once and shared by every scenario; a
        failed load is remembered and re-raised for each of its scenarios."""
        with self._ticks_lock:
            if symbol in self._ticks:
                cached = self._ticks[symbol]
            else:
                cached = None
                lock = self._symbol_locks.setdefault(symbol, threading.Lock())
        if cached is None:
            with lock:
                with self._ticks_lock:
                    cached = self._ticks.get(symbol)
                if cached is None:
                    try:
                        cached = _load_ticks(self.data_worker, symbol)
                    except Exception as e:  # noqa: BLE001 - reported per scenario
                        cached = e
                    with self._ticks_lock:
                        self._ticks[symbol] = cached
        if isinstance(cached, BaseException):
            raise cached
        return cached

    def _window_size(self, scenario) -> int:
        ticks = self._ticks_for(_get(scenario, "symbol"))
        lo, hi = select_window(
            ticks.timestamp,
            _get(scenario, "start_date"),
            _get(scenario, "end_date"),
            _get(scenario, "max_ticks"),
        )
        return hi - lo

    def _total_ticks(self) -> int:
        total = 0
        for scenario in self.scenarios:
            try:
                total += self._window_size(scenario)
            except Exception:  # noqa: BLE001 - the scenario reports it when it runs
                pass
        return total

    # -- execution -----------------------------------------------------------

    def _error_entry(self, index: int, scenario, error: BaseException) -> dict[str, Any]:
        _call_optional(
            self.performance_log, "set_live_status", index, ScenarioStatus.FINISHED_WITH_ERROR
        )
        if self._monitor is not None:
            self._monitor.finish(index, 0)
        return {"error": str(error), "scenario": _scenario_name(scenario)}

    def _run_sequential(self) -> list[dict[str, Any]]:
        results = []
        for index, scenario in enumerate(self.scenarios):
            try:
                results.append(self._execute_single_scenario(scenario, index))
            except Exception as e:  # noqa: BLE001 - one failure never stops the batch
                results.append(self._error_entry(index, scenario, e))
        return results

    def _run_parallel(self) -> list[dict[str, Any]]:
        max_workers = min(self._max_parallel(), max(1, len(self.scenarios)))
        results: list[dict[str, Any] | None] = [None] * len(self.scenarios)
        # No barrier between the threads: each scenario starts as soon as a
        # thread is free, so any number of scenarios runs on any number of
        # threads.
        with ThreadPoolExecutor(max_workers=max_workers) as executor:
            futures = {
                executor.submit(self._execute_single_scenario, scenario, index): index
                for index, scenario in enumerate(self.scenarios)
            }
            for future in as_completed(futures):
                index = futures[future]
                try:
                    results[index] = future.result()
                except Exception as e:  # noqa: BLE001
                    results[index] = self._error_entry(index, self.scenarios[index], e)
        return results

    def _begin_scenario(self, scenario, index: int):
        """Live tracking and window of one scenario; returns its ticks."""
        log = self.performance_log
        _call_optional(log, "start_scenario_tracking", index, _scenario_name(scenario),
                       _get(scenario, "symbol"))
        _call_optional(log, "set_live_status", index, ScenarioStatus.WARMUP)
        ticks = self._ticks_for(_get(scenario, "symbol"))
        _call_optional(log, "set_total_ticks", index, self._window_size(scenario))
        sim = _get(scenario, "trade_simulator_config") or {}
        _call_optional(log, "set_portfolio_balance", index,
                       float(sim.get("initial_balance", 10000.0)))
        _call_optional(log, "set_live_status", index, ScenarioStatus.WARMUP_COMPLETE)
        return ticks

    def _finish_scenario(self, scenario, index: int, result) -> dict[str, Any]:
        log = self.performance_log
        p = result.portfolio_stats
        _call_optional(
            log,
            "update_live_stats",
            index,
            result.ticks_processed,
            total_trades=p.total_trades,
            winning_trades=p.winning_trades,
            losing_trades=p.losing_trades,
            portfolio_value=result.portfolio_value,
        )
        if self._monitor is not None:
            self._monitor.finish(index, result.ticks_processed)
        log.add_scenario_stats(index, result.to_performance_stats(index))
        self._last_result = result
        return {"success": True, "scenario_name": result.scenario_name}

    def _execute_single_scenario(self, scenario, scenario_index: int) -> dict[str, Any]:
        """Run one scenario on the calling thread (the C kernel runs with
        the GIL released) and report it; raises if it cannot run."""
        ticks = self._begin_scenario(scenario, scenario_index)
        if 0 <= scenario_index < len(self._counters):
            counter = self._counters[scenario_index : scenario_index + 1]
        else:
            counter = np.zeros(1, dtype=np.int64)
        if self._monitor is not None:
            self._monitor.watch(scenario_index, counter, 0)
        _call_optional(self.performance_log, "set_live_status", scenario_index,
                       ScenarioStatus.RUNNING)
        # run_scenarios with one scenario and threads=1 is run_scenario's
        # kernel call on this thread, plus a progress counter.
        (result,) = _kernel.run_scenarios(
            ticks, [scenario], threads=1, progress=False, progress_counts=counter,
            broker=self._brokers,
        )
        if isinstance(result, BaseException):
            raise result
        return self._finish_scenario(scenario, scenario_index, result)

    def _run_native(self) -> list[dict[str, Any]]:
        """Each symbol's scenarios as one job of the native pool."""
        threads = self._max_parallel() if self._parallel_enabled() else 1
        results: list[dict[str, Any] | None] = [None] * len(self.scenarios)
        by_symbol: dict[str, list[int]] = {}
        for index, scenario in enumerate(self.scenarios):
            try:
                self._begin_scenario(scenario, index)
            except Exception as e:  # noqa: BLE001
                results[index] = self._error_entry(index, scenario, e)
                continue
            by_symbol.setdefault(_get(scenario, "symbol"), []).append(index)
        for symbol, indices in by_symbol.items():
            ticks = self._ticks_for(symbol)
            counters = np.zeros(len(indices), dtype=np.int64)
            for slot, index in enumerate(indices):
                _call_optional(self.performance_log, "set_live_status", index,
                               ScenarioStatus.RUNNING)
                if self._monitor is not None:
                    self._monitor.watch(index, counters, slot)
            try:
                outcomes = _kernel.run_scenarios(
                    ticks, [self.scenarios[i] for i in indices], threads=threads,
                    progress=False, progress_counts=counters, broker=self._brokers,
                )
            except Exception:  # noqa: BLE001 - e.g. a TypeError from one odd scenario
                # Find the culprit(s): one scenario per call, so that a
                # failure stays that scenario's own.
                outcomes = []
                for index in indices:
                    try:
                        (outcome,) = _kernel.run_scenarios(
                            ticks, [self.scenarios[index]], threads=1, progress=False,
                            broker=self._brokers,
                        )
                    except Exception as e:  # noqa: BLE001
                        outcome = e
                    outcomes.append(outcome)
            for index, outcome in zip(indices, outcomes, strict=True):
                scenario = self.scenarios[index]
                if isinstance(outcome, BaseException):
                    results[index] = self._error_entry(index, scenario, outcome)
                else:
                    results[index] = self._finish_scenario(scenario, index, outcome)
        return results
