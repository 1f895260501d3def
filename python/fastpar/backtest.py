"""Backtests of your own signals: entries and exits you computed, in C.

``fastpar.backtest(close, entries, exits, ...)`` runs boolean signal arrays
(one column per backtest) through the account of :func:`fastpar.sweep`:
the same fill model, costs, stops and metrics (``docs/backtest.md``,
``docs/sweeps.md``), the columns as one job on fastpar's pool with the GIL
released. The result is vectorbt's ``Portfolio.from_signals(close,
entries, exits, ...)`` with its defaults. The slow, readable definition the
kernel is tested against is :func:`fastpar.reference.backtest`.
"""

from __future__ import annotations

import numpy as np

from . import _fastpar
from .sweep import METRICS, _check_time_order, _costs, _real_numbers

__all__ = ["backtest"]


def _is_pandas(obj):
    return hasattr(obj, "index") and (hasattr(obj, "columns") or hasattr(obj, "name"))


def _shape_error(name, a):
    return ValueError(
        f"{name} must be 1-D (one series) or 2-D (bars x columns), got shape {a.shape}"
    )


def _prices(close):
    """`close` checked, as an aligned float64 array (a view when it is one
    already)."""
    _check_time_order(close, "close")
    a = _real_numbers(_pandas_prices(close) if _is_pandas(close) else close, "close")
    if a.ndim not in (1, 2):
        raise _shape_error("close", a)
    if a.shape[0] == 0:
        raise ValueError("close has no bars")
    if a.ndim == 2 and a.shape[1] == 0:
        raise ValueError("close has no columns")
    a = np.require(a, np.float64, "A")
    # min and max see NaN, inf and prices <= 0 without an array of flags
    # the size of the closes; the flags are built only to name the culprit
    lo, hi = a.min(), a.max()
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise ValueError(
            f"close holds NaN or inf (first at {_where(close, a, ~np.isfinite(a))}); drop or "
            "fill those bars first"
        )
    if lo <= 0.0:
        bad = a <= 0.0
        at = np.argwhere(bad)[0]
        raise ValueError(
            f"close must hold prices > 0, {_where(close, a, bad)} is {float(a[tuple(at)])!r}"
        )
    return a


def _pandas_prices(close):
    """A Series' or DataFrame's values as float64, pandas' nullable numbers
    included (NA as NaN, refused next as such); TypeError for a column that
    is not real numbers."""
    import pandas as pd

    dtypes = list(close.dtypes) if hasattr(close, "columns") else [close.dtype]
    for dt in dtypes:
        if pd.api.types.is_bool_dtype(dt) or not pd.api.types.is_numeric_dtype(dt) or (
                pd.api.types.is_complex_dtype(dt)):
            raise TypeError(f"close must hold real numbers (int or float), got dtype {dt}")
    return close.to_numpy(dtype=np.float64, na_value=np.nan)


def _where(obj, a, bad):
    """The first True of `bad` as words: 'position 7', or 'bar 7 of column
    'x'' for a 2-D array."""
    at = np.argwhere(bad)[0]
    if a.ndim == 1:
        return f"position {at[0]}"
    columns = getattr(obj, "columns", None)
    label = columns[at[1]] if columns is not None else at[1]
    return f"bar {at[0]} of column {label!r}"


_SIGNAL_HINT = {
    "i": "integer signals are not read as booleans (TA-Lib's candlestick patterns give "
         "-100, 0 and 100, and -100 is no entry); convert them first, e.g. {name} > 0",
    "u": "integer signals are not read as booleans; convert them first, e.g. {name} > 0",
    "f": "numbers are no signals; compare them first, e.g. fastpar.rsi(close, 14) < 30",
}


def _signals(x, name):
    """`x` checked, as a bool array (a view when it is one already): bool
    dtypes only, pandas' nullable boolean without missing values."""
    if isinstance(x, np.ma.MaskedArray):
        if np.ma.is_masked(x):
            raise ValueError(
                f"{name} is a masked array with {int(np.ma.count_masked(x))} masked value(s); "
                "fastpar does not read masks: fill them first"
            )
        x = x.data
    if _is_pandas(x):
        dtypes = list(x.dtypes) if hasattr(x, "columns") else [x.dtype]
        for dt in dtypes:
            if str(dt) == "boolean":  # pandas' nullable booleans
                if x.isna().to_numpy().any():
                    raise ValueError(
                        f"{name} holds missing values (NA); fill them first "
                        f"({name}.fillna(False))"
                    )
            elif dt != np.bool_:
                _refuse_dtype(name, np.dtype(dt) if isinstance(dt, np.dtype) else dt)
        x = x.to_numpy(dtype=bool)
    a = np.asarray(x)
    if a.dtype != np.bool_:
        _refuse_dtype(name, a.dtype)
    if a.ndim not in (1, 2):
        raise _shape_error(name, a)
    return a


def _refuse_dtype(name, dtype):
    hint = _SIGNAL_HINT.get(getattr(dtype, "kind", ""), "")
    raise TypeError(
        f"{name} must hold booleans (dtype bool), got dtype {dtype}"
        + ("; " + hint.format(name=name) if hint else "")
    )


def _check_alignment(named):
    """ValueError unless the pandas objects of `named` ((name, obj,
    array)) have the same row index, and the DataFrames the same columns;
    returns the columns (a pandas Index) or None."""
    rows, columns = None, None
    for name, obj, _ in named:
        if not _is_pandas(obj):
            continue
        if rows is None:
            rows = (name, obj.index)
        elif not obj.index.equals(rows[1]):
            raise ValueError(
                f"{name}'s index is not {rows[0]}'s: align them first (e.g. "
                f"{name}.reindex({rows[0]}.index, fill_value=False))"
            )
        if hasattr(obj, "columns"):
            if columns is None:
                columns = (name, obj.columns)
            elif not obj.columns.equals(columns[1]):
                raise ValueError(
                    f"{name}'s columns are not {columns[0]}'s: give them the same columns, "
                    "in the same order"
                )
    return None if columns is None else columns[1]


def backtest(
    close,
    entries,
    exits,
    *,
    threads=None,
    fees=0.0,
    slippage=0.0,
    spread=0.0,
    stop_loss=None,
    take_profit=None,
    direction="long",
    periods_per_year=252.0,
):
    """Backtest boolean signals on closes; a DataFrame of metrics per column.

    close: prices, 1-D (one series for every column) or 2-D (bars x
        columns, e.g. one asset per column); finite and > 0. A NumPy
        array, a pandas Series or DataFrame, or anything ``np.asarray``
        takes.
    entries, exits: booleans (dtype bool; pandas' nullable booleans
        without NA), 1-D (the same signals for every column) or 2-D (bars x
        columns). Integer or float signals are refused. Every array has
        as many bars as close; the 2-D ones the same number of columns.
        Pandas inputs must share their index, DataFrames their columns.
    threads: pool threads (None: the pool's size). Results do not depend
        on it.
    fees, slippage, spread, stop_loss, take_profit, direction,
    periods_per_year: as in :func:`fastpar.sweep`.

    Returns one row per column (one row when every input is 1-D), indexed
    by the DataFrames' columns (else 0, 1, ...), with the columns of
    ``fastpar.sweep.METRICS``. Ctrl-C stops it and raises
    KeyboardInterrupt.
    """
    costs = _costs(fees, slippage, spread, stop_loss, take_profit, direction, periods_per_year)
    c = _prices(close)
    e = _signals(entries, "entries")
    x = _signals(exits, "exits")
    named = [("close", close, c), ("entries", entries, e), ("exits", exits, x)]
    width = None
    for name, _, a in named:
        if a.shape[0] != c.shape[0]:
            raise ValueError(f"{name} has {a.shape[0]:,} bars, close has {c.shape[0]:,}")
        if a.ndim == 2:
            if a.shape[1] == 0:
                raise ValueError(f"{name} has no columns")
            if width is not None and a.shape[1] != width[1]:
                raise ValueError(
                    f"{name} has {a.shape[1]:,} columns, {width[0]} has {width[1]:,}: the 2-D "
                    "arrays of close, entries and exits need the same columns (a 1-D one "
                    "serves every column)"
                )
            width = (name, a.shape[1])
    labels = _check_alignment(named)
    lowest = float(c.min()) * (1.0 - costs["slippage"])
    if costs["spread"] / 2.0 >= lowest:
        raise ValueError(
            f"spread {costs['spread']} is too large for close: half of it must stay below "
            f"the lowest sell price ({lowest})"
        )
    out = _fastpar.backtest(
        c, e, x, costs["fees"], costs["slippage"], costs["spread"], costs["stop_loss"],
        costs["take_profit"], costs["longshort"], costs["periods_per_year"], threads,
    )
    return _frame(out, labels, entries if width is None else None)


def _frame(out, labels, series):
    """The result table; `labels` the columns' labels or None, `series` the
    entries when every input is 1-D (its name labels the one row)."""
    import pandas as pd

    if labels is None:
        name = getattr(series, "name", None) if _is_pandas(series) else None
        labels = pd.Index([name]) if name is not None else pd.RangeIndex(len(out))
    cols = {m: out[:, j].astype(np.int64) if m == "n_trades" else out[:, j]
            for j, m in enumerate(METRICS)}
    return pd.DataFrame(cols, index=labels)
