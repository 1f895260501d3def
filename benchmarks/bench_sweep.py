"""W3, parameter sweeps: fastpar.sweep against vectorbt, a fused Numba loop and backtesting.py.

Two strategy grids, with 0.1% fees on every fill:

* RSI threshold: Wilder's RSI (TA-Lib's), period 2..50 x low {20, 25, 30} x
  high {70, 75, 80} = 441 parameter sets; enter when RSI < low, leave when
  RSI > high; on 1 series x 100,000 bars and on 100 series x 10,000 bars;
* MA cross: SMA(fast) against SMA(slow), 2 <= fast < slow <= 100 = 4,851
  pairs; long while fast > slow, flat while fast < slow (fastpar's
  ma_cross); on 1 series x 100,000 bars.

Every backtest fills at the bar's close, all-in, long only, proportional
fees (vectorbt's ``Portfolio.from_signals`` with ``size=inf``), and yields
total_return, max_drawdown and the number of trades. They run through:

* ``fastpar.sweep(..., threads=T, progress=False)``, T = 1 and 2;
* vectorbt, the way its users write it: the indicator over every period at
  once (TA-Lib's RSI through ``vbt.IndicatorFactory.from_talib``, since
  ``vbt.RSI`` is a different RSI; ``vbt.MA`` for the SMAs), signals broadcast
  over the grid, ``vbt.Portfolio.from_signals(close, entries, exits,
  fees=0.001)``, then total_return, max_drawdown and trade count; all of it
  timed, after a warm-up call so that Numba compilation is excluded;
* a fused Numba loop written below: one ``@njit(parallel=True)`` function
  whose ``prange`` iterations each compute the indicator and simulate one
  parameter set; with ``numba.set_num_threads(1)`` and ``(2)``;
* backtesting.py's ``Backtest.optimize``, in one process, on a 27-set subset
  of the RSI grid on 10,000 bars (a Python call per bar makes it three
  orders of magnitude slower); it fills at the next bar's open: only its
  speed is compared.

The Numba loop is checked against vectorbt and against fastpar (same
total_return to 1e-9, same trade counts) so the timings compare the same
work. Reported: backtests per second, nanoseconds per bar per parameter set,
the ratios, and the peak memory of a fresh process running a 100,000-set
sweep against the size of its data plus its results.

Run alone: python benchmarks/bench_sweep.py [--quick] [--json]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

import fastpar
from fastpar.synthetic import random_walk, random_walk_ohlc

try:
    import pandas as pd
except ImportError:
    pd = None
try:
    import talib
except ImportError:  # e.g. free-threaded Python: no TA-Lib wheel
    talib = None

# The peers, imported by load_peers() (vectorbt's import alone takes seconds,
# which a fresh process measuring fastpar's memory does not need); None when
# not installed.
numba = vbt = backtesting = None


def load_peers() -> None:
    global numba, vbt, backtesting
    import importlib

    for name, module in (("numba", "numba"), ("vbt", "vectorbt"), ("backtesting", "backtesting")):
        if globals()[name] is None:
            try:
                globals()[name] = importlib.import_module(module)
            except ImportError:  # vectorbt needs numba too
                pass


TITLE = "W3: parameter sweeps, fastpar.sweep vs vectorbt, Numba and backtesting.py"

FEES = 0.001
INIT_CASH = 100.0  # vectorbt's default; returns do not depend on it
MIN_SIZE = 1e-8  # shares: vectorbt's default smallest order, which fastpar.sweep follows
THREADS = (1, 2)
GOAL_VS_VECTORBT = 2.0  # fastpar on 1 thread
GOAL_TWO_THREADS = 1.8  # fastpar, 2 threads over 1
GOAL_VS_BACKTESTING = 100.0  # fastpar on 1 thread
TOL = 1e-9  # total_return and max_drawdown agree to this, absolute and relative

NOT_INSTALLED = "not installed"


def _sweep_function() -> Callable | None:
    return getattr(fastpar, "sweep", None)


# --------------------------------------------------------------------------
# The grids


@dataclass
class Grid:
    strategy: str  # fastpar's name
    params: dict  # fastpar's grid: name -> values (cartesian product, last fastest)
    columns: dict = field(default_factory=dict)  # name -> 1-D array, one entry per valid set, grid order

    @property
    def n_sets(self) -> int:
        return len(next(iter(self.columns.values())))


def rsi_grid(periods, lows, highs) -> Grid:
    p, lo, hi = np.meshgrid(np.asarray(periods, np.int64), np.asarray(lows, np.float64),
                            np.asarray(highs, np.float64), indexing="ij")
    return Grid("rsi_threshold", {"period": list(periods), "low": list(lows), "high": list(highs)},
                {"period": p.ravel(), "low": lo.ravel(), "high": hi.ravel()})


def ma_grid(windows) -> Grid:
    windows = list(windows)
    pairs = [(f, s) for f in windows for s in windows if f < s]
    return Grid("ma_cross", {"fast": windows, "slow": windows, "kind": ["sma"]},
                {"fast": np.array([f for f, _ in pairs], np.int64),
                 "slow": np.array([s for _, s in pairs], np.int64)})


def fine_rsi_grid(n_periods: int, n_lows: int, n_highs: int) -> Grid:
    """A fine threshold grid: n_periods x n_lows x n_highs sets (0.5-point steps)."""
    return rsi_grid(range(2, 2 + n_periods), [5.0 + 0.5 * i for i in range(n_lows)],
                    [70.0 + 0.5 * i for i in range(n_highs)])


# --------------------------------------------------------------------------
# The fused Numba loop: one prange iteration = one parameter set (and asset)

_NUMBA_KERNELS: dict = {}


def numba_kernels() -> dict:
    """Compile (once) and return the fused kernels; needs numba."""
    if _NUMBA_KERNELS:
        return _NUMBA_KERNELS
    from numba import njit, prange

    @njit(nogil=True, cache=False, inline="always")
    def _too_small(size):
        # vectorbt's default min_size: no order for fewer than 1e-8 shares
        # (compared with its is_close_nb tolerances)
        if size >= MIN_SIZE:
            return False
        return abs(size - MIN_SIZE) > max(1e-9 * MIN_SIZE, 1e-12)

    @njit(nogil=True, cache=False, inline="always")
    def _fill(price, signal_in, signal_out, fees, state):
        # state: cash, position, peak value, max drawdown (<= 0), trades.
        # vectorbt's from_signals, long only, size=inf: a buy spends all the
        # cash, fees included (size = cash / (1 + fees) / price); a sell
        # closes the whole position and pays fees on the proceeds.
        if state[1] == 0.0:
            if signal_in:
                size = state[0] / (1.0 + fees) / price
                if not _too_small(size):
                    state[1] = size
                    state[0] = 0.0
                    state[4] += 1.0
        elif signal_out and not _too_small(state[1]):
            proceeds = state[1] * price
            state[0] += proceeds - proceeds * fees
            state[1] = 0.0
        value = state[0] + state[1] * price
        if value > state[2]:
            state[2] = value
        drawdown = value / state[2] - 1.0
        if drawdown < state[3]:
            state[3] = drawdown

    @njit(parallel=True, nogil=True, cache=False)
    def rsi_threshold(close, periods, lows, highs, fees, init_cash):
        n_assets, n = close.shape
        n_params = periods.shape[0]
        out = np.empty((n_assets * n_params, 3))
        for k in prange(n_assets * n_params):
            a = k // n_params
            p = k % n_params
            period = periods[p]
            low = lows[p]
            high = highs[p]
            state = np.empty(5)
            state[0] = init_cash
            state[1] = 0.0
            state[2] = init_cash
            state[3] = 0.0
            state[4] = 0.0
            gain = 0.0
            loss = 0.0
            prev = close[a, 0]
            for i in range(1, n):
                price = close[a, i]
                d = price - prev
                prev = price
                # Wilder's RSI exactly as TA-Lib computes it
                if i <= period:
                    if d < 0.0:
                        loss -= d
                    else:
                        gain += d
                    if i < period:
                        continue
                    loss /= period
                    gain /= period
                else:
                    loss *= period - 1
                    gain *= period - 1
                    if d < 0.0:
                        loss -= d
                    else:
                        gain += d
                    loss /= period
                    gain /= period
                total = gain + loss
                rsi = 100.0 * (gain / total) if (total > 1e-14 or total < -1e-14) else 0.0
                _fill(price, rsi < low, rsi > high, fees, state)
            value = state[0] + state[1] * close[a, n - 1]
            out[k, 0] = value / init_cash - 1.0
            out[k, 1] = state[3]
            out[k, 2] = state[4]
        return out

    @njit(parallel=True, nogil=True, cache=False)
    def ma_cross(close, fasts, slows, fees, init_cash):
        n_assets, n = close.shape
        n_params = fasts.shape[0]
        out = np.empty((n_assets * n_params, 3))
        for k in prange(n_assets * n_params):
            a = k // n_params
            p = k % n_params
            fast = fasts[p]
            slow = slows[p]
            state = np.empty(5)
            state[0] = init_cash
            state[1] = 0.0
            state[2] = init_cash
            state[3] = 0.0
            state[4] = 0.0
            # TA-Lib's SMA: one running sum from the first bar, the newest
            # value added before the mean is taken and the oldest dropped after
            sum_fast = 0.0
            sum_slow = 0.0
            mf = 0.0
            for i in range(n):
                price = close[a, i]
                sum_fast += price
                sum_slow += price
                if i >= fast - 1:
                    mf = sum_fast / fast
                    sum_fast -= close[a, i - fast + 1]
                if i < slow - 1:
                    continue
                ms = sum_slow / slow
                sum_slow -= close[a, i - slow + 1]
                # state, not crossing: long while fast > slow, flat while below
                _fill(price, mf > ms, mf < ms, fees, state)
            value = state[0] + state[1] * close[a, n - 1]
            out[k, 0] = value / init_cash - 1.0
            out[k, 1] = state[3]
            out[k, 2] = state[4]
        return out

    _NUMBA_KERNELS.update(rsi_threshold=rsi_threshold, ma_cross=ma_cross)
    return _NUMBA_KERNELS


def numba_sweep(close2d: np.ndarray, grid: Grid, threads: int) -> np.ndarray:
    """(n_assets * n_sets, 3): total_return, max_drawdown, n_trades; assets outer."""
    kernels = numba_kernels()
    numba.set_num_threads(threads)
    c = grid.columns
    if grid.strategy == "rsi_threshold":
        return kernels["rsi_threshold"](close2d, c["period"], c["low"], c["high"], FEES, INIT_CASH)
    return kernels["ma_cross"](close2d, c["fast"], c["slow"], FEES, INIT_CASH)


# --------------------------------------------------------------------------
# vectorbt, as its users write it


def vectorbt_sweep(close2d: np.ndarray, grid: Grid, chunk: int) -> tuple:
    """total_return, max_drawdown, trade count (each one entry per set,
    assets outer) through vectorbt, `chunk` portfolio columns per call at
    most (to bound its memory)."""
    n_assets, n = close2d.shape
    if grid.strategy == "rsi_threshold":
        return _vectorbt_rsi(close2d, grid, chunk)
    # MA cross: pairs of windows, column by column (vectorbt's default pairing)
    fasts, slows = grid.columns["fast"], grid.columns["slow"]
    parts = []
    for a in range(n_assets):
        close = pd.Series(close2d[a])
        for start in range(0, len(fasts), chunk):
            fw, sw = fasts[start:start + chunk], slows[start:start + chunk]
            fast_ma = vbt.MA.run(close, window=fw, short_name="fast")
            slow_ma = vbt.MA.run(close, window=sw, short_name="slow")
            entries = fast_ma.ma_above(slow_ma)
            exits = fast_ma.ma_below(slow_ma)
            pf = vbt.Portfolio.from_signals(close, entries, exits, fees=FEES)
            parts.append(_vectorbt_stats(pf))
    return tuple(np.concatenate(x) for x in zip(*parts))


_TALIB_RSI = None


def _vectorbt_rsi(close2d: np.ndarray, grid: Grid, chunk: int, builtin: bool = False) -> tuple:
    global _TALIB_RSI
    if _TALIB_RSI is None and not builtin:
        _TALIB_RSI = vbt.IndicatorFactory.from_talib("RSI")
    periods = np.asarray(grid.params["period"])
    lows = np.asarray(grid.params["low"], np.float64)
    highs = np.asarray(grid.params["high"], np.float64)
    n_assets, n = close2d.shape
    per_period = len(lows) * len(highs)
    per_asset = len(periods) * per_period
    # several assets per portfolio, or one asset and some of its periods
    if per_asset <= chunk:
        blocks = [(slice(a, a + chunk // per_asset), periods) for a in range(0, n_assets, chunk // per_asset)]
    else:
        step = max(1, chunk // per_period)
        blocks = [(slice(a, a + 1), periods[p:p + step]) for a in range(n_assets)
                  for p in range(0, len(periods), step)]
    parts = []
    for assets, ps in blocks:
        block = close2d[assets]
        m = len(block)
        close = pd.DataFrame(block.T) if m > 1 else pd.Series(block[0])
        # columns: period outer, asset inner
        rsi = (vbt.RSI.run(close, window=ps).rsi if builtin else _TALIB_RSI.run(close, timeperiod=ps).real).to_numpy()
        rsi = rsi.reshape(n, len(ps), m).transpose(0, 2, 1)[:, :, :, None, None]
        shape = (n, m, len(ps), len(lows), len(highs))
        entries = np.broadcast_to(rsi < lows[:, None], shape).reshape(n, -1)
        exits = np.broadcast_to(rsi > highs, shape).reshape(n, -1)
        if m > 1:  # each asset's close under its own columns
            close = pd.DataFrame(np.repeat(block.T, len(ps) * per_period, axis=1))
        pf = vbt.Portfolio.from_signals(close, pd.DataFrame(entries), pd.DataFrame(exits), fees=FEES)
        parts.append(_vectorbt_stats(pf))
    return tuple(np.concatenate(x) for x in zip(*parts))


def vectorbt_builtin_rsi(close2d: np.ndarray, grid: Grid, chunk: int) -> tuple:
    """The same, with vectorbt's own ``vbt.RSI.run(close, window=periods)``
    (plain rolling means of gains and losses, not Wilder's smoothing):
    different signals, similar work."""
    return _vectorbt_rsi(close2d, grid, chunk, builtin=True)


def _vectorbt_stats(pf) -> tuple:
    return (np.asarray(pf.total_return(), np.float64), np.asarray(pf.max_drawdown(), np.float64),
            np.asarray(pf.trades.count(), np.float64))


# --------------------------------------------------------------------------
# fastpar.sweep


def fastpar_data(close2d: np.ndarray) -> dict:
    if len(close2d) == 1:
        return {"close": close2d[0]}
    return {f"a{i:03d}": {"close": row} for i, row in enumerate(close2d)}


def fastpar_stats(result) -> tuple:
    return tuple(result[c].to_numpy(np.float64) for c in ("total_return", "max_drawdown", "n_trades"))


# --------------------------------------------------------------------------
# backtesting.py (fills at the next bar's open: only its speed is compared)


def backtesting_optimize(bars, grid: Grid) -> int:
    """Backtest.optimize over the grid in this process; returns how many
    backtests it ran (the grid, plus the best set run once more)."""
    from backtesting import Backtest, Strategy

    class RsiThreshold(Strategy):
        period, low, high = 14, 30.0, 70.0

        def init(self):
            self.rsi = self.I(lambda c, p: fastpar.rsi(np.asarray(c, np.float64), int(p)),
                              self.data.Close, self.period)

        def next(self):
            r = self.rsi[-1]
            if not self.position:
                if r < self.low:
                    self.buy()
            elif r > self.high:
                self.position.close()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bt = Backtest(bars, RsiThreshold, cash=1_000_000, commission=FEES)
        bt.optimize(period=grid.params["period"], low=grid.params["low"], high=grid.params["high"],
                    maximize="Return [%]")
    return grid.n_sets + 1


def _backtesting_one_process() -> Callable[[], None]:
    """Make Backtest.optimize run in this process (a one-thread pool), without
    its progress bar; returns the undo."""
    import backtesting.backtesting as bt_module
    from multiprocessing.dummy import Pool as ThreadPool

    saved = backtesting.Pool, getattr(bt_module, "_tqdm", None)
    backtesting.Pool = lambda *a, **k: ThreadPool(1)
    if saved[1] is not None:
        bt_module._tqdm = lambda seq, *a, **k: seq

    def undo() -> None:
        backtesting.Pool = saved[0]
        if saved[1] is not None:
            bt_module._tqdm = saved[1]
    return undo


# --------------------------------------------------------------------------
# Timing and agreement


@dataclass
class Config:
    label: str
    threads: int | None
    call: Callable[[], Any]  # the timed work
    warm: Callable[[], Any]  # the same on a few bars: compiles what needs compiling
    stats: Callable[[Any], tuple] = lambda r: r  # its output -> (total_return, max_drawdown, n_trades)
    missing: str | None = None  # why it cannot run here
    n_backtests: int = 0
    rows: np.ndarray | None = None  # the sets it runs, as indices into the whole sweep (None: all)
    best: float = float("inf")
    result: tuple | None = None
    error: str | None = None


def time_configs(configs: list[Config], rounds: int, budget: float, log: Callable,
                 short: float = 0.0, short_rounds: int = 0) -> None:
    """A warm-up call each on a few bars (Numba compilation), then `rounds`
    rounds, every config once per round, in turn; the first round's outputs
    are kept for the agreement checks, and a config whose call took more
    than `budget` seconds is not repeated. A config whose best call takes
    at most `short` seconds runs `short_rounds` rounds in all: a short run
    is the one a moment of load on the host spoils, and more rounds cost
    little. Each time is the best of its rounds."""
    live = [c for c in configs if c.missing is None]
    for r in range(max(rounds, short_rounds)):
        for c in live:
            if c.error is not None or (r > 0 and c.best > budget):
                continue
            if r >= rounds and c.best > short:
                continue
            try:
                if r == 0:
                    c.warm()
                out = None  # the last config's output is freed before the clock starts
                t0 = time.perf_counter()
                out = c.call()
                c.best = min(c.best, time.perf_counter() - t0)
                if r == 0:
                    c.result = tuple(np.asarray(x, np.float64) for x in c.stats(out))
            except Exception as e:  # a peer's failure is reported in its row, not fatal
                c.error = f"{type(e).__name__}: {e}"[:200]
                log(f"    {c.label}: failed: {c.error}")


def agreement(a: tuple, b: tuple) -> dict:
    """Per-set agreement of (total_return, max_drawdown, n_trades) arrays.
    max_drawdown is compared by magnitude (sign conventions differ)."""
    tr_a, dd_a, nt_a = a
    tr_b, dd_b, nt_b = b
    if tr_a.shape != tr_b.shape:
        return {"n": len(tr_a), "shape": f"{len(tr_a)} vs {len(tr_b)} sets"}
    tr = np.isclose(tr_a, tr_b, rtol=TOL, atol=TOL)
    dd = np.isclose(np.abs(dd_a), np.abs(dd_b), rtol=TOL, atol=TOL)
    nt = nt_a == nt_b
    return {"n": len(tr_a), "tr": int(tr.sum()), "dd": int(dd.sum()), "nt": int(nt.sum()),
            "all": bool(tr.all() and dd.all() and nt.all()),
            "max_diff": float(np.max(np.abs(tr_a - tr_b))) if len(tr_a) else 0.0}


def fmt_time(s: float) -> str:
    if s < 1e-3:
        return f"{s * 1e6:.0f} µs"
    return f"{s * 1e3:.1f} ms" if s < 1 else f"{s:.2f} s"


def fmt_rate(per_s: float) -> str:
    if per_s >= 1e6:
        return f"{per_s / 1e6:.2f} M"
    if per_s >= 1e4:
        return f"{per_s / 1e3:.0f} k"
    if per_s >= 1e3:
        return f"{per_s / 1e3:.1f} k"
    return f"{per_s:.1f}" if per_s < 100 else f"{per_s:.0f}"


def fmt_ratio(r: float | None) -> str:
    if r is None:
        return "—"
    return f"{r:,.0f}x" if r >= 100 else f"{r:.2f}x"


# --------------------------------------------------------------------------
# Peak memory, in a fresh process


def _status_kb(key: str) -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def memory_worker(spec: dict) -> dict:
    """Runs in a fresh interpreter: a small warm-up (imports, compilation,
    the pool's threads), then the peak-RSS high-water mark is reset where
    Linux allows it, the sweep runs, and the growth is read."""
    n_bars, impl = spec["bars"], spec["impl"]
    grid = fine_rsi_grid(*spec["fine"]) if spec.get("fine") else rsi_grid(*spec["rsi"])
    warm = rsi_grid(range(2, 4), [30.0], [70.0])
    close2d = random_walk(1, n_bars, seed=3)
    if impl == "fastpar":
        sweep = _sweep_function()
        data = fastpar_data(close2d)
        sweep(fastpar_data(close2d[:, :500]), warm.strategy, warm.params, fees=FEES, progress=False,
              threads=spec["threads"])

        def go():
            result = sweep(data, grid.strategy, grid.params, fees=FEES, progress=False, threads=spec["threads"])
            return result, int(result.memory_usage(index=True, deep=True).sum())
    else:
        load_peers()
        vectorbt_sweep(close2d[:, :500], warm, chunk=10**9)

        def go():
            result = vectorbt_sweep(close2d, grid, chunk=10**9)
            return result, sum(x.nbytes for x in result)
    try:  # "5" resets the peak RSS to the current RSS (Linux >= 4.0)
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
        reset = True
    except OSError:
        reset = False
    before_rss, before_hwm = _status_kb("VmRSS"), _status_kb("VmHWM")
    t0 = time.perf_counter()
    result, result_bytes = go()
    seconds = time.perf_counter() - t0
    peak = _status_kb("VmHWM")
    return {"impl": impl, "n_sets": grid.n_sets, "bars": n_bars, "reset": reset,
            "before_kb": before_rss if reset else before_hwm, "peak_kb": peak,
            "data_bytes": int(close2d.nbytes), "result_bytes": result_bytes, "seconds": seconds}


def measure_memory(spec: dict, timeout: float) -> dict:
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--memory-worker", json.dumps(spec)],
                          capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"worker failed: {tail[:200]}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def fmt_mb(n_bytes: float) -> str:
    if n_bytes < 1e5:
        return f"{n_bytes / 1e3:.0f} kB"
    mb = n_bytes / 1e6
    return f"{mb:.1f} MB" if mb < 100 else f"{mb:,.0f} MB"


# --------------------------------------------------------------------------
# The benchmark


@dataclass
class Workload:
    name: str
    grid: Grid
    n_assets: int
    n_bars: int
    vbt_chunk: int  # portfolio columns per vectorbt call
    builtin_rsi: bool = False  # also time vectorbt's own vbt.RSI
    vbt_assets: int | None = None  # vectorbt runs the first vbt_assets series only (None: all)
    vbt_stride: int = 1  # ... and every vbt_stride-th parameter set (MA cross only)

    def vbt_rows(self) -> np.ndarray | None:
        """The backtests vectorbt runs, as indices into the whole sweep."""
        if self.vbt_assets in (None, self.n_assets) and self.vbt_stride == 1:
            return None
        sets = np.arange(0, self.grid.n_sets, self.vbt_stride)
        assets = np.arange(self.vbt_assets or self.n_assets)
        return (assets[:, None] * self.grid.n_sets + sets).ravel()

    def vbt_grid(self) -> Grid:
        if self.vbt_stride == 1:
            return self.grid
        return Grid(self.grid.strategy, self.grid.params,
                    {k: v[::self.vbt_stride] for k, v in self.grid.columns.items()})

    @property
    def shape(self) -> str:
        return f"{self.n_assets} × {self.n_bars:,}"

    @property
    def n_backtests(self) -> int:
        return self.n_assets * self.grid.n_sets


def workloads(quick: bool) -> list[Workload]:
    if quick:
        rsi = rsi_grid(range(2, 11), [20.0, 25.0, 30.0], [70.0, 75.0, 80.0])
        return [Workload("RSI threshold", rsi, 1, 5_000, 27, builtin_rsi=True),
                Workload("RSI threshold", rsi, 4, 2_000, 200, vbt_assets=3),
                Workload("MA cross (SMA)", ma_grid(range(2, 21)), 1, 5_000, 100, vbt_stride=2)]
    rsi = rsi_grid(range(2, 51), [20.0, 25.0, 30.0], [70.0, 75.0, 80.0])
    # vectorbt takes about a microsecond per bar and set, and its time grows
    # with the number of backtests: it runs a tenth of the larger sweeps
    # vectorbt holds about 100 bytes per bar and backtest: it gets at most
    # 10-15 million of those per call (1-1.5 GB)
    return [Workload("RSI threshold", rsi, 1, 100_000, 147, builtin_rsi=True),
            Workload("RSI threshold", rsi, 100, 10_000, 882, vbt_assets=10),
            Workload("MA cross (SMA)", ma_grid(range(2, 101)), 1, 100_000, 100, vbt_stride=10)]


def _peer_missing(name: str) -> str | None:
    if pd is None:
        return "pandas " + NOT_INSTALLED
    mod = {"numba": numba, "vectorbt": vbt, "backtesting.py": backtesting}[name]
    return f"{name} {NOT_INSTALLED}" if mod is None else None


def run(quick: bool = False, log: Callable[[str], None] = print) -> list[dict]:
    from run import steady_malloc  # benchmarks/ is on sys.path, standalone or from run.py

    load_peers()
    malloc_note = steady_malloc() or "glibc's mallopt is not available: allocator left as it is."
    cores = os.cpu_count() or 1
    threads = [t for t in THREADS if t <= cores]
    rounds, budget = (2, 1.0) if quick else (3, 20.0)
    short, short_rounds = (0.0, 0) if quick else (2.5, 9)
    sweep = _sweep_function()
    sweep_missing = None if sweep is not None else "fastpar.sweep is not in this build"
    if sweep is not None and pd is None:
        sweep_missing = "pandas " + NOT_INSTALLED
    pool_size = fastpar.get_num_threads()
    if pool_size < max(threads):
        fastpar.set_num_threads(max(threads))

    from fastpar.gil_benchmark import cpu_capacity  # the same probe as W2's

    spin = 1_000_000 if quick else 5_000_000
    capacity = [cpu_capacity(cores, spin)]
    log(f"  CPU probe: {capacity[0]:.2f} ({cores}.0 = {cores} full CPUs)")
    sections, goal_rows, agree_rows, speed = [], [], [], {}
    try:
        for w in workloads(quick):
            close2d = random_walk(w.n_assets, w.n_bars, seed=11 + w.n_assets)
            few = close2d[:, :min(w.n_bars, 300)]
            configs: list[Config] = []
            if sweep is not None:
                data, few_data = fastpar_data(close2d), fastpar_data(few)

                def fastpar_call(t: int, d: Any) -> Callable[[], Any]:
                    return lambda: sweep(d, w.grid.strategy, w.grid.params, threads=t, progress=False, fees=FEES)
            for t in threads:
                configs.append(Config("fastpar.sweep", t,
                                      fastpar_call(t, data) if sweep is not None else None,
                                      fastpar_call(t, few_data) if sweep is not None else None,
                                      fastpar_stats, sweep_missing, w.n_backtests))
            for t in threads:
                configs.append(Config("Numba prange, fused", t, lambda t=t: numba_sweep(close2d, w.grid, t),
                                      lambda t=t: numba_sweep(few, w.grid, t), lambda r: tuple(r.T),
                                      _peer_missing("numba"), w.n_backtests))
            vbt_missing = _peer_missing("vectorbt") or (
                "TA-Lib " + NOT_INSTALLED if w.grid.strategy == "rsi_threshold" and talib is None else None)
            vbt_rows, vbt_grid = w.vbt_rows(), w.vbt_grid()
            vbt_close = close2d[:w.vbt_assets]
            configs.append(Config("vectorbt" + (" (TA-Lib RSI)" if w.grid.strategy == "rsi_threshold" else ""), 1,
                                  lambda: vectorbt_sweep(vbt_close, vbt_grid, w.vbt_chunk),
                                  lambda: vectorbt_sweep(few[:1], vbt_grid, w.vbt_chunk),
                                  missing=vbt_missing, rows=vbt_rows,
                                  n_backtests=w.n_backtests if vbt_rows is None else len(vbt_rows)))
            if w.builtin_rsi:
                configs.append(Config("vectorbt, built-in vbt.RSI (other RSI)", 1,
                                      lambda: vectorbt_builtin_rsi(close2d, w.grid, w.vbt_chunk),
                                      lambda: vectorbt_builtin_rsi(few, w.grid, w.vbt_chunk),
                                      missing=_peer_missing("vectorbt"), n_backtests=w.n_backtests))
            log(f"  {w.name}, {w.grid.n_sets:,} sets × {w.shape} bars: timing {len(configs)} configurations")
            time_configs(configs, rounds, budget, log, short, short_rounds)

            by = {(c.label.split(" ")[0] if not c.label.startswith("vectorbt,") else "vbt.RSI", c.threads): c
                  for c in configs}
            rows = []
            fp1 = by.get(("fastpar.sweep", 1))
            for c in configs:
                if c.missing or c.error:
                    rows.append([c.label, str(c.threads), "—", "—", "—", "—", "—",
                                 c.missing or f"failed: {c.error}"])
                    continue
                rate = c.n_backtests / c.best
                ns = c.best / (c.n_backtests * w.n_bars) * 1e9
                rel = (fp1.n_backtests / fp1.best) / rate if (fp1 is not None and fp1.result is not None) else None
                rows.append([c.label, str(c.threads), f"{c.n_backtests:,}", fmt_time(c.best), fmt_rate(rate),
                             f"{ns:.2f}" if ns < 10 else f"{ns:.1f}", fmt_ratio(rel), ""])
                log(f"    {c.label:<40} T={c.threads}  {fmt_time(c.best):>9}  {fmt_rate(rate):>8} backtests/s  "
                    f"{ns:6.2f} ns/bar/set")
            sections.append({
                "title": f"{w.name}: {w.grid.n_sets:,} sets × {w.shape} bars",
                "intro": (f"{w.n_backtests:,} backtests of {w.n_bars:,} bars each, fees 0.1%. *time*: the whole "
                          "sweep (indicators, signals, simulation, statistics) of the row's backtests, best of the "
                          "rounds; *ns/bar/set*: that time over bars × backtests; *fastpar (1 thread) is … "
                          "faster*: fastpar.sweep's backtests per second with 1 thread over this row's (below 1: this row "
                          "is faster)."),
                "headers": ["implementation", "threads", "backtests", "time", "backtests/s", "ns/bar/set",
                            "fastpar (1 thread) is … faster", "note"],
                "rows": rows,
                "notes": _workload_notes(w),
                "chart": {
                    "name": "w3_" + "".join(ch if ch.isalnum() else "_" for ch in
                                            f"{w.name}_{w.shape}").strip("_").lower(),
                    "title": f"W3: {w.name}, {w.shape} bars: backtests per second (log scale)",
                    "ylabel": "backtests per second",
                    "labels": [f"{c.label}, {c.threads} thread{'s' if c.threads > 1 else ''}"
                               for c in configs if not (c.missing or c.error)],
                    "series": {"backtests/s": [c.n_backtests / c.best for c in configs
                                               if not (c.missing or c.error)]},
                    "log": True,
                },
            })
            speed[(w.name, w.shape)] = by
            agree_rows.extend(_agreement_rows(w, by))

        capacity.append(cpu_capacity(cores, spin))
        log(f"  CPU probe: {capacity[1]:.2f}")
        bt_section = _backtesting(quick, sweep, sweep_missing, rounds, log)
    finally:
        if fastpar.get_num_threads() != pool_size:
            fastpar.set_num_threads(pool_size)
    memory = _memory(quick, sweep_missing, log)
    goal_rows = _goals(speed, bt_section["ratio"], threads) + [memory["goal"]]

    sections.insert(0, {
        "title": "What runs",
        "intro": (
            "Backtests per second of whole parameter sweeps, fees 0.1% on every fill, each fill at the "
            "bar's close, all-in, long only (vectorbt's `Portfolio.from_signals` fill model, which "
            "fastpar.sweep follows). Two grids: **RSI threshold** (Wilder's RSI as TA-Lib computes it; "
            "enter below *low*, leave above *high*), period 2..50 × low {20, 25, 30} × high {70, 75, 80} = "
            "441 sets on 1 × 100,000 and on 100 × 10,000 bars; **MA cross** (SMA; long while the fast "
            "mean is above the slow one), 2 ≤ fast < slow ≤ 100 = 4,851 sets on 1 × 100,000 bars "
            "(smaller sizes in a `--quick` run). They run through `fastpar.sweep(data, strategy, grid, "
            "threads=T, progress=False)`; through vectorbt as its users write it (the indicator for "
            "every period, signals broadcast over the grid, `Portfolio.from_signals`, then "
            "total_return, max_drawdown and the trade count, all timed); through a fused Numba loop "
            "written in `bench_sweep.py` (`@njit(parallel=True)`, one `prange` iteration per set, "
            "indicator and simulation in one pass, `numba.set_num_threads(T)`); and, for a subset, "
            "through backtesting.py's `Backtest.optimize`. The results of fastpar, Numba and vectorbt "
            "are checked against each other, set by set, so the timings compare the same work."),
    })
    sections.insert(1, {
        "title": "Goals",
        "intro": (f"fastpar.sweep on 1 thread at least {GOAL_VS_VECTORBT:g}x vectorbt's backtests per second, "
                  f"at least {GOAL_TWO_THREADS:g}x more with 2 threads, and at least {GOAL_VS_BACKTESTING:g}x "
                  "backtesting.py's; against the fused Numba loop, the ratios are reported without a goal "
                  "(above 1: fastpar is faster). And a fresh process running a sweep of "
                  f"{'2,000' if quick else '100,000'} sets grows by no more than {GOAL_MEMORY:g}x the size of "
                  "its data and its results."),
        "headers": ["ratio", "workload", "measured", "goal", "met"],
        "rows": goal_rows,
        "notes": [
            f"Timing: every configuration first runs once on a few bars, untimed (Numba compiles then), then "
            f"{rounds} rounds in which each runs once, in turn"
            + (f" ({short_rounds} rounds for a run of at most {short:g} s)" if short_rounds > rounds else "")
            + f"; a time is the best of those rounds (a run "
            f"longer than {budget:g} s is not repeated), and the first round's results are the ones checked "
            f"below. "
            f"fastpar's pool had {max(pool_size, max(threads))} threads; Numba's threads are set with "
            f"numba.set_num_threads, fastpar's with threads=.",
            f"CPU probe (W2's: {cores} separate processes spinning at once against one alone, {cores}.0 = "
            f"{cores} full CPUs): {capacity[0]:.2f} before the timings, {capacity[1]:.2f} after them. When it "
            "reads well below 2.0 the machine is busy with other work, and neither fastpar nor Numba can "
            "gain much from a second thread.",
            "The work per bar is not quite the same: fastpar.sweep computes all seven statistics (the "
            "Sharpe ratio needs every bar's return, win rate and profit factor every trade's P&L, exposure "
            "a count of bars in the market), the Numba loop only total_return, max_drawdown and the trade "
            "count, as does the vectorbt pipeline. fastpar also computes an RSI once for all the sets that "
            "share its period (9 here); the Numba loop computes it per set, as a prange over sets does.",
            malloc_note,
        ],
    })
    sections.append({
        "title": "Do they compute the same thing?",
        "intro": (f"Per parameter set, total_return and max_drawdown (by magnitude) within {TOL:g} (absolute or "
                  "relative) and the same number of trades (vectorbt counts an open trade at the end too)."),
        "headers": ["comparison", "workload", "sets", "total_return", "max_drawdown", "trades",
                    "largest total_return gap", "agree"],
        "rows": agree_rows,
        "notes": ["vectorbt refuses orders for fewer than 1e-8 shares (its default `min_size`); fastpar.sweep "
                  "and the Numba loop do the same. It matters for the RSI(2) sets on 100,000 bars: thousands "
                  "of trades' fees bring their equity down to about a millionth of the initial cash, and "
                  "from there some orders are too small to place.",
                  "vectorbt's SMA is a difference of two running sums over the whole series (TA-Lib's, like "
                  "fastpar's and the fused loop's, drops the oldest value as it goes): the means can differ in "
                  "their last digits, and a comparison of fast and slow decided by such a difference then "
                  "moves a trade by a bar. The Numba loop's RSI and SMA follow TA-Lib's arithmetic step by "
                  "step, as fastpar's do."],
    })
    sections.append(bt_section["section"])
    sections.append(memory["section"])
    return sections


def _workload_notes(w: Workload) -> list[str]:
    notes = []
    rows = w.vbt_rows()
    n_vbt = w.n_backtests if rows is None else len(rows)
    if rows is not None:
        what = (f"the first {w.vbt_assets} of the {w.n_assets} series" if w.vbt_stride == 1 else
                f"one parameter set in {w.vbt_stride}")
        notes.append(f"vectorbt runs {what} ({n_vbt:,} of the {w.n_backtests:,} backtests): its time grows in "
                     "proportion to the number of backtests (one column each in every array), so its "
                     "backtests per second on a part stand for the whole, and the whole would take minutes. "
                     "Its results are checked against the same backtests of the others.")
    per_call = min(w.vbt_chunk, n_vbt)
    if per_call < n_vbt:
        notes.append(f"vectorbt gets at most {per_call:,} portfolio columns per call ({-(-n_vbt // per_call)} "
                     "calls, timed together), so that its indicator, signal and portfolio arrays (one column "
                     "per backtest, each the length of the data) fit in memory.")
    if w.builtin_rsi:
        notes.append("*vectorbt, built-in vbt.RSI*: the same pipeline with `vbt.RSI.run(close, window=periods)`, "
                     "which averages gains and losses with plain rolling means (not Wilder's smoothing): other "
                     "signals, other trades, shown for the cost of vectorbt's own indicator; not in the "
                     "comparisons.")
    return notes


def _agreement_rows(w: Workload, by: dict) -> list[list[str]]:
    pairs = [(("Numba", 1), ("Numba", 2), "Numba 1 thread vs 2 threads"),
             (("fastpar.sweep", 1), ("fastpar.sweep", 2), "fastpar.sweep 1 thread vs 2 threads"),
             (("Numba", 1), ("vectorbt", 1), "Numba vs vectorbt"),
             (("fastpar.sweep", 1), ("Numba", 1), "fastpar.sweep vs Numba"),
             (("fastpar.sweep", 1), ("vectorbt", 1), "fastpar.sweep vs vectorbt")]
    rows = []
    for a, b, label in pairs:
        ca, cb = by.get(a), by.get(b)
        if ca is None or cb is None:
            continue
        if ca.result is None or cb.result is None:
            why = next(c.missing or c.error for c in (ca, cb) if c.result is None)
            rows.append([label, f"{w.name}, {w.shape}", "—", "—", "—", "—", "—", f"not run: {why}"])
            continue
        ra, rb = ca.result, cb.result
        if ca.rows is None and cb.rows is not None:  # b ran a subset: compare that
            ra = tuple(x[cb.rows] for x in ra)
        g = agreement(ra, rb)
        if "shape" in g:
            rows.append([label, f"{w.name}, {w.shape}", "—", "—", "—", "—", "—", f"**NO**: {g['shape']}"])
            continue
        n = g["n"]
        rows.append([label, f"{w.name}, {w.shape}", f"{n:,}", f"{g['tr']:,}", f"{g['dd']:,}", f"{g['nt']:,}",
                     f"{g['max_diff']:.1e}", "yes" if g["all"] else "**NO**"])
    return rows


def _goals(speed: dict, bt_ratio: float | None, threads: list) -> list[list[str]]:
    rows = []

    def ratio(by: dict, a: tuple, b: tuple) -> float | None:
        ca, cb = by.get(a), by.get(b)
        if ca is None or cb is None or ca.result is None or cb.result is None:
            return None
        return (ca.n_backtests / ca.best) / (cb.n_backtests / cb.best)  # a's backtests/s over b's

    def met(r: float | None, goal: float | None) -> str:
        if r is None:
            return "— (not measured)"
        if goal is None:
            return "—"
        return "yes" if r >= goal else "**NO**"

    for (name, shape), by in speed.items():
        where = f"{name}, {shape}"
        r = ratio(by, ("fastpar.sweep", 1), ("vectorbt", 1))
        rows.append(["fastpar (1 thread) / vectorbt", where, fmt_ratio(r), f"≥ {GOAL_VS_VECTORBT:g}x",
                     met(r, GOAL_VS_VECTORBT)])
        if 2 in threads:
            r = ratio(by, ("fastpar.sweep", 2), ("fastpar.sweep", 1))
            rows.append(["fastpar 2 threads / 1 thread", where, fmt_ratio(r), f"≥ {GOAL_TWO_THREADS:g}x",
                         met(r, GOAL_TWO_THREADS)])
        for t in threads:
            r = ratio(by, ("fastpar.sweep", t), ("Numba", t))
            rows.append([f"fastpar / Numba, {t} thread{'s' if t > 1 else ''} each", where, fmt_ratio(r), "—",
                         met(r, None)])
    rows.append(["fastpar (1 thread) / backtesting.py", "RSI threshold subset (see below)", fmt_ratio(bt_ratio),
                 f"≥ {GOAL_VS_BACKTESTING:g}x", met(bt_ratio, GOAL_VS_BACKTESTING)])
    return rows


def _backtesting(quick: bool, sweep, sweep_missing: str | None, rounds: int, log: Callable) -> dict:
    n_bars = 1_000 if quick else 10_000
    grid = rsi_grid([7, 14] if quick else [7, 14, 21], [25.0, 30.0] if quick else [20.0, 25.0, 30.0],
                    [70.0, 75.0] if quick else [70.0, 75.0, 80.0])
    ohlc = random_walk_ohlc(1, n_bars, seed=5)
    rows, ratio = [], None
    missing = _peer_missing("backtesting.py")
    bt_time = fp_time = None
    if missing is None:
        bars = pd.DataFrame({k.capitalize(): v[0] for k, v in ohlc.items()},
                            index=pd.date_range("2000-01-03", periods=n_bars, freq="D"))
        bars["Volume"] = 1_000.0
        undo = _backtesting_one_process()
        try:
            t0 = time.perf_counter()
            n_runs = backtesting_optimize(bars, grid)
            bt_time = time.perf_counter() - t0
        except Exception as e:
            missing = f"failed: {type(e).__name__}: {e}"[:200]
        finally:
            undo()
    if missing is None:
        rows.append(["backtesting.py Backtest.optimize", "1 (one process)", f"{n_runs}", fmt_time(bt_time),
                     fmt_rate(n_runs / bt_time), f"{bt_time / (n_runs * n_bars) * 1e9:,.0f}", ""])
        log(f"  backtesting.py: {n_runs} backtests × {n_bars:,} bars in {fmt_time(bt_time)}")
    else:
        rows.append(["backtesting.py Backtest.optimize", "—", "—", "—", "—", "—", missing])
    if sweep_missing is None:
        data = {"close": ohlc["close"][0]}

        def call():
            return sweep(data, grid.strategy, grid.params, threads=1, progress=False, fees=FEES)
        call()
        fp_time = float("inf")
        for _ in range(max(3, rounds)):
            t0 = time.perf_counter()
            call()
            fp_time = min(fp_time, time.perf_counter() - t0)
        rows.append(["fastpar.sweep", "1", f"{grid.n_sets}", fmt_time(fp_time), fmt_rate(grid.n_sets / fp_time),
                     f"{fp_time / (grid.n_sets * n_bars) * 1e9:.2f}", ""])
        if bt_time is not None:
            ratio = (grid.n_sets / fp_time) / (n_runs / bt_time)
    else:
        rows.append(["fastpar.sweep", "1", "—", "—", "—", "—", sweep_missing])
    return {"ratio": ratio, "section": {
        "title": f"backtesting.py: {grid.n_sets} sets of the RSI grid × 1 × {n_bars:,} bars",
        "intro": ("backtesting.py runs a Python `next()` per bar, so it gets a subset of the RSI grid (periods "
                  f"{', '.join(str(p) for p in grid.params['period'])}, the same thresholds) on "
                  f"{n_bars:,} bars; fastpar.sweep runs the same subset on the same closes."),
        "headers": ["implementation", "threads", "backtests", "time", "backtests/s", "ns/bar/set", "note"],
        "rows": rows,
        "notes": [
            "backtesting.py fills at the next bar's open and buys whole units (commission=0.001, cash "
            "1,000,000): its results differ from the others', and only its speed is compared. "
            "`Backtest.optimize` runs every set and then the best one again: that run is counted. It is "
            "made to run in this process (a one-thread pool in place of its process pool), the "
            "same single core as fastpar's 1 thread; the RSI it is given is fastpar.rsi, so its "
            "indicator costs it next to nothing. Timed once: it is slow.",
        ],
    }}


GOAL_MEMORY = 4.0  # fastpar's growth at most this many times data + results


def _memory(quick: bool, sweep_missing: str | None, log: Callable) -> dict:
    n_bars = 5_000 if quick else 100_000
    fine = (8, 10, 25) if quick else (40, 50, 50)  # 2,000 / 100,000 sets
    # a smaller grid for vectorbt, which holds about 100 bytes per bar and set
    small = (list(range(2, 11)) if quick else list(range(2, 51)), [20.0, 25.0, 30.0], [70.0])
    vbt_missing = (_peer_missing("vectorbt") or (None if talib is not None else "TA-Lib " + NOT_INSTALLED)
                   or ("full run only: a fresh process spends longer importing and compiling vectorbt than a "
                       "quick run may take" if quick else None))
    specs = [("fastpar.sweep", {"impl": "fastpar", "bars": n_bars, "fine": fine, "threads": None}, sweep_missing),
             ("fastpar.sweep", {"impl": "fastpar", "bars": n_bars, "rsi": small, "threads": None}, sweep_missing),
             ("vectorbt (TA-Lib RSI)", {"impl": "vectorbt", "bars": n_bars, "rsi": small}, vbt_missing)]
    rows, goal, timeout = [], None, 120 if quick else 1800
    for label, spec, missing in specs:
        n_sets = int(np.prod(spec["fine"])) if "fine" in spec else len(small[0]) * len(small[1]) * len(small[2])
        per_bar_set = fmt_mb(8.0 * n_sets * n_bars)
        if missing is None:
            log(f"  memory: {label}, {n_sets:,} sets × {n_bars:,} bars, in a fresh process")
            m = measure_memory(spec, timeout)
            missing = m.get("error")
        if missing is not None:
            rows.append([label, f"{n_sets:,}", "—", "—", per_bar_set, "—", "—", "—", missing])
            if "fine" in spec:
                goal = ("—", "— (not measured)")
            continue
        growth = max(0, m["peak_kb"] - m["before_kb"]) * 1024
        needed = m["data_bytes"] + m["result_bytes"]
        rows.append([label, f"{n_sets:,}", fmt_mb(m["data_bytes"]), fmt_mb(m["result_bytes"]), per_bar_set,
                     fmt_mb(m["before_kb"] * 1024), fmt_mb(growth), f"{growth / needed:.1f}x",
                     fmt_time(m["seconds"]) + ("" if m["reset"] else "; peak not reset: growth from the high-water mark")])
        if "fine" in spec:
            goal = (f"{fmt_mb(growth)} = {growth / needed:.1f}x", "yes" if growth <= GOAL_MEMORY * needed else "**NO**")
        log(f"    growth {fmt_mb(growth)} for data {fmt_mb(m['data_bytes'])} + results {fmt_mb(m['result_bytes'])}")
    return {"goal": [f"fastpar peak memory growth / (data + results)",
                     f"{int(np.prod(fine)):,} sets × 1 × {n_bars:,} bars", goal[0], f"≤ {GOAL_MEMORY:g}x", goal[1]],
            "section": {
        "title": f"Peak memory: RSI threshold sweeps on 1 × {n_bars:,} bars, each in a fresh process",
        "intro": ("Each row runs in a new interpreter: imports and a small warm-up sweep first, then the peak "
                  "resident set (VmHWM) is reset to the current one (`/proc/self/clear_refs`), the sweep runs, "
                  "and *growth* = the new peak - the resident set before it. *data*: the closes given; "
                  "*results*: what the sweep returns (fastpar: the DataFrame, parameters and all seven "
                  "statistics; vectorbt: its three statistics); *one value per bar and set*: what a single "
                  "float64 array the size of bars × sets would take. Goal: fastpar's growth stays of the "
                  f"order of data + results (at most {GOAL_MEMORY:g}x), however many bars and sets; vectorbt "
                  "holds its indicator, signal and portfolio arrays, one column per set the length of the "
                  "data, so it gets a smaller grid."),
        "headers": ["implementation", "sets", "data", "results", "one value per bar and set", "resident before",
                    "growth", "growth / (data + results)", "sweep time / note"],
        "rows": rows,
        "notes": [f"The {int(np.prod(fine)):,}-set grid: periods 2..{1 + fine[0]}, low 5, 5.5, ... "
                  f"({fine[1]} values), high 70, 70.5, ... ({fine[2]} values); the smaller one: periods "
                  f"2..{small[0][-1]}, low 20, 25, 30, high 70. fastpar runs on its pool's threads. The "
                  "allocator is left as it is in these processes (no keep_freed_memory)."],
    }}


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--memory-worker":
        print(json.dumps(memory_worker(json.loads(sys.argv[2]))))
        sys.exit(0)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from run import render_sections

    result = run(quick="--quick" in sys.argv[1:], log=lambda m: print(m, file=sys.stderr, flush=True))
    # --json: the sections as data, for the test suite
    print(json.dumps(result) if "--json" in sys.argv[1:] else render_sections(result))
