"""Technical indicators computed in C with the GIL released.

Each function takes anything NumPy converts to numbers (lists, int or float
arrays of any layout, pandas Series) and returns float64 arrays as long as
its input, with TA-Lib's conventions:

* NaN for the first ``lookback`` values;
* leading NaNs are skipped: the indicator starts at the first value that is
  not NaN (for high/low/close, the first index where none of them is NaN);
* an input shorter than the lookback gives all NaN.

A NaN or an infinity *after* the leading NaNs is an error (ValueError),
never a silently propagated hole: clean or fill your data first.

A 2-D array holds one series per row; its rows are computed on fastpar's
native thread pool (``threads=None``: the pool's size, see
:func:`fastpar.set_num_threads`; ``threads=1``: the calling thread only).
A pandas Series gives a Series with the same index and name.

The GIL is released for the whole computation, so plain Python threads
calling these functions run in parallel.
"""

from __future__ import annotations

import math
import operator
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


def _as_series_array(x: ArrayLike, name: str) -> np.ndarray:
    if type(x) is not np.ndarray:  # the common case skips the DataFrame check
        pandas = sys.modules.get("pandas")
        if pandas is not None and isinstance(x, pandas.DataFrame):
            raise TypeError(
                f"{name}: pass a Series, or a 2-D array with one series per row "
                f"(for one column per series: df.to_numpy().T), not a DataFrame"
            )
    arr = np.asarray(x)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    if arr.ndim not in (1, 2):
        raise ValueError(
            f"{name} must be 1-D (one series) or 2-D (one series per row), "
            f"got {arr.ndim} dimensions"
        )
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    return np.ascontiguousarray(arr, dtype=np.float64)


def _period(value: Any, name: str) -> int:
    try:
        period = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}") from None
    if not 1 <= period <= MAX_PERIOD:
        raise ValueError(f"{name} must be in [1, {MAX_PERIOD}], got {period}")
    return period


def _real(value: Any, name: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}") from None
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {v}")
    return v


def _threads(value: Any) -> int | None:
    if value is None:
        return None
    try:
        n = operator.index(value)
    except TypeError:
        raise TypeError(f"threads must be None or an integer, got {type(value).__name__}") from None
    if not 1 <= n <= _fastpar.MAX_THREADS:
        raise ValueError(f"threads must be None or in [1, {_fastpar.MAX_THREADS}], got {n}")
    return n


def _call(
    kernel: Callable[..., Any],
    inputs: Sequence[Tuple[str, ArrayLike]],
    params: Sequence[Any],
    threads: Any,
) -> Any:
    """Convert the inputs, run one C kernel, wrap the result like the input.

    Written with plain loops: this runs on every call, and at 1,000 prices
    its cost is comparable to the kernel's."""
    arrays = []
    for name, x in inputs:
        arr = _as_series_array(x, name)
        if arrays and arr.shape != arrays[0].shape:
            raise ValueError(
                f"{inputs[0][0]} and {name} must have the same shape, "
                f"got {arrays[0].shape} and {arr.shape}"
            )
        arrays.append(arr)
    result = kernel(*arrays, *params, None if threads is None else _threads(threads))

    first = inputs[0][1]
    if type(first) is np.ndarray:
        return result
    series = _series_type()
    if series is None or not isinstance(first, series):
        return result

    def wrap(a: np.ndarray) -> Any:
        return series(a, index=first.index, name=first.name)

    return tuple(wrap(a) for a in result) if isinstance(result, tuple) else wrap(result)


def sma(x: ArrayLike, period: int, *, threads: int | None = None) -> Result:
    """Simple moving average over ``period`` values. Lookback: period - 1.

    Raises TypeError for non-numeric input or a non-integer period, and
    ValueError for empty or >2-D input, a period outside [1, MAX_PERIOD], or
    NaN/inf after the leading NaNs.
    """
    return _call(_fastpar.sma, (("x", x),), (_period(period, "period"),), threads)


def ema(x: ArrayLike, period: int, *, threads: int | None = None) -> Result:
    """Exponential moving average, k = 2 / (period + 1), seeded with the simple
    mean of the first ``period`` values (TA-Lib's EMA). Lookback: period - 1.

    Raises as :func:`sma`.
    """
    return _call(_fastpar.ema, (("x", x),), (_period(period, "period"),), threads)


def wma(x: ArrayLike, period: int, *, threads: int | None = None) -> Result:
    """Linearly weighted moving average, weights 1..period with the newest
    heaviest (TA-Lib's WMA). Lookback: period - 1.

    Raises as :func:`sma`.
    """
    return _call(_fastpar.wma, (("x", x),), (_period(period, "period"),), threads)


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
    kernels = {"wilder": _fastpar.rsi, "simple": _fastpar.rsi_simple}
    if method not in kernels:
        raise ValueError(f"method must be one of {sorted(kernels)}, got {method!r}")
    return _call(kernels[method], (("x", x),), (_period(period, "period"),), threads)


def stddev(
    x: ArrayLike, period: int, nbdev: float = 1.0, *, threads: int | None = None
) -> Result:
    """Population standard deviation over ``period`` values, times ``nbdev``
    (TA-Lib's STDDEV). Lookback: period - 1.

    Raises as :func:`sma`, and ValueError for a non-finite ``nbdev``.
    """
    params = [_period(period, "period"), _real(nbdev, "nbdev")]
    return _call(_fastpar.stddev, (("x", x),), params, threads)


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
    params = [_period(period, "period"), _real(nbdev_up, "nbdev_up"), _real(nbdev_dn, "nbdev_dn")]
    return _call(_fastpar.bbands, (("x", x),), params, threads)


def envelope(
    x: ArrayLike, period: int = 20, deviation: float = 0.02, *, threads: int | None = None
) -> Tuple[Result, Result, Result]:
    """The batch_orchestrator CORE/envelope band ``(upper, middle, lower)``:
    middle = mean of the last ``period`` values, bands = middle +/-
    deviation * their population std. Lookback: period - 1.

    Raises as :func:`sma`, and ValueError for a non-finite ``deviation``.
    """
    params = [_period(period, "period"), _real(deviation, "deviation")]
    return _call(_fastpar.envelope, (("x", x),), params, threads)


def macd(
    x: ArrayLike, fast: int = 12, slow: int = 26, signal: int = 9, *, threads: int | None = None
) -> Tuple[Result, Result, Result]:
    """MACD ``(macd, signal, hist)``: EMA(fast) - EMA(slow), its EMA(signal),
    and their difference, seeded as TA-Lib's MACD. Lookback: slow + signal - 2.

    Raises as :func:`sma`, and ValueError unless fast < slow.
    """
    fast_, slow_ = _period(fast, "fast"), _period(slow, "slow")
    if fast_ >= slow_:
        raise ValueError(f"macd needs fast < slow, got fast={fast_}, slow={slow_}")
    params = [fast_, slow_, _period(signal, "signal")]
    return _call(_fastpar.macd, (("x", x),), params, threads)


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
    inputs = (("high", high), ("low", low), ("close", close))
    return _call(_fastpar.atr, inputs, (_period(period, "period"),), threads)


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
    inputs = (("high", high), ("low", low), ("close", close))
    params = [
        _period(fastk_period, "fastk_period"),
        _period(slowk_period, "slowk_period"),
        _period(slowd_period, "slowd_period"),
    ]
    return _call(_fastpar.stoch, inputs, params, threads)

