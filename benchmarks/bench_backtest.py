"""W6, signal-array backtests: fastpar.backtest against vectorbt's from_signals.

The same boolean arrays go to both: the entries and exits of the W3 RSI
grid (TA-Lib's RSI, period 2..50 x low {20, 25, 30} x high {70, 75, 80} =
441 columns; enter when RSI < low, leave when RSI > high) on one random
walk of 100,000 bars, 0.1% fees on every fill. Both fill at the bar's
close, all-in, long only (vectorbt's ``Portfolio.from_signals`` with its
defaults), and both yield total_return, max_drawdown and the number of
trades, which must agree (to 1e-9, and exactly) for the times to compare
the same work. Timed:

* ``fastpar.backtest(close, entries, exits, fees=0.001, threads=T)``, T = 1
  and 2: the seven metrics of every column, in C on the pool;
* ``fastpar.sweep`` of the same RSI grid, T = 1 and 2, as a yardstick: the
  same account, with the indicator and signals computed instead of read;
* vectorbt: ``vbt.Portfolio.from_signals(close, entries, exits,
  fees=0.001)`` then ``total_return()``, ``max_drawdown()`` and
  ``trades.count()``, after a warm-up call so that Numba compilation is
  excluded; and the ``from_signals`` call alone (its simulation, without
  the metrics), for a second ratio.

Building the signals (the RSI and the comparisons) is outside every
timing. The sides are timed alternately, round by round, each time the
best of its rounds.

Run alone: python benchmarks/bench_backtest.py [--quick]
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from typing import Callable

import numpy as np

import fastpar
from fastpar.synthetic import random_walk

TITLE = "W6: signal-array backtests, fastpar.backtest vs vectorbt's from_signals"

FEES = 0.001
TOL = 1e-9
THREADS = (1, 2)
PERIODS = range(2, 51)
LOWS = (20, 25, 30)
HIGHS = (70, 75, 80)


def signals(close: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The RSI grid's entries and exits, one column per set, C order."""
    import talib

    rsi = {p: talib.RSI(close, p) for p in PERIODS}
    sets = [(p, lo, hi) for p in PERIODS for lo in LOWS for hi in HIGHS]
    entries = np.empty((len(close), len(sets)), bool)
    exits = np.empty_like(entries)
    with np.errstate(invalid="ignore"):
        for j, (p, lo, hi) in enumerate(sets):
            entries[:, j] = rsi[p] < lo
            exits[:, j] = rsi[p] > hi
    return entries, exits


def _load() -> str:
    if not hasattr(os, "getloadavg"):
        return "unknown"
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def run(quick: bool, log: Callable[[str], None]) -> list[dict]:
    try:
        import pandas as pd
        import talib  # noqa: F401
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import vectorbt as vbt
    except ImportError as e:
        return [{"title": TITLE, "intro": f"Not run: {e}.", "headers": [], "rows": [],
                 "notes": []}]
    load_start = _load()
    n_bars = 5_000 if quick else 100_000
    rounds = 2 if quick else 5
    close = random_walk(1, n_bars, seed=42)[0]
    entries, exits = signals(close)
    k = entries.shape[1]
    log(f"  W6: {k} columns x {n_bars:,} bars")
    close_s, entries_df, exits_df = pd.Series(close), pd.DataFrame(entries), pd.DataFrame(exits)

    def vbt_full():
        pf = vbt.Portfolio.from_signals(close_s, entries_df, exits_df, fees=FEES)
        return (pf.total_return().to_numpy(), pf.max_drawdown().to_numpy(),
                pf.trades.count().to_numpy())

    def vbt_sim():
        return vbt.Portfolio.from_signals(close_s, entries_df, exits_df, fees=FEES)

    def ours(threads):
        def call():
            df = fastpar.backtest(close, entries, exits, fees=FEES, threads=threads)
            return (df.total_return.to_numpy(), df.max_drawdown.to_numpy(),
                    df.n_trades.to_numpy())
        return call

    grid = {"period": PERIODS, "low": LOWS, "high": HIGHS}

    def sweep(threads):
        def call():
            df = fastpar.sweep({"close": close}, "rsi_threshold", grid, fees=FEES,
                               threads=threads, progress=False)
            return (df.total_return.to_numpy(), df.max_drawdown.to_numpy(),
                    df.n_trades.to_numpy())
        return call

    configs = {f"fastpar.backtest, {t} thread{'s' * (t > 1)}": ours(t) for t in THREADS}
    configs.update({f"fastpar.sweep (RSI too), {t} thread{'s' * (t > 1)}": sweep(t)
                    for t in THREADS})
    configs["vectorbt from_signals + metrics"] = vbt_full
    configs["vectorbt from_signals alone"] = vbt_sim
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vbt.Portfolio.from_signals(close_s[:300], entries_df[:300], exits_df[:300], fees=FEES)
        best = {label: float("inf") for label in configs}
        results = {}
        for r in range(rounds):
            for label, call in configs.items():
                out = None
                t0 = time.perf_counter()
                out = call()
                best[label] = min(best[label], time.perf_counter() - t0)
                if r == 0:
                    results[label] = out
    a, b = results["fastpar.backtest, 1 thread"], results["vectorbt from_signals + metrics"]
    same = (np.allclose(a[0], b[0], rtol=TOL, atol=TOL)
            and np.allclose(a[1], b[1], rtol=TOL, atol=TOL) and np.array_equal(a[2], b[2]))
    c = results["fastpar.sweep (RSI too), 1 thread"]
    same = same and all(np.array_equal(u, v) for u, v in zip(a, c))
    trading = int((a[2] > 0).sum())
    one = best["fastpar.backtest, 1 thread"]
    rows = []
    for label, t in best.items():
        rows.append([
            label, f"{t * 1e3:,.1f} ms", f"{t / (k * n_bars) * 1e9:.2f}",
            f"{k / t:,.0f}",
            f"{best['vectorbt from_signals + metrics'] / t:.2f}x",
            f"{best['vectorbt from_signals alone'] / t:.2f}x",
            f"{one / t:.2f}x" if label.startswith("fastpar.backtest") else "—",
        ])
    return [{
        "title": f"{TITLE}: {k} columns × {n_bars:,} bars",
        "intro": (
            f"The same {k} boolean entry and exit columns (TA-Lib RSI thresholds, built outside "
            f"the timings) on one random walk of {n_bars:,} bars, 0.1% fees, long only. "
            "*ns/col-bar*: time over columns × bars. The ratios are each side's best time "
            f"over this row's, from the same run ({rounds} alternating rounds): above 1x this "
            "row is faster."
        ),
        "headers": ["implementation", "time", "ns/col-bar", "backtests/s",
                    "vs vectorbt + metrics", "vs vectorbt sim only", "vs fastpar 1 thread"],
        "rows": rows,
        "notes": [
            f"Same results: total_return and max_drawdown to {TOL:g}, trade counts exactly, in "
            f"all {k} columns ({trading} of which trade), and the same bytes as fastpar.sweep's "
            f"rows: {'yes' if same else 'NO'}.",
            "*fastpar.sweep (RSI too)*: the same 441 backtests as `fastpar.sweep(..., "
            "'rsi_threshold', ...)`, which computes the RSI and the signals as it goes instead "
            "of reading them; the same account steps both, so it shows what reading "
            f"2 x {entries.nbytes / 1e6:.0f} MB of signals costs against computing them, and how "
            "the two scale on this run's second core.",
            "fastpar computes all seven metrics of `fastpar.sweep.METRICS` in the same pass; "
            "vectorbt's row with metrics computes three (total return, max drawdown, trade "
            "count).",
            f"Load average at the start of this benchmark: {load_start}, at its end: "
            f"{_load()} (1 / 5 / 15 min, on {os.cpu_count()} CPUs): the 2-thread ratio is "
            "only as good as the second core the machine gives.",
        ],
    }]


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from run import cpu_model, render_sections

    from fastpar.allocator import keep_freed_memory

    keep_freed_memory()  # steady-state times, as benchmarks/run.py runs them
    print(f"_Run alone: `python benchmarks/bench_backtest.py` on {cpu_model()}, "
          f"{os.cpu_count()} logical CPUs, CPython {sys.version.split()[0]}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}._\n")

    result = run(quick="--quick" in sys.argv[1:],
                 log=lambda m: print(m, file=sys.stderr, flush=True))
    print(render_sections(result))
