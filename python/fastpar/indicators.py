"""Technical indicators computed in C with the GIL released.

Each function takes anything NumPy converts to numbers (lists, int or float
arrays of any layout, pandas Series) and returns float64 arrays as long as
its input, with TA-Lib's conventions:

* NaN for the first ``lookback`` values;
* leading NaNs are skipped: the indicator starts at the first value that is
  not NaN (for high/low/close, the first index where none of them is NaN);
* an input shorter than the lookback gives all NaN.

A NaN or an infinity *after* the leading NaNs is an error (ValueError),
never a silently propagated hole: clean or fill your data first. So is a
masked array with masked values (the mask would be ignored).

A 2-D array holds one series per row; its rows are computed on fastpar's
native thread pool (``threads=None``: the pool's size, see
:func:`fastpar.set_num_threads`; ``threads=1``: the calling thread only).
A pandas Series gives a Series with the same index and name.

The GIL is released for the whole computation, so plain Python threads
calling these functions run in parallel.
"""

from __future__ import annotations

import sys
from typing import Any, Callable, Sequence, Tuple

import numpy as np

from . import _fastpar

__all__ = [
    "sma",
    "ema",
    "wma",
    "rsi",
    "stddev",
    "bbands",
    "envelope",
    "macd",
    "atr",
    "stoch",
    "MAX_PERIOD",
]

#: The longest period any indicator accepts.
MAX_PERIOD: int = _fastpar.MAX_PERIOD

ArrayLike = Any  # anything numpy.asarray turns into a 1-D or 2-D number array
Result = Any  # numpy.ndarray, or pandas.Series for Series input


def _series_type() -> type | None:
    pandas = sys.modules.get("pandas")  # no need to import pandas for users without it
    return pandas.Series if pandas is not None else None


def _as_array(x: ArrayLike, name: str) -> np.ndarray:
    if type(x) is np.ndarray:
        return x
    if isinstance(x, np.ma.MaskedArray):
        # The kernels do not read masks: the values under them would be used.
        if np.ma.is_masked(x):
            raise ValueError(
                f"{name} is a masked array with {int(np.ma.count_masked(x))} masked value(s); "
                "fastpar does not read masks: drop or fill those values first"
            )
        return x.data
    pandas = sys.modules.get("pandas")
    if pandas is not None and isinstance(x, pandas.DataFrame):
        raise TypeError(
            f"{name}: pass a Series, or a 2-D array with one series per row "
            f"(for one column per series: df.to_numpy().T), not a DataFrame"
        )
    return np.asarray(x)


# Every function below calls its C kernel directly when its inputs are NumPy
# arrays: the kernel checks and converts everything (dtype, shape, layout,
# parameters) with the messages users see, because at 1,000 prices any
# work in Python would cost as much as the kernel. Other inputs go through
# _call.


def _call(
    kernel: Callable[..., Any],
    names: Sequence[str],
    inputs: Sequence[ArrayLike],
    params: Sequence[Any],
    threads: Any,
) -> Any:
    """Run one C kernel on inputs that are not all NumPy arrays: they become
    arrays first, and the results for a pandas Series are wrapped like it."""
    first = inputs[0]
    result = kernel(*(_as_array(x, n) for x, n in zip(inputs, names)), *params, threads)
    series = _series_type()
    if series is None or not isinstance(first, series):
        return result

    def wrap(a: np.ndarray) -> Any:
        return series(a, index=first.index, name=first.name)

    return tuple(wrap(a) for a in result) if isinstance(result, tuple) else wrap(result)


_ndarray = np.ndarray
_X = ("x",)
_HLC = ("high", "low", "close")


def sma(x: ArrayLike, period: int, *, threads: int | None = None) -> Result:
    """Simple moving average over ``period`` values. Lookback: period - 1.

    Raises TypeError for non-numeric input or a non-integer period, and
    ValueError for empty or >2-D input, a period outside [1, MAX_PERIOD], or
    NaN/inf after the leading NaNs.
    """
    if type(x) is _ndarray:
        return _fastpar.sma(x, period, threads)
    return _call(_fastpar.sma, _X, (x,), (period,), threads)


def ema(x: ArrayLike, period: int, *, threads: int | None = None) -> Result:
    """Exponential moving average, k = 2 / (period + 1), seeded with the simple
    mean of the first ``period`` values (TA-Lib's EMA). Lookback: period - 1.

    Raises as :func:`sma`.
    """
    if type(x) is _ndarray:
        return _fastpar.ema(x, period, threads)
    return _call(_fastpar.ema, _X, (x,), (period,), threads)


def wma(x: ArrayLike, period: int, *, threads: int | None = None) -> Result:
    """Linearly weighted moving average, weights 1..period with the newest
    heaviest (TA-Lib's WMA). Lookback: period - 1.

    Raises as :func:`sma`.
    """
    if type(x) is _ndarray:
        return _fastpar.wma(x, period, threads)
    return _call(_fastpar.wma, _X, (x,), (period,), threads)


_RSI_METHODS = {"wilder": _fastpar.rsi, "simple": _fastpar.rsi_simple}


def rsi(
    x: ArrayLike, period: int = 14, method: str = "wilder", *, threads: int | None = None
) -> Result:
    """Relative strength index, in [0, 100]. Lookback: period.

    ``method="wilder"`` (default) is TA-Lib's RSI: average gain and loss
    seeded with their mean over the first ``period`` changes, then smoothed
    as (prev * (period - 1) + change) / period; 0 when nothing moved.
    ``method="simple"`` is the batch_orchestrator CORE/rsi worker's: plain
    means of gains and losses over the last ``period`` changes, 100 when
    there is no loss.

    Raises as :func:`sma`, and ValueError for an unknown ``method``.
    """
    kernel = _RSI_METHODS.get(method) if isinstance(method, str) else None
    if kernel is None:
        raise ValueError(f"method must be one of {sorted(_RSI_METHODS)}, got {method!r}")
    if type(x) is _ndarray:
        return kernel(x, period, threads)
    return _call(kernel, _X, (x,), (period,), threads)


def stddev(
    x: ArrayLike, period: int, nbdev: float = 1.0, *, threads: int | None = None
) -> Result:
    """Population standard deviation over ``period`` values, times ``nbdev``
    (TA-Lib's STDDEV). Lookback: period - 1.

    Raises as :func:`sma`, and ValueError for a non-finite ``nbdev``.
    """
    if type(x) is _ndarray:
        return _fastpar.stddev(x, period, nbdev, threads)
    return _call(_fastpar.stddev, _X, (x,), (period, nbdev), threads)


def bbands(
    x: ArrayLike,
    period: int = 20,
    nbdev_up: float = 2.0,
    nbdev_dn: float = 2.0,
    *,
    threads: int | None = None,
) -> Tuple[Result, Result, Result]:
    """Bollinger bands ``(upper, middle, lower)``: middle is the SMA, the bands
    are middle +/- nbdev * population std (TA-Lib's BBANDS with an SMA).
    Lookback: period - 1.

    Raises as :func:`sma`, and ValueError for non-finite ``nbdev_up``/``nbdev_dn``.
    """
    if type(x) is _ndarray:
        return _fastpar.bbands(x, period, nbdev_up, nbdev_dn, threads)
    return _call(_fastpar.bbands, _X, (x,), (period, nbdev_up, nbdev_dn), threads)


def envelope(
    x: ArrayLike, period: int = 20, deviation: float = 0.02, *, threads: int | None = None
) -> Tuple[Result, Result, Result]:
    """The batch_orchestrator CORE/envelope band ``(upper, middle, lower)``:
    middle = mean of the last ``period`` values, bands = middle +/-
    deviation * their population std. Lookback: period - 1.

    Raises as :func:`sma`, and ValueError for a non-finite ``deviation``.
    """
    if type(x) is _ndarray:
        return _fastpar.envelope(x, period, deviation, threads)
    return _call(_fastpar.envelope, _X, (x,), (period, deviation), threads)


def macd(
    x: ArrayLike, fast: int = 12, slow: int = 26, signal: int = 9, *, threads: int | None = None
) -> Tuple[Result, Result, Result]:
    """MACD ``(macd, signal, hist)``: EMA(fast) - EMA(slow), its EMA(signal),
    and their difference, seeded as TA-Lib's MACD. Lookback: slow + signal - 2.

    Raises as :func:`sma`, and ValueError unless fast < slow.
    """
    if type(x) is _ndarray:
        return _fastpar.macd(x, fast, slow, signal, threads)
    return _call(_fastpar.macd, _X, (x,), (fast, slow, signal), threads)


def atr(
    high: ArrayLike,
    low: ArrayLike,
    close: ArrayLike,
    period: int = 14,
    *,
    threads: int | None = None,
) -> Result:
    """Average true range, Wilder-smoothed (TA-Lib's ATR). Lookback: period.

    Raises as :func:`sma`, and ValueError when high, low and close differ in shape.
    """
    if type(high) is type(low) is type(close) is _ndarray:
        return _fastpar.atr(high, low, close, period, threads)
    return _call(_fastpar.atr, _HLC, (high, low, close), (period,), threads)


def stoch(
    high: ArrayLike,
    low: ArrayLike,
    close: ArrayLike,
    fastk_period: int = 5,
    slowk_period: int = 3,
    slowd_period: int = 3,
    *,
    threads: int | None = None,
) -> Tuple[Result, Result]:
    """Slow stochastic ``(slowk, slowd)`` with SMA smoothing (TA-Lib's STOCH).
    Lookback: fastk_period + slowk_period + slowd_period - 3.

    Raises as :func:`sma`, and ValueError when high, low and close differ in shape.
    """
    params = (fastk_period, slowk_period, slowd_period)
    if type(high) is type(low) is type(close) is _ndarray:
        return _fastpar.stoch(high, low, close, *params, threads)
    return _call(_fastpar.stoch, _HLC, (high, low, close), params, threads)

