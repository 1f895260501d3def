"""What the reference indicators share: input checks, plain means without
rounding drift, and TA-Lib's moving averages by type (``ma``), which every
function with a ``matype`` parameter smooths through."""

import math

import numpy as np

def _series(*inputs):
    """Float64 copies of the inputs and the index of their first full row."""
    arrays = [np.array(a, dtype=np.float64) for a in inputs]
    n = len(arrays[0])
    begin = 0
    for a in arrays:
        if a.ndim != 1 or len(a) != n:
            raise ValueError("inputs must be 1-D and of equal length")
        valid = np.flatnonzero(~np.isnan(a))
        begin = max(begin, valid[0] if valid.size else n)
    for a in arrays:
        if not np.isfinite(a[begin:]).all():
            raise ValueError("NaN or inf after the leading NaNs")
    return arrays, begin


def _check_period(*periods):
    for p in periods:
        if not isinstance(p, (int, np.integer)) or p < 1:
            raise ValueError(f"period must be an integer >= 1, got {p!r}")


def _mean(values):
    return math.fsum(values) / len(values)


def _nans(n):
    return np.full(n, np.nan)


def _ema_from(v, period, seed_idx):
    """EMA of v, seeded at seed_idx with the mean of the `period` values ending there."""
    out = _nans(len(v))
    if seed_idx >= len(v):
        return out
    k = 2.0 / (period + 1)
    e = _mean(v[seed_idx - period + 1 : seed_idx + 1])
    out[seed_idx] = e
    for i in range(seed_idx + 1, len(v)):
        e = e + k * (v[i] - e)
        out[i] = e
    return out



def _ema_series(v, period):
    """EMA of v (NaN before its first value), seeded with the mean of the
    first `period` values that are not NaN."""
    valid = np.flatnonzero(~np.isnan(v))
    if valid.size == 0:
        return _nans(len(v))
    return _ema_from(v, period, valid[0] + period - 1)


def _trima(x, b, period):
    """Triangular weights 1, 2, .., 2, 1 over each window."""
    weights = np.array([min(j + 1, period - j) for j in range(period)], dtype=np.float64)
    out = _nans(len(x))
    for i in range(b + period - 1, len(x)):
        out[i] = math.fsum(weights * x[i - period + 1 : i + 1]) / math.fsum(weights)
    return out


def _kama(x, b, period):
    """Kaufman's adaptive average: efficiency ratio ER = |x - x[-period]| /
    (sum of the last period |changes|) (1 when that sum is 0 or below the net
    change), factor (ER (2/3 - 2/31) + 2/31)^2, started from the value before
    the first output."""
    fastest, slowest = 2.0 / 3.0, 2.0 / 31.0
    out = _nans(len(x))
    if len(x) - b <= period:
        return out
    k = x[b + period - 1]
    for i in range(b + period, len(x)):
        change = x[i] - x[i - period]
        volatility = math.fsum(abs(x[j] - x[j - 1]) for j in range(i - period + 1, i + 1))
        er = 1.0 if volatility <= change else abs(change / volatility)
        sc = (er * (fastest - slowest) + slowest) ** 2
        k = k + sc * (x[i] - k)
        out[i] = k
    return out


def _t3(x, b, period, vfactor):
    """Tillson's T3: six EMAs in a chain, each seeded with the mean of its
    first `period` inputs, combined as c1 e6 + c2 e5 + c3 e4 + c4 e3."""
    e = x.copy()
    e[:b] = np.nan
    stages = []
    for _ in range(6):
        e = _ema_series(e, period)
        stages.append(e)
    v = vfactor
    c1, c2, c3, c4 = -v**3, 3 * v**2 + 3 * v**3, -6 * v**2 - 3 * v - 3 * v**3, 1 + 3 * v + v**3 + 3 * v**2
    e3, e4, e5, e6 = stages[2], stages[3], stages[4], stages[5]
    return c1 * e6 + c2 * e5 + c3 * e4 + c4 * e3


def ma(x, period=30, matype=0, vfactor=0.7):
    """TA-Lib's moving average of type `matype`: 0 SMA, 1 EMA, 2 WMA, 3 DEMA,
    4 TEMA, 5 TRIMA, 6 KAMA, 8 T3 (with `vfactor`), 10 the input itself. A
    period of 1 is the input itself whatever the type. NaN before the first
    value of x that is not NaN, and over the lookback after it."""
    _check_period(period)
    (x,), b = _series(x)
    if period == 1 or matype == 10:
        out = x.copy()
        out[:b] = np.nan
        return out
    if matype == 0:
        out = _nans(len(x))
        for i in range(b + period - 1, len(x)):
            out[i] = _mean(x[i - period + 1 : i + 1])
        return out
    if matype == 1:
        return _ema_from(x, period, b + period - 1)
    if matype == 2:
        out = _nans(len(x))
        weights = np.arange(1, period + 1, dtype=np.float64)
        for i in range(b + period - 1, len(x)):
            out[i] = math.fsum(weights * x[i - period + 1 : i + 1]) / (period * (period + 1) / 2)
        return out
    if matype in (3, 4):
        e1 = _ema_from(x, period, b + period - 1)
        e2 = _ema_series(e1, period)
        if matype == 3:
            return 2.0 * e1 - e2
        return 3.0 * e1 - 3.0 * e2 + _ema_series(e2, period)
    if matype == 5:
        return _trima(x, b, period)
    if matype == 6:
        return _kama(x, b, period)
    if matype == 8:
        return _t3(x, b, period, vfactor)
    raise ValueError(f"matype {matype!r} is not implemented")
