"""Readable reference versions of TA-Lib's momentum indicators beyond the
first ten, in fastpar's parameter names with TA-Lib's defaults. Conventions
as in ``fastpar.reference.indicators``; sums with ``math.fsum``."""

import math
import sys

import numpy as np

from ._common import _check_period, _mean, _nans, _series, ma
from .indicators import rsi

__all__ = ["stochf", "stochrsi", "plus_dm", "minus_dm", "plus_di", "minus_di", "dx", "adx",
           "adxr", "apo", "ppo", "aroon", "aroonosc", "bop", "cci", "cmo", "mfi", "mom", "roc",
           "rocp", "rocr", "trix", "ultosc", "willr"]


def _fastk(high, low, close, b, period):
    """100 (close - lowest low) / (highest high - lowest low) over the
    window, 0 when the range is within 1e-14 of the extremes' size."""
    fastk = _nans(len(close))
    for i in range(b + period - 1, len(close)):
        hh = np.max(high[i - period + 1 : i + 1])
        ll = np.min(low[i - period + 1 : i + 1])
        diff = hh - ll
        fastk[i] = 100.0 * (close[i] - ll) / diff if abs(diff) > 1e-14 * (abs(hh) + abs(ll)) else 0.0
    return fastk


def stochf(high, low, close, fastk_period=5, fastd_period=3, fastd_matype=0):
    """Fast stochastic: fastk over fastk_period, fastd = its moving average
    (ma, type fastd_matype); both from where fastd starts."""
    _check_period(fastk_period, fastd_period)
    (high, low, close), b = _series(high, low, close)
    fastk = _fastk(high, low, close, b, fastk_period)
    fastd = ma(fastk, fastd_period, fastd_matype)
    fastk[np.isnan(fastd)] = np.nan
    return fastk, fastd


def stochrsi(x, period=14, fastk_period=5, fastd_period=3, fastd_matype=0):
    """The fast stochastic of the RSI (the RSI as high, low and close)."""
    r = rsi(x, period)
    valid = ~np.isnan(r)
    if not valid.any():
        return _nans(len(r)), _nans(len(r))
    return stochf(r, r, r, fastk_period, fastd_period, fastd_matype)


# TA-Lib's DI, DX and ADX take no ratio of subnormal numbers (below the
# least normal double), where long flat stretches decay their sums.
_TINY = sys.float_info.min


def _dm1(high, low, i):
    """The bar's (+DM1, -DM1): up = high - previous high, down = previous low
    - low; -DM1 = down if down > 0 and down > up, else +DM1 = up if up > 0 and
    up > down."""
    up, down = high[i] - high[i - 1], low[i - 1] - low[i]
    if down > 0 and up < down:
        return 0.0, down
    if up > 0 and up > down:
        return up, 0.0
    return 0.0, 0.0


def _tr1(high, low, close, i):
    return max(high[i] - low[i], abs(high[i] - close[i - 1]), abs(low[i] - close[i - 1]))


def _wilder_sums(values, b, period):
    """Wilder's running sum: the plain sum of the first period - 1 values
    (values[b+1 .. b+period-1]), then s - s / period + value."""
    out = _nans(len(values))
    if len(values) - b < period:
        return out
    s = math.fsum(values[b + 1 : b + period])
    out[b + period - 1] = s
    for i in range(b + period, len(values)):
        s = s - s / period + values[i]
        out[i] = s
    return out


def _directional(high, low, close, period):
    """Per bar: the smoothed +DM, -DM and TR (Wilder's sums), and b."""
    (high, low, close), b = _series(high, low, close)
    n = len(high)
    pdm1, mdm1, tr1 = _nans(n), _nans(n), _nans(n)
    for i in range(b + 1, n):
        pdm1[i], mdm1[i] = _dm1(high, low, i)
        tr1[i] = _tr1(high, low, close, i)
    if period == 1:
        return pdm1, mdm1, tr1, b
    return (_wilder_sums(pdm1, b, period), _wilder_sums(mdm1, b, period),
            _wilder_sums(tr1, b, period), b)


def plus_dm(high, low, period=14):
    """+DM: the bar's +DM1 for period 1, else Wilder's sum over the period."""
    _check_period(period)
    pdm, _, _, _ = _directional(high, low, low, period)
    return pdm


def minus_dm(high, low, period=14):
    """-DM: the bar's -DM1 for period 1, else Wilder's sum over the period."""
    _check_period(period)
    _, mdm, _, _ = _directional(high, low, low, period)
    return mdm


def _di(dm, tr, b, period):
    out = _nans(len(dm))
    scale = 100.0 if period > 1 else 1.0  # TA-Lib's period 1 gives the bare ratio
    for i in range(b + period, len(dm)):
        out[i] = 0.0 if abs(tr[i]) < _TINY else scale * dm[i] / tr[i]
    return out


def plus_di(high, low, close, period=14):
    """+DI = 100 +DM / TR (0 when TR is 0), from bar period; for period 1,
    +DM1 / TR1."""
    _check_period(period)
    pdm, _, tr, b = _directional(high, low, close, period)
    return _di(pdm, tr, b, period)


def minus_di(high, low, close, period=14):
    """-DI = 100 -DM / TR (0 when TR is 0), from bar period; for period 1,
    -DM1 / TR1."""
    _check_period(period)
    _, mdm, tr, b = _directional(high, low, close, period)
    return _di(mdm, tr, b, period)


def _dx_values(high, low, close, period):
    """DX per bar from bar period on (NaN where it is undefined: TR or the
    DIs' sum 0), and b."""
    pdm, mdm, tr, b = _directional(high, low, close, period)
    out = _nans(len(tr))
    for i in range(b + period, len(tr)):
        if abs(tr[i]) < _TINY:
            continue
        p, m = 100.0 * pdm[i] / tr[i], 100.0 * mdm[i] / tr[i]
        if abs(p + m) >= 1e-14:  # TA-Lib's absolute test on the DIs' sum
            out[i] = 100.0 * abs(m - p) / (m + p)
    return out, b


def dx(high, low, close, period=14):
    """DX = 100 |-DI - +DI| / (-DI + +DI); where undefined, the previous DX
    (0 at first)."""
    _check_period(period)
    values, b = _dx_values(high, low, close, period)
    out = _nans(len(values))
    last = 0.0
    for i in range(b + period, len(values)):
        last = last if np.isnan(values[i]) else values[i]
        out[i] = last
    return out


def adx(high, low, close, period=14):
    """ADX: the mean of the first period DX values (undefined ones counted
    as 0), then (ADX (period - 1) + DX) / period, an undefined DX leaving
    it unchanged. From bar 2 period - 1."""
    _check_period(period)
    values, b = _dx_values(high, low, close, period)
    out = _nans(len(values))
    first = b + 2 * period - 1
    if first >= len(values):
        return out
    a = math.fsum(np.nan_to_num(values[b + period : first + 1], nan=0.0)) / period
    out[first] = a
    for i in range(first + 1, len(values)):
        if not np.isnan(values[i]):
            a = (a * (period - 1) + values[i]) / period
        out[i] = a
    return out


def adxr(high, low, close, period=14):
    """ADXR = (ADX + the ADX of period - 1 bars before) / 2."""
    a = adx(high, low, close, period)
    out = _nans(len(a))
    out[period - 1 :] = (a[period - 1 :] + a[: len(a) - period + 1]) / 2.0
    return out


def apo(x, fast=12, slow=26, matype=1):
    """Absolute price oscillator: ma(x, fast) - ma(x, slow), each started on
    its own."""
    _check_period(fast, slow)
    return ma(x, fast, matype) - ma(x, slow, matype)


def ppo(x, fast=12, slow=26, matype=1):
    """Percentage price oscillator: 100 (fast - slow) / slow averages, 0 when
    the slow one is within 1e-14 of 0 (TA-Lib's absolute test)."""
    _check_period(fast, slow)
    f, s = ma(x, fast, matype), ma(x, slow, matype)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.isnan(s), np.nan,
                        np.where(np.abs(s) < 1e-14, 0.0, 100.0 * (f - s) / s))


def _aroon_ages(high, low, period):
    """Bars since the highest high and since the lowest low of the last
    period + 1 bars, the latest of equal extremes counting."""
    (high, low), b = _series(high, low)
    n = len(high)
    since_hi, since_lo = _nans(n), _nans(n)
    for i in range(b + period, n):
        hi_window, lo_window = high[i - period : i + 1], low[i - period : i + 1]
        since_hi[i] = period - max(j for j, v in enumerate(hi_window) if v == hi_window.max())
        since_lo[i] = period - max(j for j, v in enumerate(lo_window) if v == lo_window.min())
    return since_hi, since_lo


def aroon(high, low, period=14):
    """(aroon down, aroon up): 100 (period - bars since the lowest low,
    resp. the highest high) / period, over the last period + 1 bars."""
    _check_period(period)
    since_hi, since_lo = _aroon_ages(high, low, period)
    return 100.0 / period * (period - since_lo), 100.0 / period * (period - since_hi)


def aroonosc(high, low, period=14):
    """Aroon up - aroon down."""
    _check_period(period)
    since_hi, since_lo = _aroon_ages(high, low, period)
    return 100.0 / period * (since_lo - since_hi)


def bop(open, high, low, close):  # noqa: A002 - TA-Lib's input name
    """Balance of power: (close - open) / (high - low), 0 for a range of 0."""
    (open_, high, low, close), b = _series(open, high, low, close)
    out = _nans(len(close))
    for i in range(b, len(close)):
        rng = high[i] - low[i]
        out[i] = 0.0 if rng <= 0 else (close[i] - open_[i]) / rng
    return out


def cci(high, low, close, period=14):
    """(tp - mean) / (0.015 mean absolute deviation), tp = (h + l + c) / 3,
    over the last period tp values; 0 when tp is the mean or the deviation 0
    (to 1e-14 of the values' size)."""
    _check_period(period)
    (high, low, close), b = _series(high, low, close)
    tp = (high + low + close) / 3.0
    out = _nans(len(tp))
    for i in range(b + period - 1, len(tp)):
        w = tp[i - period + 1 : i + 1]
        m = _mean(w)
        d = math.fsum(abs(v - m) for v in w) / period
        flat = abs(tp[i] - m) <= 1e-14 * (abs(tp[i]) + abs(m)) or d <= 1e-14 * _mean(np.abs(w))
        out[i] = 0.0 if flat else (tp[i] - m) / (0.015 * d)
    return out


def cmo(x, period=14):
    """Chande momentum oscillator with RSI's Wilder averages of gains and
    losses: 100 (gain - loss) / (gain + loss), 0 when that sum is 0."""
    _check_period(period)
    (x,), b = _series(x)
    out = _nans(len(x))
    d = np.diff(x[b:])
    if len(d) < period:
        return out
    gain = _mean(np.maximum(d[:period], 0.0))
    loss = _mean(np.maximum(-d[:period], 0.0))
    for j in range(period - 1, len(d)):
        if j >= period:
            gain = (gain * (period - 1) + max(d[j], 0.0)) / period
            loss = (loss * (period - 1) + max(-d[j], 0.0)) / period
        s = gain + loss
        out[b + j + 1] = 0.0 if s == 0 else 100.0 * (gain - loss) / s
    return out


def mfi(high, low, close, volume, period=14):
    """Money flow index: with tp = (h + l + c) / 3 and flow = tp * volume,
    positive where tp rose, negative where it fell (a move below 1e-14 is
    none), over the last period bars: 100 positive / (positive + negative),
    0 when there is no flow."""
    _check_period(period)
    (high, low, close, volume), b = _series(high, low, close, volume)
    tp = (high + low + close) / 3.0
    out = _nans(len(tp))
    for i in range(b + period, len(tp)):
        pos, neg = [], []
        for j in range(i - period + 1, i + 1):
            d = tp[j] - tp[j - 1]
            if abs(d) >= 1e-14:
                (pos if d > 0 else neg).append(tp[j] * volume[j])
        total = math.fsum(pos) + math.fsum(neg)
        out[i] = 0.0 if total <= 0 else 100.0 * math.fsum(pos) / total
    return out


def _change(x, period, f):
    _check_period(period)
    (x,), b = _series(x)
    out = _nans(len(x))
    for i in range(b + period, len(x)):
        out[i] = f(x[i], x[i - period])
    return out


def mom(x, period=10):
    """x - x period bars before."""
    return _change(x, period, lambda v, before: v - before)


def roc(x, period=10):
    """(x / before - 1) * 100, 0 when before is 0."""
    return _change(x, period, lambda v, before: (v / before - 1.0) * 100.0 if before else 0.0)


def rocp(x, period=10):
    """(x - before) / before, 0 when before is 0."""
    return _change(x, period, lambda v, before: (v - before) / before if before else 0.0)


def rocr(x, period=10):
    """x / before, 0 when before is 0."""
    return _change(x, period, lambda v, before: v / before if before else 0.0)


def trix(x, period=30):
    """The one-bar rate of change (roc) of the triple EMA, each EMA seeded
    with its own first mean."""
    _check_period(period)
    e = ma(ma(ma(x, period, 1), period, 1), period, 1)
    return roc(e, 1)


def ultosc(high, low, close, period1=7, period2=14, period3=28):
    """Ultimate oscillator: bp = close - min(low, previous close), tr the true
    range; for the three periods taken shortest first, a = sum(bp) / sum(tr)
    (0 for a sum of tr of 0), weighted 4, 2, 1: 100 (4 a1 + 2 a2 + a3) / 7."""
    _check_period(period1, period2, period3)
    (high, low, close), b = _series(high, low, close)
    periods = sorted((period1, period2, period3))
    n = len(close)
    bp, tr = _nans(n), _nans(n)
    for i in range(b + 1, n):
        bp[i] = close[i] - min(low[i], close[i - 1])
        tr[i] = _tr1(high, low, close, i)
    out = _nans(n)
    for i in range(b + periods[2], n):
        total = 0.0
        for weight, p in zip((4.0, 2.0, 1.0), periods):
            s_tr = math.fsum(tr[i - p + 1 : i + 1])
            if s_tr != 0:
                total += weight * math.fsum(bp[i - p + 1 : i + 1]) / s_tr
        out[i] = 100.0 * total / 7.0
    return out


def willr(high, low, close, period=14):
    """Williams' %R: -100 (highest - close) / (highest - lowest) over the
    last period bars, 0 for a zero range."""
    _check_period(period)
    (high, low, close), b = _series(high, low, close)
    out = _nans(len(close))
    for i in range(b + period - 1, len(close)):
        hh = np.max(high[i - period + 1 : i + 1])
        ll = np.min(low[i - period + 1 : i + 1])
        out[i] = 0.0 if hh == ll else -100.0 * (hh - close[i]) / (hh - ll)
    return out
