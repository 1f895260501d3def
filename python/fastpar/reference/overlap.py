"""Readable reference versions of TA-Lib's overlap studies beyond the first
ten (moving averages of every type, SAR, MIDPOINT, MIDPRICE), in fastpar's
parameter names with TA-Lib's defaults. Conventions as in
``fastpar.reference.indicators``."""

import numpy as np

from ._common import _check_period, _nans, _series, ma

__all__ = ["dema", "tema", "trima", "kama", "t3", "sar", "midpoint", "midprice"]


def dema(x, period=30):
    """Double EMA: 2 EMA(x) - EMA(EMA(x)), each EMA seeded with its first mean."""
    return ma(x, period, 3)


def tema(x, period=30):
    """Triple EMA: 3 EMA1 - 3 EMA2 + EMA3 (EMA2 = EMA(EMA1), EMA3 = EMA(EMA2))."""
    return ma(x, period, 4)


def trima(x, period=30):
    """Triangular moving average: weights 1, 2, .., 2, 1 over the window."""
    return ma(x, period, 5)


def kama(x, period=30):
    """Kaufman's adaptive moving average (see fastpar.reference.ma)."""
    return ma(x, period, 6)


def t3(x, period=5, vfactor=0.7):
    """Tillson's T3 (see fastpar.reference.ma)."""
    return ma(x, period, 8, vfactor)


def _window_extremes(high, low, b, period):
    n = len(high)
    hi, lo = _nans(n), _nans(n)
    for i in range(b + period - 1, n):
        hi[i] = np.max(high[i - period + 1 : i + 1])
        lo[i] = np.min(low[i - period + 1 : i + 1])
    return hi, lo


def midpoint(x, period=14):
    """(highest + lowest) / 2 over the last `period` values."""
    _check_period(period)
    (x,), b = _series(x)
    hi, lo = _window_extremes(x, x, b, period)
    return (hi + lo) / 2.0


def midprice(high, low, period=14):
    """(highest high + lowest low) / 2 over the last `period` bars."""
    _check_period(period)
    (high, low), b = _series(high, low)
    hi, lo = _window_extremes(high, low, b, period)
    return (hi + lo) / 2.0


def sar(high, low, acceleration=0.02, maximum=0.2):
    """Wilder's parabolic SAR, started as TA-Lib starts it.

    The first two bars decide the direction: short if the second bar's low
    fell further than its high rose (a positive minus-DM), long otherwise.
    A long starts with SAR = the first bar's low and extreme point (EP) =
    the second bar's high; a short with the first bar's high and the second
    bar's low. At each bar from the second: if the bar reaches the SAR, the
    position reverses, the SAR jumps to the EP (kept outside the range of
    this bar and the one before) and the EP becomes this bar's extreme;
    the SAR is output; then, after a new extreme (af += acceleration, up to
    maximum), SAR += af (EP - SAR), kept outside the last two bars' range.
    acceleration above maximum is taken as maximum.
    """
    (high, low), b = _series(high, low)
    n = len(high)
    out = _nans(n)
    if n - b < 2:
        return out
    acc = min(acceleration, maximum)
    down, up = low[b] - low[b + 1], high[b + 1] - high[b]
    long_ = not (down > 0 and up < down)
    ep = high[b + 1] if long_ else low[b + 1]
    s = low[b] if long_ else high[b]
    af = acc
    for i in range(b + 1, n):
        # the bar before; the first step compares with the second bar itself
        ph, pl = (high[i - 1], low[i - 1]) if i > b + 1 else (high[i], low[i])
        if long_ and low[i] <= s or not long_ and high[i] >= s:
            long_ = not long_
            s = min(ep, pl, low[i]) if long_ else max(ep, ph, high[i])
            out[i] = s
            af = acc
            ep = high[i] if long_ else low[i]
        else:
            out[i] = s
            if long_ and high[i] > ep or not long_ and low[i] < ep:
                ep = high[i] if long_ else low[i]
                af = min(af + acc, maximum)
        s = s + af * (ep - s)
        s = min(s, pl, low[i]) if long_ else max(s, ph, high[i])
    return out
