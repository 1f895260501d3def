"""fastpar's indicators, held against TA-Lib and against fastpar.reference.

Three comparisons per kernel, on the same inputs:
  test_<kernel>_matches_talib            fastpar vs TA-Lib
  test_<kernel>_matches_reference        fastpar vs fastpar.reference
  test_<kernel>_reference_matches_talib  the yardstick itself vs TA-Lib
then input handling and errors, each parametrized by kernel.

Agreement means identical NaN positions and a max abs difference within
1e-9, or within 1e-12 of the price level when that is larger (outputs in
price units at levels above 1000). At price level 1e5 TA-Lib's own running
sums drift from the exact values (WMA, STDDEV, BBANDS: up to ~1e-8 over 10k
bars, checked against exact rational arithmetic), so an absolute 1e-9 there
is out of reach for any implementation that does not repeat TA-Lib's
rounding step by step. RSI and STOCH, in 0..100, are always held to 1e-9.

TA-Lib has no wheel for free-threaded CPython: only the tests that compare
with it skip when it is missing.
"""

import functools
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
import pytest

import fastpar
from fastpar import reference
from fastpar.synthetic import random_walk_ohlc

TALIB_MISSING = "TA-Lib is not installed (no wheel for free-threaded CPython)"


def _talib():
    return pytest.importorskip("talib", reason=TALIB_MISSING)


def _pandas():
    return pytest.importorskip("pandas", reason="pandas is not installed")


# --------------------------------------------------------------------------
# The kernels: how to call each one, with which parameters, and its TA-Lib twin.


@dataclass(frozen=True)
class Spec:
    func: str  # name in fastpar and in fastpar.reference
    bars: bool  # takes (high, low, close) rather than one series
    params: tuple  # parameter tuples held against the reference
    talib_params: tuple  # parameter tuples held against TA-Lib
    talib: Optional[Callable]  # (talib, inputs, params) -> output or tuple of outputs
    lookback: Callable  # params -> number of leading NaNs on a clean input
    defaults: tuple  # parameters for the input-handling tests
    scale_free: bool = False  # outputs in 0..100 whatever the price level


def _p_minus_1(p):
    return p[0] - 1


PERIODS = ((1,), (2,), (3,), (14,), (50,))

SPECS = {
    "sma": Spec(
        func="sma", bars=False, params=PERIODS, talib_params=PERIODS,
        talib=lambda t, i, p: t.SMA(*i, p[0]),
        lookback=_p_minus_1, defaults=(14,)),
    "ema": Spec(
        func="ema", bars=False, params=PERIODS, talib_params=PERIODS,
        talib=lambda t, i, p: t.EMA(*i, p[0]),
        lookback=_p_minus_1, defaults=(14,)),
    "wma": Spec(
        func="wma", bars=False, params=PERIODS, talib_params=PERIODS,
        talib=lambda t, i, p: t.WMA(*i, p[0]),
        lookback=_p_minus_1, defaults=(14,)),
    "rsi": Spec(  # TA-Lib's RSI takes periods from 2
        func="rsi", bars=False,
        params=((1,), (2,), (14,), (30, "wilder")),
        talib_params=((2,), (3,), (14,), (30, "wilder")),
        talib=lambda t, i, p: t.RSI(*i, p[0]),
        lookback=lambda p: p[0], defaults=(14,), scale_free=True),
    "rsi_simple": Spec(
        func="rsi", bars=False,
        params=((1, "simple"), (2, "simple"), (14, "simple"), (30, "simple")),
        talib_params=(), talib=None,
        lookback=lambda p: p[0], defaults=(14, "simple"), scale_free=True),
    "stddev": Spec(  # TA-Lib's STDDEV takes periods from 2
        func="stddev", bars=False,
        params=((1,), (2,), (5,), (20, 2.5), (50, 1.0)),
        talib_params=((2,), (5,), (20, 2.5), (50, 1.0)),
        talib=lambda t, i, p: t.STDDEV(*i, p[0], *p[1:]),
        lookback=_p_minus_1, defaults=(20, 1.5)),
    "bbands": Spec(
        func="bbands", bars=False,
        params=((1,), (2,), (20,), (20, 1.0, 1.0), (14, 2.5, 1.5)),
        talib_params=((2,), (20,), (20, 1.0, 1.0), (14, 2.5, 1.5)),
        talib=lambda t, i, p: t.BBANDS(*i, p[0], *(p[1:] or (2.0, 2.0)), matype=0),
        lookback=_p_minus_1, defaults=(20,)),
    "envelope": Spec(
        func="envelope", bars=False,
        params=((1,), (2,), (20,), (14, 1.5)),
        talib_params=(), talib=None,
        lookback=_p_minus_1, defaults=(20, 0.02)),
    "macd": Spec(
        func="macd", bars=False,
        params=((12, 26, 9), (1, 2, 1), (2, 3, 1), (5, 35, 5), (3, 10, 16)),
        talib_params=((12, 26, 9), (2, 3, 1), (5, 35, 5), (3, 10, 16)),
        talib=lambda t, i, p: t.MACD(*i, *p),
        lookback=lambda p: p[1] - 1 + p[2] - 1, defaults=(12, 26, 9)),
    "atr": Spec(
        func="atr", bars=True,
        params=((1,), (2,), (14,), (30,)),
        talib_params=((1,), (2,), (14,), (30,)),
        talib=lambda t, i, p: t.ATR(*i, p[0]),
        lookback=lambda p: p[0], defaults=(14,)),
    "stoch": Spec(
        func="stoch", bars=True,
        params=((5, 3, 3), (14, 3, 3), (1, 1, 1), (9, 1, 4)),
        talib_params=((5, 3, 3), (14, 3, 3), (1, 1, 1), (9, 1, 4)),
        talib=lambda t, i, p: t.STOCH(*i, fastk_period=p[0], slowk_period=p[1], slowk_matype=0,
                                      slowd_period=p[2], slowd_matype=0),
        lookback=lambda p: p[0] - 1 + p[1] - 1 + p[2] - 1, defaults=(5, 3, 3), scale_free=True),
}
KERNELS = list(SPECS)


def _outputs(result):
    return result if isinstance(result, tuple) else (result,)


def _run(module, kernel, inputs, params, **kwargs):
    return _outputs(getattr(module, SPECS[kernel].func)(*inputs, *params, **kwargs))


# --------------------------------------------------------------------------
# Inputs: seeded random walks with exactly flat stretches, and a few shapes.


def _flat_stretches(n):
    """One stretch shorter than most periods, one longer than all of them."""
    return ((n // 5, max(2, n // 40)), (n // 2, max(2, n // 8)))


@functools.lru_cache(maxsize=None)
def _make(shape, n, level, seed):
    """(high, low, close), read-only; `close` doubles as the single series."""
    if shape == "walk":
        bars = random_walk_ohlc(1, n, seed=seed, start=level, vol=0.002)
        high, low, close = (bars[k][0].copy() for k in ("high", "low", "close"))
        for start, length in _flat_stretches(n):
            for a in (high, low, close):
                a[start : start + length] = close[start]
    elif shape == "constant":
        close = np.full(n, level)
    elif shape == "step":
        close = np.where(np.arange(n) < n // 2, level, 1.25 * level)
    elif shape == "ramp":
        close = level * np.linspace(1.0, 2.0, n)
    elif shape == "zigzag":
        close = level * (1.0 + 0.01 * (np.arange(n) % 2))
    else:
        raise AssertionError(shape)
    if shape != "walk":
        high, low = close.copy(), close.copy()
    for a in (high, low, close):
        a.setflags(write=False)
    return high, low, close


@dataclass(frozen=True)
class Case:
    shape: str
    n: int
    level: float
    lead: int = 0  # leading NaNs (the bars get lead, lead + 2, lead + 1)

    def __str__(self):
        return f"{self.shape}-n{self.n}-{self.level:g}" + (f"-nan{self.lead}" if self.lead else "")

    def bars(self):
        high, low, close = (a.copy() for a in _make(self.shape, self.n, self.level, self.n))
        if self.lead:
            high[: self.lead] = np.nan
            low[: self.lead + 2] = np.nan
            close[: self.lead + 1] = np.nan
        return high, low, close

    def series(self):
        x = _make(self.shape, self.n, self.level, self.n)[2].copy()
        x[: self.lead] = np.nan
        return x

    def inputs(self, kernel):
        return self.bars() if SPECS[kernel].bars else (self.series(),)


LENGTHS = (1, 2, 5, 30, 1000, 10000)
LEVELS = (1e-3, 100.0, 1e5)
CASES = (
    [Case("walk", n, level) for n in LENGTHS for level in LEVELS]
    + [Case("walk", n, level, lead=7) for n in (5, 30, 1000) for level in LEVELS]
    + [Case(shape, 60, level) for shape in ("constant", "step", "ramp", "zigzag") for level in (1e-3, 100.0)]
    + [Case("step", 60, 100.0, lead=3)]
)


@functools.lru_cache(maxsize=None)
def _reference(kernel, case, params):
    outputs = _run(reference, kernel, case.inputs(kernel), params)
    for a in outputs:
        a.setflags(write=False)
    return outputs


def _tolerance(inputs, kernel=None):
    if kernel is not None and SPECS[kernel].scale_free:
        return 1e-9
    finite = np.concatenate([np.asarray(a, dtype=np.float64).ravel() for a in inputs])
    finite = finite[np.isfinite(finite)]
    level = float(np.max(np.abs(finite))) if finite.size else 0.0
    return max(1e-9, 1e-12 * level)


def assert_same(actual, expected, tol):
    """Same number of outputs, float64, same NaN positions, max abs diff <= tol."""
    actual, expected = _outputs(actual), _outputs(expected)
    assert len(actual) == len(expected)
    for k, (a, e) in enumerate(zip(actual, expected)):
        assert isinstance(a, np.ndarray) and a.dtype == np.float64, f"output {k}: {type(a)}"
        e = np.asarray(e, dtype=np.float64)
        assert a.shape == e.shape, f"output {k}: shape {a.shape} != {e.shape}"
        nan_a, nan_e = np.isnan(a), np.isnan(e)
        wrong = np.flatnonzero(nan_a != nan_e)
        assert wrong.size == 0, (
            f"output {k}: NaN positions differ ({nan_a.sum()} vs {nan_e.sum()} NaNs), first at "
            f"index {wrong[0]}: got {a.flat[wrong[0]]!r}, expected {e.flat[wrong[0]]!r}")
        if nan_e.all():
            continue
        diff = np.where(nan_e, 0.0, np.abs(a - e))
        i = int(np.argmax(diff))
        assert diff.flat[i] <= tol, (
            f"output {k}: max abs diff {diff.flat[i]:.3g} > {tol:.3g} at index {i}: "
            f"got {a.flat[i]!r}, expected {e.flat[i]!r}")


def _check_talib(kernel, case, params):
    talib = _talib()
    inputs = case.inputs(kernel)
    kept = [a.copy() for a in inputs]
    got = _run(fastpar, kernel, inputs, params)
    for a, b in zip(inputs, kept):
        np.testing.assert_array_equal(a, b)  # inputs are never modified
    assert_same(got, SPECS[kernel].talib(talib, inputs, params), _tolerance(inputs, kernel))


def _check_reference(kernel, case, params):
    inputs = case.inputs(kernel)
    assert_same(_run(fastpar, kernel, inputs, params), _reference(kernel, case, params),
                _tolerance(inputs, kernel))


def _check_reference_vs_talib(kernel, case, params):
    talib = _talib()
    inputs = case.inputs(kernel)
    assert_same(_reference(kernel, case, params), SPECS[kernel].talib(talib, inputs, params),
                _tolerance(inputs, kernel))


def _ids(value):
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return str(value)


def over(kernel, against="reference"):
    """Parametrize a test over every case and the kernel's parameter sets."""
    spec = SPECS[kernel]
    params = spec.talib_params if against == "talib" else spec.params

    def decorate(test):
        test = pytest.mark.parametrize("params", params, ids=_ids)(test)
        return pytest.mark.parametrize("case", CASES, ids=str)(test)

    return decorate


# --------------------------------------------------------------------------
# Per kernel: fastpar vs TA-Lib, fastpar vs reference, reference vs TA-Lib.


@over("sma", "talib")
def test_sma_matches_talib(case, params):
    _check_talib("sma", case, params)


@over("sma")
def test_sma_matches_reference(case, params):
    _check_reference("sma", case, params)


@over("sma", "talib")
def test_sma_reference_matches_talib(case, params):
    _check_reference_vs_talib("sma", case, params)


@over("ema", "talib")
def test_ema_matches_talib(case, params):
    _check_talib("ema", case, params)


@over("ema")
def test_ema_matches_reference(case, params):
    _check_reference("ema", case, params)


@over("ema", "talib")
def test_ema_reference_matches_talib(case, params):
    _check_reference_vs_talib("ema", case, params)


@over("wma", "talib")
def test_wma_matches_talib(case, params):
    _check_talib("wma", case, params)


@over("wma")
def test_wma_matches_reference(case, params):
    _check_reference("wma", case, params)


@over("wma", "talib")
def test_wma_reference_matches_talib(case, params):
    _check_reference_vs_talib("wma", case, params)


@over("rsi", "talib")
def test_rsi_matches_talib(case, params):
    _check_talib("rsi", case, params)


@over("rsi")
def test_rsi_matches_reference(case, params):
    _check_reference("rsi", case, params)


@over("rsi", "talib")
def test_rsi_reference_matches_talib(case, params):
    _check_reference_vs_talib("rsi", case, params)


@over("rsi_simple")
def test_rsi_simple_matches_reference(case, params):
    _check_reference("rsi_simple", case, params)


@pytest.mark.parametrize("period", [1, 2, 14])
def test_rsi_simple_is_100_without_losses_and_0_without_gains(period):
    up = 100.0 + np.cumsum(np.random.default_rng(period).uniform(0.01, 1.0, 200))
    flat = np.full(200, 100.0)
    for x, value in ((up, 100.0), (flat, 100.0), (up[::-1].copy(), 0.0)):
        out = fastpar.rsi(x, period, "simple")
        assert np.isnan(out[:period]).all()
        assert (out[period:] == value).all(), np.unique(out[period:])


def test_rsi_simple_window_is_the_last_period_deltas():
    # A loss leaves the window after `period` deltas: from then on the value is exactly 100.
    period = 5
    x = np.r_[10.0, 9.0, np.arange(10.0, 30.0)]
    out = fastpar.rsi(x, period, method="simple")
    assert out[period] < 100.0  # its window holds the one loss, x[1] - x[0]
    assert (out[period + 1 :] == 100.0).all()


@over("stddev", "talib")
def test_stddev_matches_talib(case, params):
    _check_talib("stddev", case, params)


@over("stddev")
def test_stddev_matches_reference(case, params):
    _check_reference("stddev", case, params)


@over("stddev", "talib")
def test_stddev_reference_matches_talib(case, params):
    _check_reference_vs_talib("stddev", case, params)


@pytest.mark.parametrize("level", LEVELS)
def test_stddev_is_zero_on_flat_windows(level):
    # TA-Lib gives exactly 0 there; a raw-value running-sum variance leaves noise.
    x = np.r_[level * np.linspace(1.0, 1.1, 30), np.full(40, level * 1.1)]
    out = fastpar.stddev(x, 10)
    assert np.abs(out[38:]).max() <= _tolerance([x]), out[38:]
    assert (out[9:29] > 0.0).all()


@pytest.mark.parametrize("period", [10, 49, 103])
@pytest.mark.parametrize("level", [0.1, 0.7, 3.3, 100.3, 12345.67])
def test_flat_windows_have_a_deviation_of_exactly_zero(period, level):
    """As TA-Lib's: exactly 0, also where the window's mean rounds away from
    its value and (1/p) * p is not 1 (p = 49, 103), so that the variance
    summed afresh is a rounding residue that only TA-Lib's clamp removes."""
    talib = _talib()
    x = np.r_[np.linspace(0.9 * level, 1.1 * level, 2 * period), np.full(2 * period, level)]
    out = fastpar.stddev(x, period)
    assert (out[3 * period - 1:] == 0.0).all()
    assert_same(out, talib.STDDEV(x, period), 0.0)
    upper, middle, lower = fastpar.bbands(x, period, 2.0, 2.0)
    assert (upper[3 * period - 1:] == middle[3 * period - 1:]).all()
    assert (lower[3 * period - 1:] == middle[3 * period - 1:]).all()


@over("bbands", "talib")
def test_bbands_matches_talib(case, params):
    _check_talib("bbands", case, params)


@over("bbands")
def test_bbands_matches_reference(case, params):
    _check_reference("bbands", case, params)


@over("bbands", "talib")
def test_bbands_reference_matches_talib(case, params):
    _check_reference_vs_talib("bbands", case, params)


def test_bbands_middle_is_sma_and_bands_are_nbdev_stddevs():
    x = Case("walk", 1000, 100.0).series()
    upper, middle, lower = fastpar.bbands(x, 20, 2.5, 1.5)
    std = fastpar.stddev(x, 20)
    assert_same(middle, fastpar.sma(x, 20), 1e-9)
    assert_same((upper, lower), (middle + 2.5 * std, middle - 1.5 * std), 1e-9)


@over("envelope")
def test_envelope_matches_reference(case, params):
    _check_reference("envelope", case, params)


def _envelope_loop(x, period, deviation):
    """The CORE/envelope worker's arithmetic, window by window."""
    first = int(np.argmax(~np.isnan(x))) if (~np.isnan(x)).any() else len(x)
    out = np.full((3, len(x)), np.nan)
    for i in range(first + period - 1, len(x)):
        window = x[i - period + 1 : i + 1]
        middle, std = np.mean(window), np.std(window)
        out[:, i] = middle + std * deviation, middle, middle - std * deviation
    return tuple(out)


@pytest.mark.parametrize("period, deviation", [(1, 0.02), (2, 0.02), (20, 0.02), (14, 1.5)])
@pytest.mark.parametrize("case", [c for c in CASES if c.n <= 1000], ids=str)
def test_envelope_matches_window_loop(case, period, deviation):
    x = case.series()
    expected = _envelope_loop(x, period, deviation)
    assert_same(fastpar.envelope(x, period, deviation), expected, _tolerance([x]))
    assert_same(reference.envelope(x, period, deviation), expected, _tolerance([x]))


def test_envelope_flat_window_has_zero_width():
    x = np.r_[np.linspace(1.1, 1.2, 30), np.full(30, 1.2)]
    upper, middle, lower = fastpar.envelope(x, 20, 0.5)
    assert (upper[49:] == middle[49:]).all() and (lower[49:] == middle[49:]).all()


@over("macd", "talib")
def test_macd_matches_talib(case, params):
    _check_talib("macd", case, params)


@over("macd")
def test_macd_matches_reference(case, params):
    _check_reference("macd", case, params)


@over("macd", "talib")
def test_macd_reference_matches_talib(case, params):
    _check_reference_vs_talib("macd", case, params)


def test_macd_hist_is_macd_minus_signal():
    x = Case("walk", 1000, 100.0).series()
    line, signal, hist = fastpar.macd(x)
    assert_same(hist, line - signal, 1e-12)


@over("atr", "talib")
def test_atr_matches_talib(case, params):
    _check_talib("atr", case, params)


@over("atr")
def test_atr_matches_reference(case, params):
    _check_reference("atr", case, params)


@over("atr", "talib")
def test_atr_reference_matches_talib(case, params):
    _check_reference_vs_talib("atr", case, params)


@over("stoch", "talib")
def test_stoch_matches_talib(case, params):
    _check_talib("stoch", case, params)


@over("stoch")
def test_stoch_matches_reference(case, params):
    _check_reference("stoch", case, params)


@over("stoch", "talib")
def test_stoch_reference_matches_talib(case, params):
    _check_reference_vs_talib("stoch", case, params)


def test_stoch_is_zero_when_the_range_is_zero():
    h = l = c = np.full(20, 3.0)
    slowk, slowd = fastpar.stoch(h, l, c, 5, 3, 3)
    assert (slowk[8:] == 0.0).all() and (slowd[8:] == 0.0).all()


# --------------------------------------------------------------------------
# Lookbacks, short and all-NaN inputs (every kernel).


def _series_for(kernel, n, lead=0, seed=0):
    """Inputs of length n for `kernel`, with `lead` leading NaNs in every input."""
    bars = random_walk_ohlc(1, n, seed=seed)
    high, low, close = (bars[k][0].copy() for k in ("high", "low", "close"))
    if not SPECS[kernel].bars:
        close[:lead] = np.nan
        return (close,)
    for a in (high, low, close):
        a[:lead] = np.nan
    return high, low, close


@pytest.mark.parametrize("lead", [0, 3])
@pytest.mark.parametrize("kernel", KERNELS)
def test_lookback_prefix_is_nan(kernel, lead):
    spec = SPECS[kernel]
    for params in spec.params:
        lookback = spec.lookback(params)
        for n in (lead + lookback, lead + lookback + 1, lead + lookback + 5):
            if n == 0:
                continue
            for out in _run(fastpar, kernel, _series_for(kernel, n, lead), params):
                assert out.shape == (n,)
                assert np.isnan(out[: lead + lookback]).all(), (params, n)
                assert not np.isnan(out[lead + lookback :]).any(), (params, n)


@pytest.mark.parametrize("kernel", KERNELS)
def test_short_input_is_all_nan(kernel):
    spec = SPECS[kernel]
    lookback = spec.lookback(spec.defaults)
    for n in (1, 2, lookback):
        for out in _run(fastpar, kernel, _series_for(kernel, n), spec.defaults):
            assert out.dtype == np.float64 and out.shape == (n,)
            assert np.isnan(out).all()


@pytest.mark.parametrize("kernel", KERNELS)
def test_all_nan_input_is_all_nan(kernel):
    spec = SPECS[kernel]
    for n in (1, 50):
        for out in _run(fastpar, kernel, _series_for(kernel, n, lead=n), spec.defaults):
            assert out.shape == (n,) and np.isnan(out).all()


@pytest.mark.parametrize("kernel", KERNELS)
def test_period_at_the_maximum_is_accepted(kernel):
    spec = SPECS[kernel]
    params = (100000,) + spec.defaults[1:]
    if kernel == "macd":
        params = (12, 100000, 9)
    for out in _run(fastpar, kernel, _series_for(kernel, 30), params):
        assert np.isnan(out).all()


# --------------------------------------------------------------------------
# Input handling (every kernel).


def _inputs_for(kernel, n=300, seed=0):
    return _series_for(kernel, n, lead=4, seed=seed)


def _expected(kernel, inputs, params):
    return _run(fastpar, kernel, [np.asarray(a, dtype=np.float64) for a in inputs], params)


@pytest.mark.parametrize("kernel", KERNELS)
def test_lists_are_accepted(kernel):
    spec = SPECS[kernel]
    inputs = _inputs_for(kernel)
    got = _run(fastpar, kernel, [a.tolist() for a in inputs], spec.defaults)
    assert_same(got, _expected(kernel, inputs, spec.defaults), 0.0)


@pytest.mark.parametrize("kernel", KERNELS)
def test_float32_is_converted(kernel):
    spec = SPECS[kernel]
    inputs = [a.astype(np.float32) for a in _inputs_for(kernel)]
    got = _run(fastpar, kernel, inputs, spec.defaults)
    assert_same(got, _expected(kernel, inputs, spec.defaults), 0.0)


@pytest.mark.parametrize("dtype", [np.int64, np.int32])
@pytest.mark.parametrize("kernel", KERNELS)
def test_integers_are_converted(kernel, dtype):
    spec = SPECS[kernel]
    inputs = [np.round(a[4:] * 100).astype(dtype) for a in _inputs_for(kernel)]
    got = _run(fastpar, kernel, inputs, spec.defaults)
    assert_same(got, _expected(kernel, inputs, spec.defaults), 0.0)
    assert_same(got, _run(reference, kernel, inputs, spec.defaults), _tolerance(inputs, kernel))


@pytest.mark.parametrize("kernel", KERNELS)
def test_non_contiguous_views(kernel):
    spec = SPECS[kernel]
    views = [a[::2] for a in _inputs_for(kernel, n=600)]
    assert not views[0].flags.c_contiguous
    got = _run(fastpar, kernel, views, spec.defaults)
    assert_same(got, _expected(kernel, [np.ascontiguousarray(v) for v in views], spec.defaults), 0.0)


@pytest.mark.parametrize("kernel", KERNELS)
def test_read_only_inputs(kernel):
    spec = SPECS[kernel]
    inputs = _inputs_for(kernel)
    expected = _expected(kernel, inputs, spec.defaults)
    for a in inputs:
        a.setflags(write=False)
    assert_same(_run(fastpar, kernel, inputs, spec.defaults), expected, 0.0)


@pytest.mark.parametrize("kernel", ["rsi", "bbands", "envelope", "macd", "atr", "stoch"])
def test_default_parameters_match_the_reference(kernel):
    inputs = _inputs_for(kernel, n=500)
    assert_same(_run(fastpar, kernel, inputs, ()), _run(reference, kernel, inputs, ()), 1e-9)


@pytest.mark.parametrize("kernel", KERNELS)
def test_pandas_series_in_series_out(kernel):
    pd = _pandas()
    spec = SPECS[kernel]
    arrays = _inputs_for(kernel)
    index = pd.date_range("2025-10-07", periods=len(arrays[0]), freq="min")
    series = [pd.Series(a, index=index) for a in arrays]
    got = getattr(fastpar, spec.func)(*series, *spec.defaults)
    outputs = _outputs(got)
    assert len(outputs) == len(_expected(kernel, arrays, spec.defaults))
    for out in outputs:
        assert isinstance(out, pd.Series)
        assert out.index.equals(index)
    assert_same(tuple(o.to_numpy(dtype=np.float64) for o in outputs),
                _expected(kernel, arrays, spec.defaults), 0.0)
    for s, a in zip(series, arrays):
        np.testing.assert_array_equal(s.to_numpy(), a)


@pytest.mark.parametrize("kernel", KERNELS)
def test_pandas_series_keeps_a_non_default_index(kernel):
    pd = _pandas()
    spec = SPECS[kernel]
    arrays = _inputs_for(kernel, n=60)
    index = pd.Index(np.arange(60)[::-1] * 10)
    outputs = _outputs(getattr(fastpar, spec.func)(*[pd.Series(a, index=index) for a in arrays],
                                                   *spec.defaults))
    for out in outputs:
        assert isinstance(out, pd.Series) and out.index.equals(index)


def _rows(kernel, n=400):
    """2-D inputs: one series per row, with different leading NaNs; one row all NaN."""
    per_row = [_series_for(kernel, n, lead=lead, seed=seed)
               for seed, lead in enumerate((0, 3, 17, 0, n))]
    return [np.vstack([row[k] for row in per_row]) for k in range(len(per_row[0]))]


@pytest.mark.parametrize("threads", [None, 1, 2])
@pytest.mark.parametrize("kernel", KERNELS)
def test_2d_rows_match_1d(kernel, threads):
    spec = SPECS[kernel]
    inputs = _rows(kernel)
    kept = [a.copy() for a in inputs]
    got = _run(fastpar, kernel, inputs, spec.defaults, threads=threads)
    for r in range(inputs[0].shape[0]):
        row = _run(fastpar, kernel, [a[r] for a in inputs], spec.defaults)
        assert_same(tuple(g[r] for g in got), row, 0.0)
        assert_same(row, _run(reference, kernel, [a[r] for a in inputs], spec.defaults), 1e-9)
    for a, b in zip(inputs, kept):
        np.testing.assert_array_equal(a, b)
    for g in got:
        assert g.shape == inputs[0].shape and g.dtype == np.float64


@pytest.mark.parametrize("kernel", KERNELS)
def test_2d_fortran_order_and_strided_rows(kernel):
    spec = SPECS[kernel]
    inputs = _rows(kernel)
    expected = _run(fastpar, kernel, inputs, spec.defaults)
    fortran = [np.asfortranarray(a) for a in inputs]
    assert_same(_run(fastpar, kernel, fortran, spec.defaults, threads=2), expected, 0.0)
    wide = [np.repeat(a, 2, axis=1)[:, ::2] for a in inputs]
    assert_same(_run(fastpar, kernel, wide, spec.defaults, threads=2), expected, 0.0)


@pytest.mark.parametrize("threads", [None, 1, 2, 4])
@pytest.mark.parametrize("kernel", KERNELS)
def test_threads_do_not_change_1d_results(kernel, threads):
    spec = SPECS[kernel]
    inputs = _inputs_for(kernel, n=2000)
    assert_same(_run(fastpar, kernel, inputs, spec.defaults, threads=threads),
                _run(fastpar, kernel, inputs, spec.defaults), 0.0)


@pytest.mark.parametrize("kernel", KERNELS)
def test_inputs_are_never_modified(kernel):
    spec = SPECS[kernel]
    for inputs in (_inputs_for(kernel), _rows(kernel)):
        kept = [a.copy() for a in inputs]
        _run(fastpar, kernel, inputs, spec.defaults, threads=2)
        for a, b in zip(inputs, kept):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kernel", KERNELS)
def test_outputs_are_new_arrays(kernel):
    spec = SPECS[kernel]
    inputs = _inputs_for(kernel)
    outputs = _run(fastpar, kernel, inputs, spec.defaults)
    for out in outputs:
        assert out.flags.writeable
        for a in inputs:
            assert not np.shares_memory(out, a)
    for i, a in enumerate(outputs):
        for b in outputs[i + 1 :]:
            assert not np.shares_memory(a, b)


# --------------------------------------------------------------------------
# Errors (every kernel).


def _with_inputs(kernel, make):
    """Every input of `kernel` replaced by make(valid_input)."""
    return [make(a) for a in _inputs_for(kernel, n=50)]


BAD_DTYPES = {
    "str": lambda a: np.char.mod("%.3f", a),
    "object": lambda a: a.astype(object),
    "complex": lambda a: a.astype(np.complex128),
    "bool": lambda a: a > 100.0,
}


@pytest.mark.parametrize("bad", list(BAD_DTYPES))
@pytest.mark.parametrize("kernel", KERNELS)
def test_non_numeric_dtype_is_a_type_error(kernel, bad):
    inputs = _with_inputs(kernel, BAD_DTYPES[bad])
    with pytest.raises(TypeError, match=r"(?i)dtype|type|numeric|float|bool|complex|object|str"):
        _run(fastpar, kernel, inputs, SPECS[kernel].defaults)


@pytest.mark.parametrize("kernel", KERNELS)
def test_list_of_strings_is_a_type_error(kernel):
    inputs = _with_inputs(kernel, lambda a: [str(v) for v in a])
    with pytest.raises(TypeError):
        _run(fastpar, kernel, inputs, SPECS[kernel].defaults)


@pytest.mark.parametrize("kernel", KERNELS)
def test_dataframe_is_a_type_error(kernel):
    pd = _pandas()
    inputs = _with_inputs(kernel, lambda a: pd.DataFrame({"a": a, "b": a}))
    with pytest.raises(TypeError, match=r"(?i)dataframe|series|type"):
        _run(fastpar, kernel, inputs, SPECS[kernel].defaults)


BAD_SHAPES = {
    "0-d": lambda a: np.array(a[10]),
    "scalar": lambda a: float(a[10]),
    "3-d": lambda a: a[:48].reshape(2, 4, 6),
}


@pytest.mark.parametrize("bad", list(BAD_SHAPES))
@pytest.mark.parametrize("kernel", KERNELS)
def test_wrong_number_of_dimensions_is_a_value_error(kernel, bad):
    inputs = _with_inputs(kernel, BAD_SHAPES[bad])
    with pytest.raises(ValueError, match=r"(?i)dim|1-d|2-d|shape|scalar"):
        _run(fastpar, kernel, inputs, SPECS[kernel].defaults)


@pytest.mark.parametrize("empty", [np.empty(0), []], ids=["array", "list"])
@pytest.mark.parametrize("kernel", KERNELS)
def test_empty_input_is_a_value_error(kernel, empty):
    inputs = _with_inputs(kernel, lambda a: empty)
    with pytest.raises(ValueError, match=r"(?i)empty|length|size|zero"):
        _run(fastpar, kernel, inputs, SPECS[kernel].defaults)


def _period_positions(kernel):
    """Indices of the integer (period) parameters in the kernel's defaults."""
    return [i for i, v in enumerate(SPECS[kernel].defaults) if isinstance(v, int)]


def _replace(params, position, value):
    return params[:position] + (value,) + params[position + 1 :]


def _with_period(kernel, position, value):
    params = _replace(SPECS[kernel].defaults, position, value)
    if kernel == "macd" and position == 0 and value > 26:
        params = (value, value + 1, 9)  # keep fast < slow: only the range is wrong
    return params


@pytest.mark.parametrize("value", [0, -1, -14, 100001])
@pytest.mark.parametrize("kernel", KERNELS)
def test_period_out_of_range_is_a_value_error(kernel, value):
    inputs = _inputs_for(kernel)
    for position in _period_positions(kernel):
        with pytest.raises(ValueError, match=r"(?i)period|fast|slow|signal|range"):
            _run(fastpar, kernel, inputs, _with_period(kernel, position, value))


@pytest.mark.parametrize("value", [2**31, -(2**31) - 1, 2**63, 10**30])
@pytest.mark.parametrize("kernel", KERNELS)
def test_huge_period_is_rejected(kernel, value):
    inputs = _inputs_for(kernel)
    for position in _period_positions(kernel):
        with pytest.raises(ValueError, match=rf"must be in \[1, 100000\], got {value}"):
            _run(fastpar, kernel, inputs, _with_period(kernel, position, value))


@pytest.mark.parametrize("value", [14.0, 14.5, "14", True, np.True_],
                         ids=["float", "fraction", "str", "bool", "numpy-bool"])
@pytest.mark.parametrize("kernel", KERNELS)
def test_non_integer_period_is_a_type_error(kernel, value):
    """A bool is no period either: True used to pass as 1."""
    inputs = _inputs_for(kernel)
    for position in _period_positions(kernel):
        with pytest.raises(TypeError, match=r"must be an integer, got (float|str|bool)"):
            _run(fastpar, kernel, inputs, _replace(SPECS[kernel].defaults, position, value))


def test_bool_threads_is_a_type_error(bars):
    with pytest.raises(TypeError, match="threads must be None or an integer, got bool"):
        fastpar.sma(bars["close"], 10, threads=True)


def test_masked_arrays_are_refused_when_something_is_masked():
    """The kernels cannot read a mask: a masked array used to be computed
    with the values under its mask. Without masked values it is its data."""
    x = np.ma.masked_array(np.linspace(1.0, 2.0, 50), mask=False)
    np.testing.assert_array_equal(fastpar.sma(x, 5), fastpar.sma(x.data, 5))
    x[[3, 30]] = np.ma.masked
    with pytest.raises(ValueError, match=r"x is a masked array with 2 masked value\(s\); "
                                         r"fastpar does not read masks"):
        fastpar.sma(x, 5)
    h = np.ma.masked_array(np.linspace(2.0, 3.0, 50), mask=np.arange(50) == 7)
    with pytest.raises(ValueError, match="high is a masked array with 1 masked"):
        fastpar.atr(h, x.data, x.data, 5)


@pytest.mark.parametrize("kernel", KERNELS)
def test_numpy_integer_period_is_accepted(kernel):
    spec = SPECS[kernel]
    inputs = _inputs_for(kernel)
    params = tuple(np.int64(v) if isinstance(v, int) else v for v in spec.defaults)
    assert_same(_run(fastpar, kernel, inputs, params), _run(fastpar, kernel, inputs, spec.defaults), 0.0)


@pytest.mark.parametrize("fast, slow", [(26, 12), (12, 12), (2, 1)])
def test_macd_fast_not_below_slow_is_a_value_error(fast, slow):
    with pytest.raises(ValueError, match=r"(?i)fast|slow"):
        fastpar.macd(np.linspace(1.0, 2.0, 100), fast, slow, 9)


@pytest.mark.parametrize("kernel", ["atr", "stoch"])
def test_mismatched_bars_are_a_value_error(kernel):
    high, low, close = _inputs_for(kernel)
    rows = _rows(kernel)
    bad_sets = [
        (high, low[:-1], close),
        (high, low, close[1:]),
        (high[:-1], low, close),
        (rows[0], rows[1][:, :-1], rows[2]),
        (rows[0], rows[1][:-1], rows[2]),
        (rows[0], rows[1][0], rows[2]),
        (high, low, rows[2]),
    ]
    for inputs in bad_sets:
        with pytest.raises(ValueError, match=r"(?i)length|shape|same|match|size"):
            _run(fastpar, kernel, inputs, SPECS[kernel].defaults)


NON_FINITE = {
    "nan": lambda a: _put(a, 20, np.nan),
    "inf": lambda a: _put(a, 20, np.inf),
    "-inf": lambda a: _put(a, 20, -np.inf),
    "nan-after-leading-nans": lambda a: _put(_put(a, slice(0, 5), np.nan), 9, np.nan),
    "nan-last": lambda a: _put(a, -1, np.nan),
    "inf-at-first-value": lambda a: _put(a, 4, np.inf),  # inputs have 4 leading NaNs
}


def _put(a, where, value):
    a = np.array(a, dtype=np.float64)
    a[where] = value
    return a


@pytest.mark.parametrize("bad", list(NON_FINITE))
@pytest.mark.parametrize("kernel", KERNELS)
def test_non_finite_after_leading_nans_is_a_value_error(kernel, bad):
    valid = _inputs_for(kernel, n=50)
    for k in range(len(valid)):  # one bad input at a time
        inputs = list(valid)
        inputs[k] = NON_FINITE[bad](valid[k])
        with pytest.raises(ValueError, match=r"(?i)nan|inf|finite"):
            _run(fastpar, kernel, inputs, SPECS[kernel].defaults)


@pytest.mark.parametrize("kernel", KERNELS)
def test_non_finite_in_one_row_of_2d_is_a_value_error(kernel):
    inputs = [a.copy() for a in _rows(kernel)]
    inputs[-1][1, 200] = np.nan
    with pytest.raises(ValueError, match=r"(?i)nan|inf|finite"):
        _run(fastpar, kernel, inputs, SPECS[kernel].defaults, threads=2)


FLOAT_PARAMS = {  # value -> parameter tuples with that value in each float slot
    "stddev": lambda v: [(20, v)],
    "bbands": lambda v: [(20, v, 2.0), (20, 2.0, v)],
    "envelope": lambda v: [(20, v)],
}


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("kernel", list(FLOAT_PARAMS))
def test_non_finite_float_parameter_is_a_value_error(kernel, value):
    inputs = _inputs_for(kernel)
    for params in FLOAT_PARAMS[kernel](value):
        with pytest.raises(ValueError, match=r"(?i)nbdev|deviation|finite|nan|inf"):
            _run(fastpar, kernel, inputs, params)


@pytest.mark.parametrize("method", ["cutler", "", "ema"])
def test_rsi_unknown_method_is_a_value_error(method):
    with pytest.raises(ValueError, match=r"(?i)method|wilder|simple"):
        fastpar.rsi(np.linspace(1.0, 2.0, 50), 14, method)


def test_rsi_method_by_keyword():
    x = _inputs_for("rsi")[0]
    assert_same(fastpar.rsi(x, 14, method="simple"), fastpar.rsi(x, 14, "simple"), 0.0)
    assert_same(fastpar.rsi(x, method="wilder"), fastpar.rsi(x), 0.0)


@pytest.mark.parametrize("threads", [0, -1])
@pytest.mark.parametrize("kernel", KERNELS)
def test_threads_below_one_is_a_value_error(kernel, threads):
    with pytest.raises(ValueError, match=r"(?i)threads"):
        _run(fastpar, kernel, _inputs_for(kernel), SPECS[kernel].defaults, threads=threads)


@pytest.mark.parametrize("kernel", KERNELS)
def test_threads_is_keyword_only(kernel):
    spec = SPECS[kernel]
    # One positional argument past the kernel's own parameters must not be read as `threads`.
    full = {"sma": (14,), "ema": (14,), "wma": (14,), "rsi": (14, "wilder"),
            "rsi_simple": (14, "simple"), "stddev": (14, 1.0), "bbands": (20, 2.0, 2.0),
            "envelope": (20, 0.02), "macd": (12, 26, 9), "atr": (14,), "stoch": (5, 3, 3)}[kernel]
    with pytest.raises(TypeError):
        getattr(fastpar, spec.func)(*_inputs_for(kernel), *full, 2)


def test_results_and_inputs_hold_no_extra_reference():
    """A fresh result is held by its variable alone (sys.getrefcount counts
    its own argument too: 2), and an input keeps its count, after a result
    and after an error: an extra Py_INCREF or a missing Py_DECREF in the
    glue shows here. Fresh arrays, never small cached objects whose counts
    others share."""
    import sys

    x = np.linspace(1.0, 2.0, 300)  # aligned float64: read without a copy
    before = sys.getrefcount(x)
    out = fastpar.sma(x, 5)
    assert sys.getrefcount(out) == 2 and sys.getrefcount(x) == before
    rows = np.tile(x, (3, 1))  # 2-D: a pool job
    out = fastpar.rsi(rows, 5)
    assert sys.getrefcount(out) == 2 and sys.getrefcount(rows) == 2
    upper, middle, lower = fastpar.bbands(x, 5)
    assert sys.getrefcount(upper) == sys.getrefcount(middle) == sys.getrefcount(lower) == 2
    result = fastpar.macd(x, 3, 6, 2)
    assert sys.getrefcount(result) == 2 and [sys.getrefcount(a) for a in result] == [3, 3, 3]
    bad = x.copy()
    bad[100] = np.nan
    for call in (lambda: fastpar.sma(bad, 5), lambda: fastpar.sma(bad, 0),
                 lambda: fastpar.atr(bad, x, x, 5)):
        try:
            call()
        except ValueError:
            pass
        else:
            raise AssertionError("no ValueError")
    assert sys.getrefcount(bad) == 2 and sys.getrefcount(x) == before


@pytest.mark.thread_unsafe  # tracemalloc counts every thread's allocations
def test_converted_inputs_are_freed():
    """A float32 or strided input is converted into a temporary float64
    array: freed after the call, with a result and with an error."""
    import tracemalloc

    x32 = np.linspace(1.0, 2.0, 20_000, dtype=np.float32)
    bad = x32.copy()
    bad[-1] = np.nan
    strided = np.linspace(1.0, 2.0, 40_000)[::2]
    for call in (lambda: fastpar.sma(x32, 5), lambda: fastpar.sma(strided, 5)):
        call()
        tracemalloc.start()
        try:
            start = tracemalloc.get_traced_memory()[0]
            for _ in range(50):
                call()
            grown = tracemalloc.get_traced_memory()[0] - start
        finally:
            tracemalloc.stop()
        assert grown < 160_000  # one leaked copy per call would be 50 x 160 kB
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        for _ in range(50):
            try:
                fastpar.sma(bad, 5)
            except ValueError:
                pass
        grown = tracemalloc.get_traced_memory()[0] - start
    finally:
        tracemalloc.stop()
    assert grown < 160_000
