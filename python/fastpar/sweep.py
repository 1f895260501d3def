"""Parameter sweeps: one strategy over a grid of parameter sets, in C.

``fastpar.sweep(data, strategy, grid, ...)`` backtests every parameter set
of the grid on fastpar's native thread pool, over one shared copy of the
bars, and returns a DataFrame with one row of metrics per set. The rules,
the fill model (vectorbt's ``Portfolio.from_signals`` with all-in sizing)
and the metrics are in ``docs/sweeps.md``; the slow, readable definition
the kernel is tested against is :mod:`fastpar.reference.strategies`.

The work is split so that a caller can run part of a sweep (a checkpoint
resuming where it stopped, a cluster taking a slice of the grid):

- :func:`expand_grid`: the list of parameter sets of a grid, in order;
- :func:`run_sets`: the metrics of any list of sets on one asset's bars;
- :func:`to_frame`: the result table of sets and their metrics.
"""

from __future__ import annotations

import itertools
import math
import numbers
import threading
from collections.abc import Iterable, Mapping, Sized

import numpy as np

from . import _fastpar
from ._numbers import finite_real
from .language import Strategy

__all__ = ["STRATEGIES", "METRICS", "MAX_SETS", "sweep", "expand_grid", "run_sets", "to_frame",
           "bars_of"]

#: Strategy name -> its parameter names, in order.
STRATEGIES = {
    "rsi_threshold": ("period", "low", "high"),
    "ma_cross": ("fast", "slow", "kind"),
    "bbands_reversion": ("period", "nbdev"),
    "envelope": ("period", "deviation"),
    "bigbar": ("atr_period", "k_atr", "tail_ratio", "breakout", "rsi_period", "rsi_max"),
}

#: The result columns after the parameters, in the kernel's output order.
METRICS = (
    "total_return",
    "sharpe",
    "max_drawdown",
    "n_trades",
    "win_rate",
    "profit_factor",
    "exposure",
)

#: The most parameter sets a grid may have, and the most backtests (sets
#: times assets) a sweep may run: a sweep holds every set as a Python tuple
#: and every result in memory, about 300 bytes per backtest in all, so this
#: is some 3 GB. A larger grid is refused before anything is expanded.
MAX_SETS = 10_000_000

# The kernel's strategy numbers (enum fp_strategy in strategies.h).
_IDS = {name: i for i, name in enumerate(STRATEGIES)}
_MA_KINDS = ("sma", "ema")  # kind -> its index is the kernel's code
_COLUMNS = {name: ("close",) for name in STRATEGIES}
_COLUMNS["bigbar"] = ("high", "low", "close")
_BAR_KEYS = ("open", "high", "low", "close", "volume")


def _positive(v):
    return v > 0


def _open_percent(v):
    return 0 < v < 100


def _fraction(v):
    return 0 <= v <= 1


def _rsi_max(v):
    return 0 < v <= 100


# Per parameter: (integer?, minimum for integers or check for floats,
# description for messages). "kind" is handled on its own.
_RULES = {
    "rsi_threshold": {
        "period": (True, 2, "an integer >= 2"),
        "low": (False, _open_percent, "a number in (0, 100)"),
        "high": (False, _open_percent, "a number in (0, 100)"),
    },
    "ma_cross": {
        "fast": (True, 1, "an integer >= 1"),
        "slow": (True, 1, "an integer >= 1"),
    },
    "bbands_reversion": {
        "period": (True, 2, "an integer >= 2"),
        "nbdev": (False, _positive, "a number > 0"),
    },
    "envelope": {
        "period": (True, 1, "an integer >= 1"),
        "deviation": (False, _positive, "a fraction > 0"),
    },
    "bigbar": {
        "atr_period": (True, 1, "an integer >= 1"),
        "k_atr": (False, _positive, "a number > 0"),
        "tail_ratio": (False, _fraction, "a number in [0, 1]"),
        "breakout": (True, 1, "an integer >= 1"),
        "rsi_period": (True, 2, "an integer >= 2"),
        "rsi_max": (False, _rsi_max, "a number in (0, 100]"),
    },
}


def _check_strategy(strategy):
    if isinstance(strategy, Strategy):
        return
    if not isinstance(strategy, str) or strategy not in STRATEGIES:
        raise ValueError(
            f"unknown strategy {strategy!r}; valid strategies: {', '.join(STRATEGIES)} "
            "(or a fastpar.strategy(...) of your own)"
        )


def _names(strategy):
    """The strategy's parameter names, in the order of its sets."""
    return strategy.params if isinstance(strategy, Strategy) else STRATEGIES[strategy]


def _check_value(strategy, name, v):
    """The parameter value as the result stores it (int, float or str)."""
    if isinstance(strategy, Strategy):  # any finite number; Strategy.check_sets checks the rest
        if not finite_real(v):
            raise ValueError(f"{strategy}: {name} must be a finite number, got {v!r}")
        return int(v) if isinstance(v, numbers.Integral) else float(v)
    if name == "kind":
        if not isinstance(v, str) or v.lower() not in _MA_KINDS:
            raise ValueError(f"{strategy}: kind must be 'sma' or 'ema', got {v!r}")
        return v.lower()
    is_int, check, what = _RULES[strategy][name]
    bad = ValueError(f"{strategy}: {name} must be {what}, got {v!r}")
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
        raise bad
    if is_int:
        if not (isinstance(v, numbers.Integral) or (finite_real(v) and v == int(v))):
            raise bad
        v = int(v)
        if v < check:
            raise bad
        if v > _fastpar.MAX_PERIOD:
            raise ValueError(
                f"{strategy}: {name} must be {what} (at most {_fastpar.MAX_PERIOD}), got {v}"
            )
        return v
    if not finite_real(v):
        raise bad
    v = float(v)
    if not check(v):
        raise bad
    return v


def _possible(strategy, s):
    """False for a combination that cannot be traded (skipped, not an error)."""
    if isinstance(strategy, Strategy):
        return True
    if strategy == "rsi_threshold":
        return s[1] < s[2]
    if strategy == "ma_cross":
        return s[0] < s[1]
    return True


def expand_grid(strategy, grid):
    """The parameter sets of `grid` and the number of impossible ones skipped.

    `grid` maps each parameter of `strategy` to a value or an iterable of
    values. Sets are tuples in the order of ``STRATEGIES[strategy]``, listed
    as ``itertools.product`` over the grid's keys in the order given (the
    last key varies fastest). Combinations that cannot trade (rsi_threshold
    with low >= high, ma_cross with fast >= slow) are left out and counted.
    Raises ValueError for an unknown strategy or parameter, a missing
    parameter, an empty grid or list, or an invalid value.
    """
    _check_strategy(strategy)
    names = _names(strategy)
    if not isinstance(grid, Mapping):
        raise TypeError(f"grid must be a dict of parameter -> values, got {type(grid).__name__}")
    if not grid and not names:  # a strategy without parameters: one backtest
        return [()], 0
    if not grid:
        raise ValueError(f"empty grid; {strategy} takes: {', '.join(names)}")
    unknown = [k for k in grid if k not in names]
    if unknown:
        raise ValueError(
            f"unknown parameter(s) {', '.join(map(repr, unknown))} for {strategy}; "
            f"valid parameters: {', '.join(names)}"
        )
    missing = [k for k in names if k not in grid]
    if missing and isinstance(strategy, Strategy):
        raise ValueError(
            f"{strategy}: the grid has no value for "
            + "; ".join(f"p.{k} (read by {strategy.uses(k)})" for k in missing)
        )
    if missing:
        raise ValueError(
            f"grid is missing parameter(s) {', '.join(missing)} of {strategy} "
            f"(it takes: {', '.join(names)})"
        )
    keys = list(grid)
    given = {}
    for k in keys:
        values = grid[k]
        if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
            values = [values]
        given[k] = values
    # Refused before a single value is read, when the sizes are known (a
    # range of a billion values, a billion combinations).
    sized = {k: len(v) for k, v in given.items() if isinstance(v, Sized)}
    if math.prod(sized.values()) > MAX_SETS:
        raise _too_many(strategy, sized)
    columns = []
    for k in keys:
        values = list(itertools.islice(given[k], MAX_SETS + 1))  # an endless iterator too
        if len(values) > MAX_SETS:
            raise _too_many(strategy, {k: len(values)}, more=True)
        values = [_check_value(strategy, k, v) for v in values]
        if not values:
            raise ValueError(f"empty grid: no values for {k!r}")
        columns.append(values)
    if math.prod(len(c) for c in columns) > MAX_SETS:
        raise _too_many(strategy, {k: len(c) for k, c in zip(keys, columns)})
    position = [keys.index(name) for name in names]
    sets, skipped = [], 0
    for combo in itertools.product(*columns):
        s = tuple(combo[i] for i in position)
        if _possible(strategy, s):
            sets.append(s)
        else:
            skipped += 1
    return sets, skipped


def _too_many(strategy, counts, more=False):
    """The ValueError for a grid of more than MAX_SETS sets; `counts`:
    parameter -> its number of values (`more`: at least that many)."""
    if more:
        (k, n), = counts.items()
        what = f"more than {MAX_SETS:,} values for {k}"
    else:
        detail = " x ".join(f"{k}: {n:,}" for k, n in counts.items())
        what = f"{math.prod(counts.values()):,} parameter sets ({detail} values)"
    return ValueError(
        f"{strategy}: the grid has {what}, more than a sweep takes ({MAX_SETS:,}, "
        "fastpar.sweep.MAX_SETS); narrow it or split it into several sweeps"
    )


def _params_array(strategy, sets):
    """The sets as the kernel's float64 rows (kind as its code)."""
    names = _names(strategy)
    if "kind" in names and not isinstance(strategy, Strategy):
        k = names.index("kind")
        sets = [s[:k] + (_MA_KINDS.index(s[k]),) + s[k + 1:] for s in sets]
    return np.array(sets, dtype=np.float64).reshape(len(sets), len(names))


def _costs(fees, slippage, spread, stop_loss, take_profit, direction, periods_per_year):
    """The cost settings, checked, as a dict of floats (stops NaN = off)."""

    def number(name, v, ok, what):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
            raise TypeError(f"{name} must be a number, got {v!r}")
        if not finite_real(v) or not ok(float(v)):
            raise ValueError(f"{name} must be {what}, got {v!r}")
        return float(v)

    if direction not in ("long", "longshort"):
        raise ValueError(f"direction must be 'long' or 'longshort', got {direction!r}")
    return {
        "fees": number("fees", fees, lambda v: 0 <= v < 1, "in [0, 1)"),
        "slippage": number("slippage", slippage, lambda v: 0 <= v < 1, "in [0, 1)"),
        "spread": number("spread", spread, lambda v: v >= 0, ">= 0"),
        "stop_loss": math.nan
        if stop_loss is None
        else number("stop_loss", stop_loss, lambda v: v > 0, "None or a fraction > 0"),
        "take_profit": math.nan
        if take_profit is None
        else number("take_profit", take_profit, lambda v: v > 0, "None or a fraction > 0"),
        "longshort": direction == "longshort",
        "periods_per_year": number(
            "periods_per_year", periods_per_year, lambda v: v > 0, "> 0"
        ),
    }


def bars_of(data, strategy, name="data"):
    """One asset's bars as float64 arrays: {"high", "low", "close"} (those
    the strategy needs; the others None). `data`: a DataFrame or a dict of
    1-D arrays, column names case-insensitive. Prices must be real numbers
    (integer or float dtypes), finite and > 0, high >= low, and a
    DatetimeIndex in time order."""
    columns = getattr(data, "columns", None)
    if columns is not None:
        keys = list(columns)
    elif isinstance(data, Mapping):
        keys = list(data)
    else:
        raise TypeError(
            f"{name} must be a pandas DataFrame or a dict of arrays, got {type(data).__name__}"
        )
    lower = {}
    for k in keys:
        if isinstance(k, str) and k.lower() in _BAR_KEYS:
            if k.lower() in lower:
                raise ValueError(f"{name} has two {k.lower()!r} columns")
            lower[k.lower()] = k
    need = strategy.columns if isinstance(strategy, Strategy) else _COLUMNS[strategy]
    missing = [c for c in need if c not in lower]
    if missing:
        hint = ""
        if columns is None and not lower:
            hint = ("; a dict is one asset's columns (open, high, low, close, volume): for "
                    "several assets give {asset: DataFrame or dict of columns}")
        raise ValueError(
            f"{name} is missing column(s) {', '.join(missing)} needed by {strategy} "
            f"(has: {', '.join(map(str, keys)) or 'nothing'}){hint}"
        )
    _check_time_order(data, name)
    out = {"high": None, "low": None, "close": None, **{c: None for c in need}}
    n = None
    for c in need:
        label = f"{name}[{lower[c]!r}]"
        column = data[lower[c]]
        _check_time_order(column, label)
        a = np.ascontiguousarray(_real_numbers(column, label), dtype=np.float64)
        if a.ndim != 1:
            raise ValueError(f"{label} must be 1-D, got shape {a.shape}")
        if n is None:
            n = len(a)
        elif len(a) != n:
            raise ValueError(
                f"{name}: column {lower[c]!r} has {len(a)} bars, {lower[need[0]]!r} has {n}"
            )
        bad = np.flatnonzero(~np.isfinite(a))
        if bad.size:
            raise ValueError(
                f"{label} holds NaN or inf (first at position {bad[0]}); "
                "drop or fill those bars first"
            )
        bad = np.flatnonzero(a < 0.0 if c == "volume" else a <= 0.0)
        if bad.size:
            what = "volumes >= 0" if c == "volume" else "prices > 0"
            raise ValueError(
                f"{label} must hold {what}, position {bad[0]} is {float(a[bad[0]])!r}"
            )
        out[c] = a
    if n == 0:
        raise ValueError(f"{name} has no bars")
    if out["high"] is not None and out["low"] is not None:
        bad = np.flatnonzero(out["high"] < out["low"])
        if bad.size:
            i = bad[0]
            raise ValueError(
                f"{name}: high < low at position {i} (high {float(out['high'][i])!r}, "
                f"low {float(out['low'][i])!r})"
            )
    return out


def _real_numbers(column, label):
    """`column` as a NumPy array of integers or floats; TypeError for any
    other dtype (text, complex, bool, objects), ValueError for a masked
    array with masked values (a mask is not read: the values under it
    would be used)."""
    if isinstance(column, np.ma.MaskedArray):
        if np.ma.is_masked(column):
            raise ValueError(
                f"{label} is a masked array with {int(np.ma.count_masked(column))} masked "
                "value(s); fastpar does not read masks: drop those bars or fill them first"
            )
        column = column.data
    a = np.asarray(column)
    if a.dtype.kind not in "iuf":
        raise TypeError(f"{label} must hold real numbers (int or float), got dtype {a.dtype}")
    return a


def _check_time_order(obj, label):
    """ValueError if `obj` (a DataFrame or Series) has a DatetimeIndex that
    goes back in time: the bars would be run in the wrong order."""
    index = getattr(obj, "index", None)
    if getattr(getattr(index, "dtype", None), "kind", None) != "M":
        return
    if index.is_monotonic_increasing:
        return
    times = np.asarray(index, dtype="datetime64[ns]").view(np.int64)
    back = np.flatnonzero(times[1:] < times[:-1])
    where = f"position {back[0] + 1} is earlier than position {back[0]}" if back.size else (
        "it holds NaT")
    raise ValueError(
        f"{label}: its DatetimeIndex is not in time order ({where}); sort it first "
        "(.sort_index())"
    )


def _assets(data, strategy):
    """[(asset name or None, bars)] of a single- or multi-asset `data`."""
    if isinstance(data, Mapping) and data:
        values = list(data.values())
        nested = [isinstance(v, Mapping) or hasattr(v, "columns") for v in values]
        if all(nested):
            return [(k, bars_of(v, strategy, f"data[{k!r}]")) for k, v in data.items()]
        if any(nested):
            raise TypeError(
                "data must be one asset (a dict of arrays) or several "
                "({asset: DataFrame or dict}), not a mix"
            )
    if isinstance(data, Mapping) and not data:
        raise ValueError("data is empty")
    return [(None, bars_of(data, strategy))]


class _ProgressBar:
    """A tqdm bar over `total` sets that follows kernel counters from a
    background thread (the calling thread is inside the kernel)."""

    def __init__(self, total, desc):
        from tqdm.auto import tqdm

        self.bar = tqdm(total=total, desc=desc, unit="set")
        self.base = 0  # sets of earlier run_sets calls
        self.counter = np.zeros(1, dtype=np.int64)
        self._shown = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="fastpar-sweep-progress", daemon=True)
        self._thread.start()

    def _refresh(self):
        now = self.base + int(self.counter[0])
        if now > self._shown:
            self.bar.update(now - self._shown)
            self._shown = now

    def _loop(self):
        while not self._stop.wait(0.1):
            self._refresh()

    def advance(self, n):
        """A run_sets or run_assets call of n sets in all has finished."""
        self.base += n
        self.counter[0] = 0
        self._refresh()

    def close(self):
        self._stop.set()
        self._thread.join()
        self._refresh()
        self.bar.close()


def run_sets(bars, strategy, sets, costs, threads=None, progress=None, params=None):
    """Metrics of the parameter sets `sets` (tuples as expand_grid gives)
    on one asset's `bars` (as bars_of gives): an (len(sets), 7) float64
    array, columns METRICS. `costs`: as ``_costs`` returns. `progress`:
    None or a _ProgressBar to advance. `params`: the sets as
    ``_params_array`` gives them, when the caller has them already."""
    return run_assets([bars], strategy, sets, costs, threads, progress, params)[0]


def run_assets(assets, strategy, sets, costs, threads=None, progress=None, params=None):
    """run_sets over several assets' bars as one pool job: one metrics
    array per asset. One job keeps both threads busy from the first asset
    to the last, where a job per asset would wake and drain the pool once
    per asset."""
    if params is None:
        params = _params_array(strategy, sets)
    counter = progress.counter if progress is not None else None
    if isinstance(strategy, Strategy):
        return _run_program(assets, strategy, sets, costs, threads, progress, params)
    if len(assets) == 1:
        high, low, close = (assets[0][k] for k in ("high", "low", "close"))
    else:
        high, low, close = (tuple(b[k] for b in assets) for k in ("high", "low", "close"))
    out = _fastpar.sweep(
        _IDS[strategy],
        high,
        low,
        close,
        params,
        costs["fees"],
        costs["slippage"],
        costs["spread"],
        costs["stop_loss"],
        costs["take_profit"],
        costs["longshort"],
        costs["periods_per_year"],
        threads,
        counter,
    )
    if progress is not None:
        progress.advance(len(sets) * len(assets))
    n = len(sets)
    return [out[a * n:(a + 1) * n] for a in range(len(assets))]


def _run_program(assets, strategy, sets, costs, threads, progress, params):
    """run_assets for a Strategy: its program over each asset's bars."""
    counter = progress.counter if progress is not None else None
    results = []
    for bars in assets:
        try:
            out = _fastpar.program_sweep(
                strategy.code, len(strategy.params), strategy.slot("entry"),
                strategy.slot("exit"), tuple(bars.get(c) for c in _fastpar.PROGRAM["columns"]),
                params, costs["fees"], costs["slippage"], costs["spread"], costs["stop_loss"],
                costs["take_profit"], costs["longshort"], costs["periods_per_year"], threads,
                counter)
        except ValueError as e:
            raise strategy.explain(e, params) from None
        if progress is not None:
            progress.advance(len(sets))
        results.append(out)
    return results


def to_frame(strategy, sets, results, assets=None, skipped=0):
    """The result DataFrame: `results` holds one metrics array per asset
    (rows matching `sets`); `assets` their names (None: one unnamed asset,
    no asset column)."""
    import pandas as pd

    names = _names(strategy)
    n, copies = len(sets), len(results)
    res = [np.asarray(r, dtype=np.float64).reshape(n, len(METRICS)) for r in results]
    res = res[0] if copies == 1 else np.concatenate(res)  # no copy for one asset

    def repeat(column):
        return column if copies == 1 else np.tile(column, copies)

    cols = {}
    if assets is not None:
        labels = np.empty(len(assets), dtype=object)
        for i, name in enumerate(assets):  # one by one: a name may be a tuple
            labels[i] = name
        cols["asset"] = np.repeat(labels, n)
    for j, name in enumerate(names):
        values = [s[j] for s in sets]
        if name == "kind":  # text, kept as objects
            cols[name] = pd.Series(repeat(np.array(values, dtype=object)), dtype=object)
        else:
            if isinstance(strategy, Strategy):  # whole numbers stay integers
                whole = all(isinstance(v, int) for v in values)
            else:
                whole = _RULES[strategy][name][0]
            cols[name] = repeat(np.array(values, dtype=np.int64 if whole else np.float64))
    for j, m in enumerate(METRICS):
        cols[m] = res[:, j].astype(np.int64) if m == "n_trades" else res[:, j]
    df = pd.DataFrame(cols)
    df.attrs["skipped"] = skipped * copies
    df.attrs["strategy"] = strategy if isinstance(strategy, str) else strategy.describe()
    return df


def sweep(
    data,
    strategy,
    grid,
    *,
    threads=None,
    progress=True,
    checkpoint=None,
    fees=0.0,
    slippage=0.0,
    spread=0.0,
    stop_loss=None,
    take_profit=None,
    direction="long",
    periods_per_year=252.0,
):
    """Backtest `strategy` over every parameter set of `grid`; a DataFrame.

    data: a DataFrame with open/high/low/close(/volume) columns (any case;
        only those the strategy needs are required), a dict of 1-D arrays,
        or a dict {asset: DataFrame or dict} for several assets.
    strategy: a name of ``fastpar.STRATEGIES``, or a strategy of your own
        (``fastpar.strategy(...)``, docs/strategies.md).
    grid: parameter -> value or iterable of values; the cartesian product,
        last key varying fastest. Impossible combinations (low >= high,
        fast >= slow) are skipped; their number is ``df.attrs["skipped"]``.
    threads: pool threads (None: the pool's size). Results do not depend
        on it.
    progress: show a tqdm bar of sets done.
    checkpoint: path of a SQLite file keeping finished results, so that a
        rerun of the same sweep resumes (see docs/sweeps.md).
    fees, slippage: proportional, per fill. spread: absolute, half paid on
        each fill. stop_loss, take_profit: fractions of the entry close, or
        None. direction: "long" or "longshort". periods_per_year: for the
        Sharpe ratio.

    Returns one row per set (assets outer, with an ``asset`` first column
    when `data` holds several): the parameters, then METRICS. Ctrl-C stops
    the sweep within a second and raises KeyboardInterrupt.
    """
    costs, assets, sets, skipped = prepare(data, strategy, grid, fees, slippage, spread,
                                           stop_loss, take_profit, direction, periods_per_year)
    names = None if assets[0][0] is None else [a for a, _ in assets]
    if checkpoint is not None:
        return _checkpointed(checkpoint, assets, strategy, sets, skipped, costs, threads, progress)
    bar = _ProgressBar(len(sets) * len(assets), f"sweep {strategy}") if progress else None
    try:
        results = run_assets([bars for _, bars in assets], strategy, sets, costs, threads, bar)
    finally:
        if bar is not None:
            bar.close()
    return to_frame(strategy, sets, results, names, skipped)


def prepare(data, strategy, grid, fees=0.0, slippage=0.0, spread=0.0, stop_loss=None,
            take_profit=None, direction="long", periods_per_year=252.0):
    """Everything sweep() checks before it runs anything, in one place for
    the local and the distributed sweep: (costs, assets, sets, skipped),
    with costs as ``_costs`` returns them, assets as ``[(name or None,
    bars)]`` and the sets and skipped count of ``expand_grid``. Raises the
    ValueError or TypeError of the first problem found."""
    _check_strategy(strategy)
    costs = _costs(fees, slippage, spread, stop_loss, take_profit, direction, periods_per_year)
    assets = _assets(data, strategy)
    check_spread(assets, costs)
    sets, skipped = expand_grid(strategy, grid)
    if len(sets) * len(assets) > MAX_SETS:
        raise ValueError(
            f"{strategy}: {len(sets):,} parameter sets on {len(assets):,} assets are "
            f"{len(sets) * len(assets):,} backtests, more than a sweep takes ({MAX_SETS:,}, "
            "fastpar.sweep.MAX_SETS); split the assets or the grid into several sweeps"
        )
    check_lengths(assets, strategy, sets)
    return costs, assets, sets, skipped


#: Per strategy, from the parameter rows (as ``_params_array`` gives
#: them): the first bar at which the entry signal can fire, where every
#: indicator it reads is defined (docs/sweeps.md).
_FIRST_SIGNAL = {
    "rsi_threshold": lambda p: p[:, 0],  # RSI(period) from bar `period`
    "ma_cross": lambda p: p[:, 1] - 1,  # MA(slow) from bar slow - 1
    "bbands_reversion": lambda p: p[:, 0] - 1,
    "envelope": lambda p: p[:, 0] - 1,
    # the ATR of the bar before, the breakout window before the bar, RSI
    "bigbar": lambda p: np.maximum.reduce([p[:, 0] + 1, p[:, 3], p[:, 4]]),
}


def check_lengths(assets, strategy, sets) -> None:
    """ValueError if a set needs more bars than an asset has to give any
    signal (its rows would be all without trades)."""
    if not sets:
        return
    if isinstance(strategy, Strategy):
        strategy.check_sets(_params_array(strategy, sets),
                            min(len(bars["close"]) for _, bars in assets))
        return
    first = _FIRST_SIGNAL[strategy](_params_array(strategy, sets))
    worst = int(np.argmax(first))
    need = int(first[worst]) + 1
    for name, bars in assets:
        n = len(bars["close"])
        if n < need:
            where = "data" if name is None else f"data[{name!r}]"
            params = ", ".join(f"{k}={v!r}" for k, v in zip(STRATEGIES[strategy], sets[worst]))
            raise ValueError(
                f"{strategy}: the set {params} needs at least {need:,} bars to give a signal "
                f"(the warm-up of its indicators), {where} has {n:,}; narrow the grid or "
                "give more bars"
            )


def check_spread(assets, costs) -> None:
    """ValueError unless half the spread stays below every sell price."""
    for name, bars in assets:
        lowest = float(np.min(bars["close"])) * (1.0 - costs["slippage"])
        if costs["spread"] / 2.0 >= lowest:
            where = "data" if name is None else f"data[{name!r}]"
            raise ValueError(
                f"spread {costs['spread']} is too large for {where}: half of it must stay "
                f"below the lowest sell price ({lowest})"
            )


def open_checkpoint(path, assets, strategy, sets, costs):
    """The SweepCheckpoint of this sweep (see fastpar.sweep_checkpoint); its
    rows are numbered asset-major, as in the result table."""
    from .sweep_checkpoint import SweepCheckpoint, data_fingerprint

    columns = {f"{i}:{name}/{key}": a for i, (name, bars) in enumerate(assets)
               for key, a in bars.items() if a is not None}
    label = strategy if isinstance(strategy, str) else strategy.identity
    return SweepCheckpoint(path, strategy=label, data=data_fingerprint(columns), costs=costs,
                           sets=sets, metrics=METRICS, rows=len(assets) * len(sets))


#: Sets per stored chunk of a checkpointed sweep: small enough that an
#: interruption loses little, large enough to keep the pool busy.
CHECKPOINT_CHUNK = 256


def _checkpointed(path, assets, strategy, sets, skipped, costs, threads, progress):
    """sweep() with a checkpoint file: the sets already stored are read
    back, the others run chunk by chunk, each chunk stored as it finishes.
    Result rows are numbered asset-major, as in the returned table."""
    n = len(sets)
    params = _params_array(strategy, sets)
    results = np.full((len(assets) * n, len(METRICS)), np.nan)
    with open_checkpoint(path, assets, strategy, sets, costs) as cp:
        rows, values = cp.done()
        results[rows] = values
        todo = np.ones(len(results), dtype=bool)
        todo[rows] = False
        bar = _ProgressBar(len(results), f"sweep {strategy}") if progress else None
        try:
            if bar is not None:
                bar.advance(len(rows))
            for a, (_, bars) in enumerate(assets):
                left = np.flatnonzero(todo[a * n:(a + 1) * n])
                for start in range(0, len(left), CHECKPOINT_CHUNK):
                    idx = left[start:start + CHECKPOINT_CHUNK]
                    out = run_sets(bars, strategy, [sets[i] for i in idx], costs, threads, bar,
                                   params[idx])
                    cp.store(a * n + idx, out)
                    results[a * n + idx] = out
        finally:
            if bar is not None:
                bar.close()
    names = None if assets[0][0] is None else [name for name, _ in assets]
    return to_frame(strategy, sets, [results[a * n:(a + 1) * n] for a in range(len(assets))],
                    names, skipped)
