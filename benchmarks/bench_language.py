"""W8, your own strategies: fastpar.strategy against hand-written Numba loops.

Three strategies, each swept on one random walk of 100,000 bars with 0.1%
fees, long only:

* RSI threshold, 441 sets: enter when RSI(period) < low, leave when
  RSI > high (period 2..50 x low {20, 25, 30} x high {70, 75, 80});
* MA cross, 476 sets: long while SMA(fast) > SMA(slow) (fast 2..18 x slow
  20, 25, ..., 155);
* RSI + SMA(200) filter + 10-bar cooldown, 441 sets: enter when RSI <
  low, the close is above its 200-bar SMA and 10 bars have passed since
  the last exit; leave when RSI > high.

fastpar runs each as a ``fastpar.strategy`` written in the language (and
the first two also by the built-in name). Numba runs the loop a strong
user writes in an afternoon: ``@njit(nogil=True)``, fused, one pass per
set over bars, each indicator computed once per distinct period and
shared by the sets that read it (outside nothing: its time is included),
all-in fills at the close with fees, and the same metrics' running sums
(total return, Sharpe's sums, max drawdown, trades, wins). Both must
agree on every set's trade count and total return (to 1e-6: the Numba
loop does not snap balances as vectorbt does) for the times to compare
the same work. Numba's compilation is excluded (a warm-up call). The
sides are timed alternately, best of the rounds.

Run alone: python benchmarks/bench_language.py [--quick]
"""

from __future__ import annotations

import os
import sys
import time
from typing import Callable

import numpy as np

import fastpar
from bench_backtest import _load  # the load average, as W6 reports it
from fastpar.synthetic import random_walk

TITLE = "W8: your own strategies, fastpar.strategy vs hand-written Numba"

FEES = 0.001
RSI_GRID = {"period": range(2, 51), "low": [20, 25, 30], "high": [70, 75, 80]}
MA_GRID = {"fast": range(2, 19), "slow": range(20, 160, 5)}


def strategies():
    rsi = fastpar.strategy(
        entry=lambda b, p: fastpar.rsi(b.close, p.period) < p.low,
        exit=lambda b, p: fastpar.rsi(b.close, p.period) > p.high, name="rsi_threshold")
    ma = fastpar.strategy(
        entry=lambda b, p: fastpar.sma(b.close, p.fast) > fastpar.sma(b.close, p.slow),
        exit=lambda b, p: fastpar.sma(b.close, p.fast) < fastpar.sma(b.close, p.slow),
        name="ma_cross")
    cooldown = fastpar.strategy(
        entry=lambda b, p: (fastpar.rsi(b.close, p.period) < p.low)
        & (b.close > fastpar.sma(b.close, 200)) & (b.bars_since_exit >= 10),
        exit=lambda b, p: fastpar.rsi(b.close, p.period) > p.high, name="rsi_sma_cooldown")
    return rsi, ma, cooldown


# --------------------------------------------------------------------------
# The hand-written Numba side


def numba_kernels():
    from numba import njit

    @njit(nogil=True, cache=False)
    def rsi(x, p):
        out = np.full(len(x), np.nan)
        g = 0.0
        lo = 0.0
        for i in range(1, len(x)):
            d = x[i] - x[i - 1]
            up = d if d > 0.0 else 0.0
            dn = up - d
            if i < p:
                g += up
                lo += dn
                continue
            if i == p:
                g = (g + up) / p
                lo = (lo + dn) / p
            else:
                g = (g * (p - 1) + up) / p
                lo = (lo * (p - 1) + dn) / p
            s = g + lo
            out[i] = g / s * 100.0 if s > 0.0 else 0.0
        return out

    @njit(nogil=True, cache=False)
    def sma(x, p):
        out = np.full(len(x), np.nan)
        total = 0.0
        for i in range(len(x)):
            total += x[i]
            if i >= p:
                total -= x[i - p]
            if i >= p - 1:
                out[i] = total / p
        return out

    @njit(nogil=True, cache=False)
    def account(close, entries, exits, cooldown, fees, out):
        """One set: all-in at the close with fees; out: total return,
        sum r, sum r^2, max drawdown, trades, wins."""
        cash, pos, cost, prev = 100.0, 0.0, 0.0, 100.0
        growth, peak, max_dd = 1.0, 1.0, 0.0
        sum_r, sum_r2, trades, wins = 0.0, 0.0, 0, 0
        last_exit = -1_000_000_000
        for t in range(len(close)):
            c = close[t]
            e, x = entries[t], exits[t]
            if pos == 0.0 and e and not x and t - last_exit >= cooldown:
                pos = cash / (c * (1.0 + fees))
                cost = cash
                cash = 0.0
            elif pos > 0.0 and x and not e:
                got = pos * c * (1.0 - fees)
                trades += 1
                wins += got > cost
                cash, pos = got, 0.0
                last_exit = t
            v = cash + pos * c
            if v != prev:
                r = v / prev - 1.0
                sum_r += r
                sum_r2 += r * r
                growth *= 1.0 + r
                if growth > peak:
                    peak = growth
                dd = growth / peak - 1.0
                if dd < max_dd:
                    max_dd = dd
                prev = v
        if pos > 0.0:
            trades += 1
            wins += pos * close[-1] > cost
        out[0] = prev / 100.0 - 1.0
        out[1], out[2], out[3], out[4], out[5] = sum_r, sum_r2, max_dd, trades, wins

    @njit(nogil=True, cache=False)
    def rsi_sweep(close, periods, lows, highs, trend_period, cooldown, fees, out):
        """Sets (periods[i], lows[i], highs[i]), sorted by period: each RSI
        once, the signals of a set in two reused buffers."""
        n = len(close)
        entries = np.empty(n, np.bool_)
        exits = np.empty(n, np.bool_)
        trend = sma(close, trend_period) if trend_period > 0 else close
        r = rsi(close, periods[0])
        for i in range(len(periods)):
            if i > 0 and periods[i] != periods[i - 1]:
                r = rsi(close, periods[i])
            for t in range(n):
                entries[t] = r[t] < lows[i] and (trend_period == 0 or close[t] > trend[t])
                exits[t] = r[t] > highs[i]
            account(close, entries, exits, cooldown, fees, out[i])

    @njit(nogil=True, cache=False)
    def ma_sweep(close, fasts, slows, fees, out):
        """Sets (fasts[i], slows[i]), sorted by slow: each slow SMA once,
        each fast one from a table of all fast periods computed once."""
        n = len(close)
        entries = np.empty(n, np.bool_)
        exits = np.empty(n, np.bool_)
        lo = fasts.min()
        table = np.empty((fasts.max() - lo + 1, n))
        for f in range(lo, fasts.max() + 1):
            table[f - lo] = sma(close, f)
        s = sma(close, slows[0])
        for i in range(len(fasts)):
            if i > 0 and slows[i] != slows[i - 1]:
                s = sma(close, slows[i])
            f = table[fasts[i] - lo]
            for t in range(n):
                entries[t] = f[t] > s[t]
                exits[t] = f[t] < s[t]
            account(close, entries, exits, 0, fees, out[i])

    return rsi_sweep, ma_sweep


def run(quick: bool, log: Callable[[str], None]) -> list[dict]:
    try:
        rsi_sweep, ma_sweep = numba_kernels()
    except ImportError as e:
        return [{"title": TITLE, "intro": f"Not run: {e}.", "headers": [], "rows": [],
                 "notes": []}]
    load_start = _load()
    n_bars = 5_000 if quick else 100_000
    rounds = 2 if quick else 5
    close = random_walk(1, n_bars, seed=42)[0]
    bars = {"close": close}
    own_rsi, own_ma, own_cool = strategies()
    rsi_sets = np.array([(p, lo, hi) for p in RSI_GRID["period"] for lo in RSI_GRID["low"]
                         for hi in RSI_GRID["high"]], dtype=np.float64)
    ma_sets = np.array([(f, s) for s in MA_GRID["slow"] for f in MA_GRID["fast"]],
                       dtype=np.int64)
    ma_grid = MA_GRID

    def nb_rsi(trend, cooldown):
        def call():
            out = np.empty((len(rsi_sets), 6))
            rsi_sweep(close, rsi_sets[:, 0].astype(np.int64), rsi_sets[:, 1], rsi_sets[:, 2],
                      trend, cooldown, FEES, out)
            return out
        return call

    def nb_ma():
        out = np.empty((len(ma_sets), 6))
        ma_sweep(close, ma_sets[:, 0].copy(), ma_sets[:, 1].copy(), FEES, out)
        return out

    def ours(strat, grid, threads=1):
        def call():
            return fastpar.sweep(bars, strat, grid, fees=FEES, threads=threads, progress=False)
        return call

    workloads = [
        ("RSI threshold", len(rsi_sets), {
            "fastpar.strategy, 1 thread": ours(own_rsi, RSI_GRID),
            "fastpar.strategy, 2 threads": ours(own_rsi, RSI_GRID, 2),
            "fastpar built-in rsi_threshold, 1 thread": ours("rsi_threshold", RSI_GRID),
            "Numba @njit(nogil=True), 1 thread": nb_rsi(0, 0),
        }),
        ("MA cross", len(ma_sets), {
            "fastpar.strategy, 1 thread": ours(own_ma, ma_grid),
            "fastpar.strategy, 2 threads": ours(own_ma, ma_grid, 2),
            "fastpar built-in ma_cross (sma), 1 thread": ours(
                "ma_cross", {**ma_grid, "kind": ["sma"]}),
            "Numba @njit(nogil=True), 1 thread": nb_ma,
        }),
        ("RSI + SMA(200) + 10-bar cooldown", len(rsi_sets), {
            "fastpar.strategy, 1 thread": ours(own_cool, RSI_GRID),
            "fastpar.strategy, 2 threads": ours(own_cool, RSI_GRID, 2),
            "Numba @njit(nogil=True), 1 thread": nb_rsi(200, 10),
        }),
    ]
    for _, _, configs in workloads:  # warm-up: Numba's compilation, first touches
        for call in configs.values():
            call()
    rows, notes = [], []
    for name, k, configs in workloads:
        log(f"  W8: {name}, {k} sets x {n_bars:,} bars")
        best = {label: float("inf") for label in configs}
        results = {}
        for r in range(rounds):
            for label, call in configs.items():
                t0 = time.perf_counter()
                out = call()
                best[label] = min(best[label], time.perf_counter() - t0)
                results.setdefault(label, out)
        nb_label = next(lb for lb in configs if lb.startswith("Numba"))
        ours_df = results["fastpar.strategy, 1 thread"]
        nb = results[nb_label]
        if name == "MA cross":  # Numba's sets are ordered by slow, fast
            order = {(f, s): i for i, (f, s) in enumerate(ma_sets.tolist())}
            idx = [order[(f, s)] for f, s in zip(ours_df["fast"], ours_df["slow"])]
            nb = nb[idx]
        same = (np.array_equal(ours_df["n_trades"].to_numpy(), nb[:, 4])
                and np.allclose(ours_df["total_return"].to_numpy(), nb[:, 0], rtol=1e-6,
                                atol=1e-9))
        notes.append(f"{name}: the same trade counts and total returns (to 1e-6) in all {k} "
                     f"sets as the Numba loop: {'yes' if same else 'NO'} "
                     f"({int((nb[:, 4] > 0).sum())} sets trade).")
        one = best["fastpar.strategy, 1 thread"]
        for label, t in best.items():
            rows.append([name, label, f"{t * 1e3:,.1f} ms", f"{t / (k * n_bars) * 1e9:.2f}",
                         f"{best[nb_label] / t:.2f}x",
                         f"{one / t:.2f}x" if label.startswith("fastpar.strategy") else "—"])
    notes.append(
        f"Load average at the start: {load_start}, at the end: {_load()} (1 / 5 / 15 min, on "
        f"{os.cpu_count()} CPUs).")
    return [{
        "title": f"{TITLE}: {n_bars:,} bars",
        "intro": (
            "Each strategy written with `fastpar.strategy` and swept by `fastpar.sweep`, "
            "against the fused loop a strong user writes with Numba (benchmarks/"
            "bench_language.py). *ns/set-bar*: time over sets × bars. Ratios are from the "
            f"same run ({rounds} alternating rounds, each side's best): above 1x this row is "
            "faster than Numba."),
        "headers": ["strategy", "implementation", "time", "ns/set-bar", "vs Numba",
                    "vs fastpar.strategy 1 thread"],
        "rows": rows,
        "notes": notes,
    }]


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from run import cpu_model, render_sections

    from fastpar.allocator import keep_freed_memory

    keep_freed_memory()
    print(f"_Run alone: `python benchmarks/bench_language.py` on {cpu_model()}, "
          f"{os.cpu_count()} logical CPUs, CPython {sys.version.split()[0]}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}._\n")
    result = run(quick="--quick" in sys.argv[1:],
                 log=lambda m: print(m, file=sys.stderr, flush=True))
    print(render_sections(result))
