"""Slow, readable reference versions of fastpar's indicators.

Each function here is the definition the C kernel of the same name is tested
against (``tests/test_indicators.py``). They are written for clarity, not
speed: plain loops over windows, sums taken with ``math.fsum`` so that the
reference carries no rounding drift of its own.

Conventions (TA-Lib's):

- the output is as long as the input, NaN over the lookback prefix;
- leading NaNs are skipped: with ``begin`` the first index that is not NaN
  (the largest such index over several inputs), the indicator is computed on
  ``x[begin:]`` and the first ``begin + lookback`` outputs are NaN;
- an input too short for one value, or all NaN, gives all NaN;
- after ``begin`` every value must be finite (ValueError otherwise).

Lookbacks: sma, ema, wma, stddev, bbands, envelope ``period - 1``;
rsi (both methods) and atr ``period``; macd ``slow - 1 + signal - 1``;
stoch ``fastk_period - 1 + slowk_period - 1 + slowd_period - 1``.
"""

import math

import numpy as np

from ._common import _check_period, _ema_from, _mean, _nans, _series, ma

__all__ = ["sma", "ema", "wma", "rsi", "stddev", "bbands", "envelope", "macd", "atr", "stoch"]


def sma(x, period=30):
    """Simple moving average."""
    _check_period(period)
    (x,), b = _series(x)
    out = _nans(len(x))
    for i in range(b + period - 1, len(x)):
        out[i] = _mean(x[i - period + 1 : i + 1])
    return out


def ema(x, period=30):
    """EMA, k = 2 / (period + 1), seeded with the mean of the first `period` values."""
    _check_period(period)
    (x,), b = _series(x)
    return _ema_from(x, period, b + period - 1)


def wma(x, period=30):
    """Linearly weighted moving average, weights 1..period (newest heaviest)."""
    _check_period(period)
    (x,), b = _series(x)
    out = _nans(len(x))
    weights = np.arange(1, period + 1, dtype=np.float64)
    divider = period * (period + 1) / 2.0
    for i in range(b + period - 1, len(x)):
        out[i] = math.fsum(weights * x[i - period + 1 : i + 1]) / divider
    return out


def rsi(x, period=14, method="wilder"):
    """Relative strength index.

    "wilder" (TA-Lib's RSI): average gain and loss seeded with their means
    over the first `period` deltas, then smoothed as
    (prev * (period - 1) + value) / period; 100 * gain / (gain + loss), and 0
    when gain + loss is 0.

    "simple" (the batch_orchestrator's CORE/rsi worker): at index i, plain
    means of the gains and losses among the deltas of x[i-period..i];
    100 if the mean loss is 0, else 100 - 100 / (1 + gain / loss).
    """
    _check_period(period)
    if method not in ("wilder", "simple"):
        raise ValueError(f"unknown rsi method {method!r}")
    (x,), b = _series(x)
    out = _nans(len(x))
    if method == "simple":
        for i in range(b + period, len(x)):
            deltas = np.diff(x[i - period : i + 1])
            gain = np.mean(np.maximum(deltas, 0.0))
            loss = np.mean(np.maximum(-deltas, 0.0))
            out[i] = 100.0 if loss == 0 else 100.0 - 100.0 / (1.0 + gain / loss)
        return out
    deltas = np.diff(x[b:])  # deltas[j] = x[b+j+1] - x[b+j]
    if len(deltas) < period:
        return out
    gain = _mean(np.maximum(deltas[:period], 0.0))
    loss = _mean(np.maximum(-deltas[:period], 0.0))
    for j in range(period - 1, len(deltas)):
        if j >= period:
            gain = (gain * (period - 1) + max(deltas[j], 0.0)) / period
            loss = (loss * (period - 1) + max(-deltas[j], 0.0)) / period
        out[b + j + 1] = 100.0 * gain / (gain + loss) if gain + loss != 0 else 0.0
    return out


def rsi_simple(x, period=14):
    """The batch_orchestrator's RSI: rsi(x, period, method="simple")."""
    return rsi(x, period, "simple")


def stddev(x, period=5, nbdev=1.0):
    """Population standard deviation over `period` values, times nbdev.

    Two-pass per window: variance = mean((w - mean(w))**2). TA-Lib 0.8's
    VAR/STDDEV are cancellation-free (running sums of deviations from a shift
    re-anchored on the window mean, a flat window giving exactly 0), and this
    form agrees with them within 1e-9, flat stretches included. The older
    TA-Lib form, mean(x**2) - mean(x)**2 from running sums of raw values,
    loses ~1e-7 at price levels near 1e5 and leaves rounding noise on flat
    stretches; it is not what TA-Lib computes any more.
    """
    _check_period(period)
    (x,), b = _series(x)
    out = _nans(len(x))
    for i in range(b + period - 1, len(x)):
        window = x[i - period + 1 : i + 1]
        variance = _mean((window - _mean(window)) ** 2)
        out[i] = math.sqrt(variance) * nbdev
    return out


def bbands(x, period=20, nbdev_up=2.0, nbdev_dn=2.0, matype=0):
    """Bollinger bands: middle = the moving average of type `matype` (ma),
    upper/lower = middle +/- nbdev * population std of the window."""
    middle = ma(x, period, matype)
    std = stddev(x, period)
    return middle + nbdev_up * std, middle, middle - nbdev_dn * std


def envelope(x, period=20, deviation=0.02):
    """The batch_orchestrator's CORE/envelope: middle = window mean,
    upper/lower = middle +/- population std of the window * deviation."""
    _check_period(period)
    (x,), b = _series(x)
    upper, middle, lower = _nans(len(x)), _nans(len(x)), _nans(len(x))
    for i in range(b + period - 1, len(x)):
        window = x[i - period + 1 : i + 1]
        m, s = np.mean(window), np.std(window)
        upper[i], middle[i], lower[i] = m + s * deviation, m, m - s * deviation
    return upper, middle, lower


def macd(x, fast=12, slow=26, signal=9):
    """MACD as TA-Lib computes it.

    Both EMAs start at index slow-1 (past the leading NaNs): the slow one
    seeded with the mean of the first `slow` values, the fast one with the
    mean of the `fast` values ending at the same index. The signal EMA is
    seeded with the mean of the first `signal` MACD values; all three outputs
    start at slow-1 + signal-1.
    """
    _check_period(fast, slow, signal)
    if fast >= slow:
        raise ValueError("macd needs fast < slow")
    (x,), b = _series(x)
    start = b + slow - 1
    line = _ema_from(x, fast, start) - _ema_from(x, slow, start)
    sig = _ema_from(line, signal, start + signal - 1)
    line[: start + signal - 1] = np.nan
    return line, sig, line - sig


def atr(high, low, close, period=14):
    """Average true range, Wilder-smoothed, seeded with the mean of the first
    `period` true ranges; TR[i] = max(h-l, |h-c[i-1]|, |l-c[i-1]|)."""
    _check_period(period)
    (high, low, close), b = _series(high, low, close)
    out = _nans(len(close))
    if b + period >= len(close):
        return out
    tr = _nans(len(close))
    for i in range(b + 1, len(close)):
        prev = close[i - 1]
        tr[i] = max(high[i] - low[i], abs(high[i] - prev), abs(low[i] - prev))
    a = _mean(tr[b + 1 : b + period + 1])
    out[b + period] = a
    for i in range(b + period + 1, len(close)):
        a = (a * (period - 1) + tr[i]) / period
        out[i] = a
    return out


def stoch(high, low, close, fastk_period=5, slowk_period=3, slowd_period=3, slowk_matype=0,
          slowd_matype=0):
    """Slow stochastic (TA-Lib's STOCH).

    fastk = (close - lowest low) / ((highest high - lowest low) / 100) over
    fastk_period, 0 when the range is 0; slowk = the moving average of type
    slowk_matype of fastk over slowk_period; slowd = that of slowk over
    slowd_period (ma). Both start at the full lookback.
    """
    _check_period(fastk_period, slowk_period, slowd_period)
    (high, low, close), b = _series(high, low, close)
    n = len(close)
    fastk = _nans(n)
    for i in range(b + fastk_period - 1, n):
        hh = np.max(high[i - fastk_period + 1 : i + 1])
        ll = np.min(low[i - fastk_period + 1 : i + 1])
        diff = (hh - ll) / 100.0
        fastk[i] = (close[i] - ll) / diff if diff != 0 else 0.0
    slowk = ma(fastk, slowk_period, slowk_matype)
    slowd = ma(slowk, slowd_period, slowd_matype)
    slowk[np.isnan(slowd)] = np.nan
    return slowk, slowd
