"""The GIL problem and its fix, on indicator batches and trading scenarios.

Run it with ``python -m fastpar.demo`` (``make demo`` does the set-up).
The same batch runs sequentially and through a ThreadPoolExecutor, once as
pure Python (the GIL lets one thread run at a time: no speed-up) and once
with fastpar's kernels (the GIL is released: the threads run at once).
Then the shipped sample scenario set runs through the batch_orchestrator
drop-in, sequentially and with threads. The data is fastpar's embedded
synthetic random walk and its sample tick data (synthetic EURUSD,
:func:`fastpar.ticks.sample_data`).
"""

from __future__ import annotations

import argparse
import os
import sys
import sysconfig
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Sequence

import numpy as np

import fastpar
from fastpar import reference
from fastpar.allocator import keep_freed_memory
from fastpar.synthetic import random_walk_ohlc


def _best_of(repeats: int, fn: Callable[[], object]) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def indicator_batch(high: np.ndarray, low: np.ndarray, close: np.ndarray,
                    threads: int | None = None) -> list[np.ndarray]:
    """What a research job computes for a series (or, 2-D, for every row): six
    fastpar indicators."""
    out = [fastpar.rsi(close, 14, threads=threads), fastpar.ema(close, 20, threads=threads)]
    out += fastpar.macd(close, 12, 26, 9, threads=threads)
    out += fastpar.bbands(close, 20, 2.0, 2.0, threads=threads)
    out.append(fastpar.atr(high, low, close, 14, threads=threads))
    out += fastpar.stoch(high, low, close, 5, 3, 3, threads=threads)
    return out


def python_batch(close: np.ndarray) -> np.ndarray:
    """The same kind of work in pure Python: the reference RSI."""
    return reference.rsi(close, 14)


def run_both(work: Callable[[int], object], n: int, threads: int, repeats: int):
    sequential, seq_result = _best_of(repeats, lambda: [work(i) for i in range(n)])
    with ThreadPoolExecutor(max_workers=threads) as pool:
        threaded, thr_result = _best_of(repeats, lambda: list(pool.map(work, range(n))))
    return sequential, threaded, seq_result, thr_result


def scenario_batches(threads: int) -> list[tuple[str, float, float, bool]]:
    """The sample scenario set, and a balanced set of four CPU-heavy windows
    (the heavy workers' load runs natively, GIL released), each run by
    BatchOrchestrator sequentially and with ``threads`` threads."""
    import dataclasses

    from fastpar.batch_orchestrator import BatchOrchestrator
    from fastpar.performance import ScenarioSetPerformanceManager
    from fastpar.scenario_config import AppConfig, ScenarioConfigLoader
    from fastpar.ticks import sample_data

    sample = ScenarioConfigLoader().load_config("sample_scenarios.json")
    heavy = next(sc for sc in sample if "heavy" in sc.name)
    days = ["2025-09-08", "2025-09-09", "2025-09-10", "2025-09-11"]
    balanced = [
        dataclasses.replace(heavy, name=f"EURUSD_heavy_{d}", start_date=f"{d}T12:00:00+00:00",
                            end_date=f"{d}T23:59:59+00:00")
        for d in days
    ]
    data = sample_data()
    rows = []
    for label, scenarios in [("sample scenario set", sample), ("4 heavy scenarios", balanced)]:
        times, stats = [], []
        for parallel in (False, True):
            app = AppConfig.from_dict({"execution": {"default_parallel_scenarios": parallel,
                                                     "default_max_parallel_scenarios": threads}})
            log = ScenarioSetPerformanceManager()
            result = BatchOrchestrator(scenarios, data, app, log).run()
            failed = [r for r in result["scenario_results"] if not r.get("success")]
            if failed:
                raise RuntimeError(f"{label}: scenarios failed: {failed}")
            times.append(result["execution_time"])
            stats.append([(s.ticks_processed, s.portfolio_stats.total_trades, s.portfolio_value)
                          for s in log.get_all_scenarios()])
        rows.append((f"fastpar scenarios, {label} ({len(scenarios)})", times[0], times[1],
                     stats[0] == stats[1]))
    return rows


def sweep_batch(threads: int):
    """The RSI-threshold grid of 441 parameter sets (period 2-50, low 20/25/30,
    high 70/75/80, 0.1% fees) over 100,000 bars, on one thread and on the
    native pool. Returns the table row and the results."""
    bars = random_walk_ohlc(1, 100_000, seed=11)
    data = {k: v[0] for k, v in bars.items()}
    grid = {"period": range(2, 51), "low": [20, 25, 30], "high": [70, 75, 80]}

    def run(t):
        return fastpar.sweep(data, "rsi_threshold", grid, threads=t, progress=False, fees=0.001)

    one_time, one = _best_of(2, lambda: run(1))
    pool_time, pooled = _best_of(2, lambda: run(threads))
    row = (f"fastpar sweep, {len(one)} RSI-threshold sets x 100,000 bars (native pool)",
           one_time, pool_time, one.equals(pooled))
    return row, pooled


def _same(a: Sequence, b: Sequence) -> bool:
    def flat(r):
        return r if isinstance(r, (list, tuple)) else [r]

    return all(
        np.array_equal(x, y, equal_nan=True)
        for ra, rb in zip(a, b)
        for x, y in zip(flat(ra), flat(rb))
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fastpar.demo", description=__doc__.split("\n")[0])
    parser.add_argument("--series", type=int, default=64, help="series in the batch (default 64)")
    parser.add_argument("--length", type=int, default=100_000, help="prices per series")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2,
                        help="ThreadPoolExecutor workers (default: CPU count)")
    parser.add_argument("--py-series", type=int, default=16, help="series for the pure-Python run")
    parser.add_argument("--py-length", type=int, default=50_000, help="prices per pure-Python series")
    parser.add_argument("--repeats", type=int, default=3, help="best of this many runs")
    args = parser.parse_args(argv)

    # Steady state: outputs reuse warm pages instead of faulting in fresh
    # ones on every call (see fastpar.allocator and docs/threading.md).
    steady = keep_freed_memory()
    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    build = "free-threaded" if sysconfig.get_config_var("Py_GIL_DISABLED") else "GIL"
    print(f"fastpar {fastpar.__version__} demo: Python {sys.version.split()[0]} ({build} build, "
          f"GIL {'on' if gil else 'off'}), {os.cpu_count()} CPUs, "
          f"ThreadPoolExecutor({args.threads}), best of {args.repeats}, "
          f"{'freed memory kept' if steady else 'allocator as it is'}")

    bars = random_walk_ohlc(args.series, args.length, seed=7)
    high, low, close = bars["high"], bars["low"], bars["close"]
    rows = []

    n_py = min(args.py_series, args.series)
    py_close = close[:n_py, : args.py_length]
    seq, thr, a, b = run_both(lambda i: python_batch(py_close[i]), n_py, args.threads, 1)
    rows.append((f"pure Python RSI, {n_py} x {py_close.shape[1]:,}", seq, thr, _same(a, b)))
    py_rate = n_py * py_close.shape[1] / seq

    seq, thr, a, b = run_both(
        lambda i: indicator_batch(high[i], low[i], close[i]), args.series, args.threads, args.repeats
    )
    rows.append((f"fastpar, 6 indicators, {args.series} x {args.length:,}", seq, thr, _same(a, b)))

    # The whole batch as one 2-D call per indicator, rows on the native pool,
    # against the same calls confined to the calling thread.
    seq_2d, one = _best_of(args.repeats, lambda: indicator_batch(high, low, close, threads=1))
    pool_2d, pooled = _best_of(args.repeats, lambda: indicator_batch(high, low, close))
    rows.append((f"fastpar, same batch as 2-D calls (native pool, {fastpar.get_num_threads()} threads)",
                 seq_2d, pool_2d, _same([one], [pooled])))
    seq_rsi, _ = _best_of(args.repeats, lambda: [fastpar.rsi(c, 14) for c in close])
    fp_rate = args.series * args.length / seq_rsi

    rows += scenario_batches(args.threads)
    sweep_row, sweep_result = sweep_batch(args.threads)
    rows.append(sweep_row)

    width = max(len(r[0]) for r in rows)
    print(f"\n{'workload':<{width}}  {'sequential':>10}  {'threads':>10}  {'speed-up':>8}  identical")
    for name, s, t, same in rows:
        print(f"{name:<{width}}  {s:9.3f}s  {t:9.3f}s  {s / t:7.2f}x  {'yes' if same else 'NO'}")
    print(f"\nRSI per thread: fastpar {fp_rate / 1e6:,.0f} M prices/s, pure Python "
          f"{py_rate / 1e6:,.2f} M prices/s ({fp_rate / py_rate:,.0f}x)")
    best = sweep_result.sort_values("total_return", ascending=False, kind="stable").head(3)
    print("\nBest RSI-threshold sets by total return:")
    print(best.to_string(index=False))
    if not all(r[3] for r in rows):
        print("error: threaded results differ from sequential ones", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
