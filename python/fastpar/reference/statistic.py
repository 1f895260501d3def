"""Volume, volatility, price-transform, statistic and math functions,
written for clarity: each window summed afresh (math.fsum), no running
sums, so that the C kernels' TA-Lib arithmetic is held to the exact
definition. max, min and sum are TA-Lib's names and shadow the builtins
here: this module calls those as builtins.max etc."""

import builtins
import math

import numpy as np

from ._common import _check_period, _mean, _nans, _series

# --------------------------------------------------------------------------
# Volume


def _ad_line(high, low, close, volume, b):
    """Chaikin's accumulation/distribution from bar b: each bar adds its
    close location value ((c - l) - (h - c)) / (h - l) times its volume; a
    bar without a range adds nothing."""
    out = _nans(len(close))
    ad = 0.0
    for i in range(b, len(close)):
        r = high[i] - low[i]
        if r > 0.0:
            ad += ((close[i] - low[i]) - (high[i] - close[i])) / r * volume[i]
        out[i] = ad
    return out


def ad(high, low, close, volume):
    """Chaikin accumulation/distribution line."""
    (high, low, close, volume), b = _series(high, low, close, volume)
    return _ad_line(high, low, close, volume, b)


def adosc(high, low, close, volume, fast=3, slow=10):
    """EMA(fast) - EMA(slow) of the AD line, both EMAs started at the first
    AD value (k = 2 / (period + 1)); NaN over the slower one's lookback."""
    _check_period(fast, slow)
    (high, low, close, volume), b = _series(high, low, close, volume)
    line = _ad_line(high, low, close, volume, b)
    out = _nans(len(close))
    if b >= len(close):
        return out
    kf, ks = 2.0 / (fast + 1), 2.0 / (slow + 1)
    ef = es = line[b]
    lookback = builtins.max(fast, slow) - 1
    for i in range(b, len(close)):
        if i > b:
            ef = kf * line[i] + (1 - kf) * ef
            es = ks * line[i] + (1 - ks) * es
        if i >= b + lookback:
            out[i] = ef - es
    return out


def obv(x, volume):
    """On-balance volume: the first volume, then + volume on a rise of x,
    - volume on a fall."""
    (x, volume), b = _series(x, volume)
    out = _nans(len(x))
    if b >= len(x):
        return out
    total = volume[b]
    out[b] = total
    for i in range(b + 1, len(x)):
        if x[i] > x[i - 1]:
            total += volume[i]
        elif x[i] < x[i - 1]:
            total -= volume[i]
        out[i] = total
    return out


# --------------------------------------------------------------------------
# Volatility


def trange(high, low, close):
    """True range: max(h - l, |h - previous close|, |l - previous close|)."""
    (high, low, close), b = _series(high, low, close)
    out = _nans(len(close))
    for i in range(b + 1, len(close)):
        prev = close[i - 1]
        out[i] = builtins.max(high[i] - low[i], abs(high[i] - prev), abs(low[i] - prev))
    return out


def natr(high, low, close, period=14):
    """100 ATR / close (0 for a close of 0); period 1: the true range, as
    TA-Lib gives it (not normalised)."""
    from .indicators import atr

    if period == 1:
        return trange(high, low, close)
    a = atr(high, low, close, period)
    (close,), _ = _series(close)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(close == 0.0, 0.0, a / close * 100.0)
    out[np.isnan(a)] = np.nan
    return out


# --------------------------------------------------------------------------
# Price transforms


def avgprice(open, high, low, close):  # noqa: A002 - TA-Lib's input name
    """(open + high + low + close) / 4."""
    (o, h, lo, c), _ = _series(open, high, low, close)
    return (h + lo + c + o) / 4.0


def medprice(high, low):
    """(high + low) / 2."""
    (h, lo), _ = _series(high, low)
    return (h + lo) / 2.0


def typprice(high, low, close):
    """(high + low + close) / 3."""
    (h, lo, c), _ = _series(high, low, close)
    return (h + lo + c) / 3.0


def wclprice(high, low, close):
    """(high + low + 2 close) / 4."""
    (h, lo, c), _ = _series(high, low, close)
    return (h + lo + c * 2.0) / 4.0


# --------------------------------------------------------------------------
# Statistic functions


def _windows(x, period, lookback=None):
    """(i, window ending at i) for every output index i."""
    (x,), b = _series(x)
    lookback = period - 1 if lookback is None else lookback
    return x, [(i, x[i - period + 1 : i + 1]) for i in range(b + lookback, len(x))]


def var(x, period=5, nbdev=1.0):
    """Population variance of each window, two-pass; nbdev is unused (as in
    TA-Lib)."""
    _check_period(period)
    x, windows = _windows(x, period)
    out = _nans(len(x))
    for i, w in windows:
        out[i] = _mean((w - _mean(w)) ** 2)
    return out


def _line(w):
    """Slope m (per step) and the line's value b at the window's first value,
    least squares, exact sums."""
    p = len(w)
    t = np.arange(p, dtype=np.float64)
    mt, mw = _mean(t), _mean(w)
    m = math.fsum((t - mt) * (w - mw)) / math.fsum((t - mt) ** 2)
    return m, mw - m * mt


def _linreg(x, period, f):
    _check_period(period)
    x, windows = _windows(x, period)
    out = _nans(len(x))
    for i, w in windows:
        out[i] = f(*_line(w), period)
    return out


def linearreg(x, period=14):
    """The least-squares line over each window, at its newest value."""
    return _linreg(x, period, lambda m, b, p: b + m * (p - 1))


def linearreg_slope(x, period=14):
    """The least-squares line's slope per step."""
    return _linreg(x, period, lambda m, b, p: m)


def linearreg_angle(x, period=14):
    """The slope's angle, in degrees."""
    return _linreg(x, period, lambda m, b, p: math.degrees(math.atan(m)))


def linearreg_intercept(x, period=14):
    """The least-squares line at the window's oldest value."""
    return _linreg(x, period, lambda m, b, p: b)


def tsf(x, period=14):
    """Time series forecast: the line one step after the window."""
    return _linreg(x, period, lambda m, b, p: b + m * p)


def _slope_and_r(u, v):
    mu, mv = _mean(u), _mean(v)
    suu = math.fsum((u - mu) ** 2)
    svv = math.fsum((v - mv) ** 2)
    suv = math.fsum((u - mu) * (v - mv))
    return suu, svv, suv


def correl(x, y, period=30):
    """Pearson's correlation over each window; 0 if either is flat."""
    _check_period(period)
    (x, y), b = _series(x, y)
    out = _nans(len(x))
    for i in range(b + period - 1, len(x)):
        sxx, syy, sxy = _slope_and_r(x[i - period + 1 : i + 1], y[i - period + 1 : i + 1])
        r = sxy / math.sqrt(sxx * syy) if sxx > 0.0 and syy > 0.0 else 0.0
        out[i] = builtins.min(1.0, builtins.max(-1.0, r))
    return out


def beta(x, y, period=5):
    """Slope of y's one-bar returns on x's over the last `period` returns (a
    return 0 after a price within 1e-8 of 0); 0 if x's returns are flat."""
    _check_period(period)
    (x, y), b = _series(x, y)
    out = _nans(len(x))

    def returns(s):
        r = np.zeros(len(s))
        for i in range(1, len(s)):
            r[i] = 0.0 if abs(s[i - 1]) < 1e-8 else (s[i] - s[i - 1]) / s[i - 1]
        return r

    rx, ry = returns(x), returns(y)
    for i in range(b + period, len(x)):
        sxx, _, sxy = _slope_and_r(rx[i - period + 1 : i + 1], ry[i - period + 1 : i + 1])
        out[i] = sxy / sxx if sxx > 0.0 else 0.0
    return out


# --------------------------------------------------------------------------
# Math operators


def max(x, period=30):  # noqa: A001 - TA-Lib's name
    """Highest value of each window."""
    _check_period(period)
    x, windows = _windows(x, period)
    out = _nans(len(x))
    for i, w in windows:
        out[i] = np.max(w)
    return out


def min(x, period=30):  # noqa: A001 - TA-Lib's name
    """Lowest value of each window."""
    _check_period(period)
    x, windows = _windows(x, period)
    out = _nans(len(x))
    for i, w in windows:
        out[i] = np.min(w)
    return out


def sum(x, period=30):  # noqa: A001 - TA-Lib's name
    """Sum of each window."""
    _check_period(period)
    x, windows = _windows(x, period)
    out = _nans(len(x))
    for i, w in windows:
        out[i] = math.fsum(w)
    return out
