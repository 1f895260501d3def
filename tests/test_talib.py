"""Every indicator of the table, held against TA-Lib, fastpar.reference and
its own stream.

The tests are derived from the indicator table (fastpar._functions.TABLE):
for each row, parameter sets made from its parameters' defaults and least
values (and every moving-average type of a matype), inputs of every kind
(random walks with flat stretches, constant, a jump, a ramp, a zigzag,
leading NaNs, lengths from 1 to 10,000, price levels from 1e-3 to 1e5):

  test_talib_parity            fastpar.talib.<NAME> vs TA-Lib: the same NaN
                               positions, values within 1e-9 relative
  test_lowercase_is_talib      fastpar.<name> (fastpar's names) vs fastpar.talib
  test_kernel_matches_reference  fastpar.<name> vs fastpar.reference.<name>
  test_stream_matches_batch    fastpar.stream.<NAME>, value by value, vs the
                               batch function at every step

then input handling and errors, each parametrized by row.

TA-Lib has no wheel for free-threaded CPython: only the tests that compare
with it skip when it is missing.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import re
from dataclasses import dataclass

import numpy as np
import pytest

import fastpar
import fastpar.talib as ftalib
from fastpar import reference, stream
from fastpar._functions import TABLE, Indicator
from fastpar.synthetic import random_walk_ohlc

TALIB_MISSING = "TA-Lib is not installed (no wheel for free-threaded CPython)"
ROWS = {ind.name: ind for ind in TABLE}
TA_ROWS = [ind.name for ind in TABLE if ind.ta_name]
IMPLEMENTED_MA = (0, 1, 2, 3, 4, 5, 6, 8, 10)


def _talib():
    return pytest.importorskip("talib", reason=TALIB_MISSING)


# --------------------------------------------------------------------------
# Parameter sets, from the table


def _ta_params(ind: Indicator, **changes) -> dict:
    """TA-Lib-named parameters: the defaults, with `changes` (fastpar names)."""
    out = {}
    for p in ind.params:
        out[p.ta_name] = changes.get(p.name, p.default_value)
    return out


# Periods fastpar accepts below TA-Lib's least value (1 where TA-Lib needs
# 2), with the meaning docs/indicators.md gives them: TA-Lib has nothing
# to compare them with.
BELOW_TALIB = {("rsi", "period"), ("stddev", "period"), ("bbands", "period"), ("macd", "fast"),
               ("macd", "slow")}


def param_sets(ind: Indicator, full: bool = True, talib: bool = False) -> list[dict]:
    """Defaults; each integer parameter at its least value and above it
    (with the others at their defaults); each matype at every implemented
    type, with short periods. fastpar names -> values. talib: only values
    TA-Lib accepts."""
    sets = [{}]
    for p in ind.params:
        if p.kind == "int":
            lo = int(p.lo) + (talib and (ind.name, p.name) in BELOW_TALIB)
            sets.append({p.name: lo})
            if full:
                sets.append({p.name: lo + 1})
                sets.append({p.name: lo + 6})
    if full:
        for p in ind.params:
            if p.kind == "real" and p.default_value != 0.0:
                candidates = [p.default_value * 0.5, p.default_value * 10.0] + (
                    [-1.5] if p.lo < 0 else [])
                sets.extend({p.name: v} for v in candidates if p.lo <= v <= p.hi)
        periods = {q.name: 4 for q in ind.params if q.kind == "int"}
        for p in ind.params:
            if p.kind == "matype":
                sets.extend({**periods, p.name: t} for t in IMPLEMENTED_MA)
    unique = []
    for s in sets:
        if s not in unique:
            unique.append(s)
    return unique


def _ids(changes: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in changes.items()) or "defaults"


# --------------------------------------------------------------------------
# Inputs


def _flat_stretches(n):
    """One stretch shorter than most periods, one longer than all of them."""
    return ((n // 5, max(2, n // 40)), (n // 2, max(2, n // 8)))


@functools.lru_cache(maxsize=None)
def _make(shape: str, n: int, level: float) -> dict:
    """Read-only inputs of every role: open, high, low, close, volume, and a
    second series (real1) for the two-series functions."""
    rng = np.random.default_rng(n)
    if shape == "walk":
        bars = random_walk_ohlc(1, n, seed=n, start=level, vol=0.002)
        d = {k: bars[k][0].copy() for k in ("open", "high", "low", "close")}
        d["volume"] = 1000.0 * (1.0 + np.abs(rng.normal(0.0, 1.0, n)))
        d["real1"] = 0.5 * d["close"] + level * 0.01 * np.cumsum(rng.normal(0.0, 0.1, n))
        for start, length in _flat_stretches(n):
            for k in d:
                d[k][start : start + length] = d[k][start]
    else:
        if shape == "constant":
            close = np.full(n, level)
        elif shape == "step":
            close = np.where(np.arange(n) < n // 2, level, 1.25 * level)
        elif shape == "ramp":
            close = level * np.linspace(1.0, 2.0, n)
        elif shape == "zigzag":
            close = level * (1.0 + 0.01 * (np.arange(n) % 2))
        else:
            raise AssertionError(shape)
        d = {"open": close.copy(), "high": close * 1.001, "low": close * 0.999,
             "close": close, "volume": np.where(np.arange(n) % 3 == 0, 2000.0, 1000.0),
             "real1": close[::-1].copy()}
    for a in d.values():
        a.setflags(write=False)
    return d


ROLE = {"real": "close", "real0": "close", "real1": "real1", "x": "close", "y": "real1"}


@dataclass(frozen=True)
class Case:
    shape: str
    n: int
    level: float
    lead: int = 0  # leading NaNs (the k-th input gets lead + k % 3)

    def __str__(self):
        return f"{self.shape}-n{self.n}-{self.level:g}" + (f"-nan{self.lead}" if self.lead else "")

    def inputs(self, ind: Indicator) -> list[np.ndarray]:
        d = _make(self.shape, self.n, self.level)
        out = []
        for k, name in enumerate(ind.ta_inputs):
            a = d[ROLE.get(name, name)].copy()
            if self.lead:
                a[: self.lead + k % 3] = np.nan
            out.append(a)
        return out

    def level_of(self, inputs) -> float:
        finite = np.concatenate([a[np.isfinite(a)] for a in inputs])
        return float(np.max(np.abs(finite))) if finite.size else 0.0


LENGTHS = (1, 2, 5, 30, 1000, 10000)
LEVELS = (1e-3, 100.0, 1e5)
CASES = (
    [Case("walk", n, level) for n in LENGTHS for level in LEVELS]
    + [Case("walk", n, level, lead=7) for n in (5, 30, 1000) for level in LEVELS]
    + [Case(shape, 60, level) for shape in ("constant", "step", "ramp", "zigzag")
       for level in (1e-3, 100.0)]
    + [Case("step", 60, 100.0, lead=3)]
)
SMALL_CASES = [c for c in CASES if c.n <= 1000]


def _outputs(result) -> tuple:
    return result if isinstance(result, tuple) else (result,)


def assert_close(actual, expected, rel=1e-9, floor=0.0, what=""):
    """Same number of outputs, float64, same NaN positions, and
    |a - e| <= rel * max(1, |e|) + floor everywhere."""
    actual, expected = _outputs(actual), _outputs(expected)
    assert len(actual) == len(expected), what
    for k, (a, e) in enumerate(zip(actual, expected)):
        a = np.asarray(a, dtype=np.float64)
        e = np.asarray(e, dtype=np.float64)
        assert a.shape == e.shape, f"{what} output {k}: shape {a.shape} != {e.shape}"
        nan_a, nan_e = np.isnan(a), np.isnan(e)
        wrong = np.flatnonzero(nan_a != nan_e)
        assert wrong.size == 0, (
            f"{what} output {k}: NaN positions differ ({nan_a.sum()} vs {nan_e.sum()} NaNs), "
            f"first at index {wrong[0]}: got {a.flat[wrong[0]]!r}, expected {e.flat[wrong[0]]!r}")
        if nan_e.all():
            continue
        excess = np.where(nan_e, 0.0, np.abs(a - e) - (rel * np.maximum(1.0, np.abs(e)) + floor))
        i = int(np.argmax(excess))
        assert excess.flat[i] <= 0.0, (
            f"{what} output {k}: at index {i} got {a.flat[i]!r}, expected {e.flat[i]!r} "
            f"(diff {abs(a.flat[i] - e.flat[i]):.3g})")


def _rows_params(names, full=True, talib=False):
    return [pytest.param(name, changes, id=f"{name}[{_ids(changes)}]")
            for name in names for changes in param_sets(ROWS[name], full, talib)]


# --------------------------------------------------------------------------
# fastpar.talib against TA-Lib


# BETA at period 2 divides by (x2 - x1)^2 for two returns x1, x2: when they
# agree to 3 digits, TA-Lib's running sums and fastpar's are each about
# 1e-8 (relative) from the exact slope of the same double returns, in
# different directions.
PARITY_REL = {"beta": 1e-7}


@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("name, changes", _rows_params(TA_ROWS, talib=True))
def test_talib_parity(name, changes, case):
    talib = _talib()
    ind = ROWS[name]
    inputs = case.inputs(ind)
    kept = [a.copy() for a in inputs]
    params = _ta_params(ind, **changes)
    got = getattr(ftalib, ind.ta_name)(*inputs, **params)
    for a, b in zip(inputs, kept):
        np.testing.assert_array_equal(a, b)  # inputs are never modified
    expected = getattr(talib, ind.ta_name)(*inputs, **params)
    if all(np.isnan(a).all() for a in inputs):
        # TA-Lib runs its function on the last bar of an all-NaN input (AD
        # makes a 0 of it); fastpar has no value to compute: all NaN.
        for out in _outputs(got):
            assert np.isnan(out).all()
        return
    assert_close(got, expected, rel=PARITY_REL.get(name, 1e-9), what=f"{ind.ta_name}({params})")


@pytest.mark.parametrize("name, changes", _rows_params(TA_ROWS, full=False))
def test_lowercase_is_talib(name, changes):
    """fastpar.<name> with fastpar's names gives fastpar.talib's doubles."""
    ind = ROWS[name]
    inputs = Case("walk", 300, 100.0, lead=4).inputs(ind)
    kwargs = {p.name: changes.get(p.name, p.default_value) for p in ind.params}
    if ind.fast_slow and kwargs[ind.params[0].name] >= kwargs[ind.params[1].name]:
        return  # fastpar's names refuse fast >= slow (test_fast_not_below_slow)
    got = getattr(fastpar, name)(*inputs, **kwargs)
    expected = getattr(ftalib, ind.ta_name)(*inputs, **_ta_params(ind, **changes))
    assert_close(got, expected, rel=0.0, what=name)


# --------------------------------------------------------------------------
# fastpar against fastpar.reference


def _reference(name):
    return getattr(reference, name)


def _fastpar_call(name, inputs, changes):
    ind = ROWS[name]
    kwargs = {p.name: changes.get(p.name, p.default_value) for p in ind.params}
    if name == "rsi_simple":
        return fastpar.rsi(*inputs, kwargs["period"], method="simple")
    return getattr(fastpar, name)(*inputs, **kwargs)


def _valid_for_fastpar(ind, changes):
    kwargs = {p.name: changes.get(p.name, p.default_value) for p in ind.params}
    return not ind.fast_slow or kwargs[ind.params[0].name] < kwargs[ind.params[1].name]


@pytest.mark.parametrize("case", SMALL_CASES, ids=str)
@pytest.mark.parametrize("name, changes", _rows_params(list(ROWS), full=False))
def test_kernel_matches_reference(name, changes, case):
    ind = ROWS[name]
    if not _valid_for_fastpar(ind, changes):
        return
    inputs = case.inputs(ind)
    kwargs = {p.name: changes.get(p.name, p.default_value) for p in ind.params}
    expected = _reference(name)(*inputs, **kwargs)
    # the kernels keep TA-Lib's running sums, which drift from the
    # reference's exact ones by up to about 1e-12 of the price level
    assert_close(_fastpar_call(name, inputs, changes), expected, rel=1e-9,
                 floor=1e-12 * case.level_of(inputs), what=name)


@pytest.mark.parametrize("name", list(ROWS))
def test_reference_signature_is_the_table(name):
    """fastpar.reference.<name> takes the table's inputs and fastpar's
    parameter names with their defaults, in some order."""
    ind = ROWS[name]
    sig = inspect.signature(_reference(name))
    params = list(sig.parameters.values())
    assert [p.name for p in params[: len(ind.inputs)]] == list(ind.inputs)
    ref = {p.name: p.default for p in params[len(ind.inputs):]}
    for p in ind.params:
        assert p.name in ref, f"reference.{name} lacks {p.name}"
        assert ref[p.name] == p.default_value, (name, p.name, ref[p.name], p.default_value)


# --------------------------------------------------------------------------
# Streams against the batch functions


STREAM_CASES = [Case("walk", 400, 100.0, lead=5), Case("step", 60, 1e5), Case("constant", 40, 1.0),
                Case("walk", 3, 100.0), Case("zigzag", 60, 1e-3)]


def _stream_of(ind, changes):
    names = {p.name: (p.ta_name if ind.ta_name else p.name) for p in ind.params}
    kwargs = {names[p.name]: changes.get(p.name, p.default_value) for p in ind.params}
    return getattr(stream, ind.stream_name)(**kwargs)


def _batch_ta(ind, inputs, changes):
    """The batch function with TA-Lib's reading of the parameters."""
    if ind.ta_name:
        return _outputs(getattr(ftalib, ind.ta_name)(*inputs, **_ta_params(ind, **changes)))
    return _outputs(_fastpar_call(ind.name, inputs, changes))


@pytest.mark.parametrize("case", STREAM_CASES, ids=str)
@pytest.mark.parametrize("name, changes", _rows_params(list(ROWS)))
def test_stream_matches_batch(name, changes, case):
    """update() value by value, and extend() in two pieces, give the batch
    function's numbers at every step (the same doubles but where the batch
    kernel regroups its arithmetic: within 1e-12)."""
    ind = ROWS[name]
    inputs = case.inputs(ind)
    expected = _batch_ta(ind, inputs, changes)
    s = _stream_of(ind, changes)
    steps = [s.update(*(float(a[i]) for a in inputs)) for i in range(case.n)]
    got = tuple(np.array([_outputs(v)[k] for v in steps]) for k in range(len(ind.outputs)))
    assert_close(got, expected, rel=1e-12, what=f"{name} update()")
    s.reset()
    half = case.n // 2
    first = _outputs(s.extend(*(a[:half] for a in inputs)))
    second = _outputs(s.extend(*(a[half:] for a in inputs)))
    assert_close(tuple(np.concatenate([f, g]) for f, g in zip(first, second)), got, rel=0.0,
                 what=f"{name} extend()")


@pytest.mark.parametrize("name", list(ROWS))
def test_stream_lookback_and_repr(name):
    ind = ROWS[name]
    s = _stream_of(ind, {})
    assert s.lookback == ind.lookback(*(p.default_value for p in ind.params))
    assert repr(s).startswith(f"fastpar.stream.{ind.stream_name}(")
    outputs = _outputs(s.extend(*Case("walk", s.lookback + 3, 100.0).inputs(ind)))
    for out in outputs:
        assert np.isnan(out[: s.lookback]).all() and not np.isnan(out[s.lookback :]).any()


@pytest.mark.parametrize("name", list(ROWS))
def test_stream_refuses_nan_after_start_and_stays_unchanged(name):
    ind = ROWS[name]
    inputs = Case("walk", 200, 100.0).inputs(ind)
    s, t = _stream_of(ind, {}), _stream_of(ind, {})
    s.extend(*(a[:100] for a in inputs))
    t.extend(*(a[:100] for a in inputs))
    for k in range(len(inputs)):
        bar = [float(a[100]) for a in inputs]
        bar[k] = float("nan")
        with pytest.raises(ValueError, match="after the stream started"):
            s.update(*bar)
        bar[k] = float("inf")
        with pytest.raises(ValueError, match="after the stream started"):
            s.update(*bar)
    assert_close(s.extend(*(a[100:] for a in inputs)), t.extend(*(a[100:] for a in inputs)),
                 rel=0.0, what=name)


# --------------------------------------------------------------------------
# The TA-Lib module itself


def test_talib_functions_are_the_table():
    names = ftalib.get_functions()
    assert sorted(names) == sorted(ind.ta_name for ind in TABLE if ind.ta_name)
    groups = ftalib.get_function_groups()
    assert sorted(itertools.chain(*groups.values())) == sorted(names)


@pytest.mark.parametrize("name", TA_ROWS)
def test_talib_signature_is_talibs(name):
    """Same positional inputs, parameter names, defaults and output names as
    TA-Lib's abstract description of the function."""
    talib = _talib()
    from talib import abstract

    ind = ROWS[name]
    info = abstract.Function(ind.ta_name)
    sig = inspect.signature(getattr(ftalib, ind.ta_name))
    params = list(sig.parameters.values())
    ta_inputs = []
    for v in info.input_names.values():
        ta_inputs.extend(v if isinstance(v, list) else [v])
    assert len(params) == len(ta_inputs) + len(info.parameters)
    assert {p.name: p.default for p in params[len(ta_inputs):]} == dict(info.parameters)
    assert tuple(info.output_names) == ind.outputs
    doc = getattr(talib, ind.ta_name).__doc__.splitlines()[0]  # "SMA(ndarray real, int ...)"
    names = [a.split()[1] for a in doc[doc.index("(") + 1 : doc.rindex(")")].split(",")]
    assert [p.name for p in params[: len(ta_inputs)]] == names[: len(ta_inputs)]


def test_every_other_talib_function_is_not_implemented():
    talib = _talib()
    missing = sorted(set(talib.get_functions()) - set(ftalib.get_functions()))
    assert missing
    for name in missing:
        with pytest.raises(NotImplementedError, match=rf"fastpar\.talib\.{name}: TA-Lib's "
                                                      rf"{name} is not implemented in fastpar"):
            getattr(ftalib, name)
    with pytest.raises(NotImplementedError, match="CDLDOJI"):
        exec("from fastpar.talib import CDLDOJI", {})
    with pytest.raises(AttributeError):
        ftalib.NO_SUCH_FUNCTION  # noqa: B018


def test_talib_settings_accept_only_the_defaults():
    ftalib.set_unstable_period("EMA", 0)
    ftalib.set_compatibility(0)
    assert ftalib.get_unstable_period("EMA") == 0 and ftalib.get_compatibility() == 0
    with pytest.raises(NotImplementedError, match="unstable period"):
        ftalib.set_unstable_period("EMA", 5)
    with pytest.raises(NotImplementedError, match="Metastock"):
        ftalib.set_compatibility(1)
    with pytest.raises(NotImplementedError, match="abstract"):
        ftalib.abstract  # noqa: B018


def test_ma_type_codes_are_talibs():
    talib = _talib()
    for name in ("SMA", "EMA", "WMA", "DEMA", "TEMA", "TRIMA", "KAMA", "MAMA", "T3", "HMA",
                 "DISABLED", "DEFAULT", "ZLEMA", "RMA"):
        assert getattr(ftalib.MA_Type, name) == getattr(talib.MA_Type, name)
        assert ftalib.MA_Type[getattr(talib.MA_Type, name)] == talib.MA_Type[
            getattr(talib.MA_Type, name)]


MATYPE_ROWS = [ind.name for ind in TABLE if any(p.kind == "matype" for p in ind.params)]


@pytest.mark.parametrize("matype, ma_name", [(7, "MAMA"), (9, "HMA"), (12, "ZLEMA"), (13, "RMA")])
@pytest.mark.parametrize("name", MATYPE_ROWS)
def test_unimplemented_matype_is_not_implemented(name, matype, ma_name):
    ind = ROWS[name]
    inputs = Case("walk", 100, 100.0).inputs(ind)
    for p in ind.params:
        if p.kind == "matype":
            with pytest.raises(NotImplementedError, match=rf"{p.name}={matype} \({ma_name}\)"):
                getattr(fastpar, name)(*inputs, **{p.name: matype})
            with pytest.raises(NotImplementedError, match=ma_name):
                getattr(ftalib, ind.ta_name)(*inputs, **{p.ta_name: matype})


@pytest.mark.parametrize("name", MATYPE_ROWS)
def test_matype_default_code_is_the_functions_default(name):
    """TA-Lib's MA_Type.DEFAULT (11) is the parameter's own default."""
    ind = ROWS[name]
    inputs = Case("walk", 100, 100.0).inputs(ind)
    func = getattr(ftalib, ind.ta_name)
    for p in ind.params:
        if p.kind == "matype":
            assert_close(func(*inputs, **{p.ta_name: 11}), func(*inputs), rel=0.0, what=name)


# --------------------------------------------------------------------------
# Input handling and errors (every row)


def _inputs(ind, n=300, lead=4):
    return Case("walk", n, 100.0, lead=lead).inputs(ind)


@pytest.mark.parametrize("name", list(ROWS))
def test_nan_after_leading_nans_is_a_value_error(name):
    ind = ROWS[name]
    valid = _inputs(ind, n=80)
    for k in range(len(valid)):
        for value in (np.nan, np.inf, -np.inf):
            inputs = [a.copy() for a in valid]
            inputs[k][40] = value
            with pytest.raises(ValueError, match="NaN or inf after its leading NaNs"):
                _fastpar_call(name, inputs, {})
            if ind.ta_name:
                with pytest.raises(ValueError, match="NaN or inf after its leading NaNs"):
                    getattr(ftalib, ind.ta_name)(*inputs)


@pytest.mark.parametrize("name", list(ROWS))
def test_a_bad_value_is_found_in_any_chunk(name):
    """Kernels check their inputs a chunk (1,024 values) at a time as they go,
    several inputs through their sums first: a bad value in any input, at
    either edge of a chunk, or last, is found as well."""
    ind = ROWS[name]
    valid = _inputs(ind, n=3_001, lead=0)  # odd: the last chunk ends in a single value
    for at in (1_023, 1_024, 2_047, 3_000):
        inputs = [a.copy() for a in valid]
        inputs[at % len(inputs)][at] = np.nan
        with pytest.raises(ValueError, match="NaN or inf after its leading NaNs"):
            _fastpar_call(name, inputs, {})


@pytest.mark.parametrize("matype", IMPLEMENTED_MA)
def test_ma_of_every_type_and_period_refuses_a_bad_value(matype):
    """MA's types check their input in different places (SMA, EMA and WMA as
    they run, the others in one pass first, a period of 1 is a copy): each
    refuses a NaN or an infinity after the start."""
    x = _inputs(ROWS["ma"], n=3_001, lead=2)[0]
    for period in (1, 2, 30):
        for at, value in ((2, np.inf), (1_500, np.nan), (3_000, -np.inf)):
            bad = x.copy()
            bad[at] = value
            with pytest.raises(ValueError, match="NaN or inf after its leading NaNs"):
                ftalib.MA(bad, period, matype)


@pytest.mark.parametrize("name", ["AVGPRICE", "MEDPRICE", "TYPPRICE", "WCLPRICE"])
def test_finite_prices_whose_sum_overflows_give_infinity_as_talib(name):
    """The price transforms check the values they write and read the prices
    again only where a value is not finite: an overflow of finite prices is a
    value (infinity, as TA-Lib gives), not an error."""
    n = 3_000
    rng = np.random.default_rng(5)
    o, h, l, c = (rng.uniform(1.0, 2.0, n) for _ in range(4))  # noqa: E741
    for a in (h, l, c):
        a[[10, 1_500, 2_999]] = np.finfo(np.float64).max
    args = {"AVGPRICE": (o, h, l, c), "MEDPRICE": (h, l)}.get(name, (h, l, c))
    got = getattr(ftalib, name)(*args)
    assert np.isinf(got[[10, 1_500, 2_999]]).all()
    assert np.isfinite(np.delete(got, [10, 1_500, 2_999])).all()
    np.testing.assert_array_equal(got, getattr(_talib(), name)(*args))


@pytest.mark.parametrize("name", list(ROWS))
def test_lookback_prefix_short_and_all_nan_inputs(name):
    ind = ROWS[name]
    lookback = ind.lookback(*(p.default_value for p in ind.params))
    for lead in (0, 3):
        for n in (lead + lookback, lead + lookback + 1, lead + lookback + 4):
            if n == 0:
                continue
            inputs = [np.concatenate([np.full(lead, np.nan), a])
                      for a in Case("walk", n - lead, 100.0).inputs(ind)] if n > lead else None
            if inputs is None:
                continue
            for out in _outputs(_fastpar_call(name, inputs, {})):
                assert out.shape == (n,)
                assert np.isnan(out[: lead + lookback]).all()
                assert not np.isnan(out[lead + lookback :]).any()
    for out in _outputs(_fastpar_call(name, [np.full(50, np.nan)] * len(ind.inputs), {})):
        assert np.isnan(out).all()


@pytest.mark.parametrize("name", list(ROWS))
def test_2d_rows_match_1d_and_threads_change_nothing(name):
    ind = ROWS[name]
    per_row = [Case("walk", 300, level, lead=lead).inputs(ind)
               for level, lead in ((100.0, 0), (1e3, 3), (1.0, 17), (50.0, 300))]
    inputs = [np.vstack([row[k] for row in per_row]) for k in range(len(ind.inputs))]
    func = getattr(fastpar, name if name != "rsi_simple" else "rsi")
    extra = {"method": "simple"} if name == "rsi_simple" else {}
    for threads in (None, 1, 2, 3):
        got = _outputs(func(*inputs, **extra, threads=threads))
        for r in range(len(per_row)):
            one = _outputs(func(*[a[r] for a in inputs], **extra))
            assert_close(tuple(g[r] for g in got), one, rel=0.0, what=name)
    if ind.ta_name:
        assert_close(getattr(ftalib, ind.ta_name)(*inputs), func(*inputs), rel=0.0)


@pytest.mark.parametrize("name", TA_ROWS)
def test_pandas_series_in_series_out(name):
    pd = pytest.importorskip("pandas")
    ind = ROWS[name]
    arrays = _inputs(ind, n=120)
    index = pd.date_range("2025-10-07", periods=120, freq="min")
    series = [pd.Series(a, index=index, name="px") for a in arrays]
    for func in (getattr(fastpar, name), getattr(ftalib, ind.ta_name)):
        outputs = _outputs(func(*series))
        assert len(outputs) == len(ind.outputs)
        for out in outputs:
            assert isinstance(out, pd.Series) and out.index.equals(index) and out.name == "px"
        assert_close(tuple(o.to_numpy() for o in outputs), func(*arrays), rel=0.0)


@pytest.mark.parametrize("name", TA_ROWS)
def test_lists_and_other_dtypes_are_converted(name):
    ind = ROWS[name]
    arrays = _inputs(ind, n=100, lead=0)
    func = getattr(ftalib, ind.ta_name)
    expected = func(*arrays)
    assert_close(func(*[a.tolist() for a in arrays]), expected, rel=0.0)
    as32 = [a.astype(np.float32) for a in arrays]
    assert_close(func(*as32), func(*[a.astype(np.float64) for a in as32]), rel=0.0)


BAD_DTYPES = {
    "str": lambda a: np.char.mod("%.3f", a),
    "object": lambda a: a.astype(object),
    "complex": lambda a: a.astype(np.complex128),
    "bool": lambda a: a > 100.0,
}


@pytest.mark.parametrize("bad", list(BAD_DTYPES))
@pytest.mark.parametrize("name", TA_ROWS)
def test_non_numeric_dtype_is_a_type_error(name, bad):
    ind = ROWS[name]
    inputs = [BAD_DTYPES[bad](a) for a in _inputs(ind, n=50, lead=0)]
    with pytest.raises(TypeError, match=r"must hold real numbers, got dtype|must be a NumPy"):
        getattr(ftalib, ind.ta_name)(*inputs)


@pytest.mark.parametrize("name", TA_ROWS)
def test_wrong_shapes_and_empty_inputs_are_value_errors(name):
    ind = ROWS[name]
    inputs = _inputs(ind, n=50, lead=0)
    func = getattr(ftalib, ind.ta_name)
    with pytest.raises(ValueError, match="is empty"):
        func(*[np.empty(0) for _ in inputs])
    with pytest.raises(ValueError, match=r"must be 1-D \(one series\) or 2-D"):
        func(*[a[:48].reshape(2, 4, 6) for a in inputs])
    if len(inputs) > 1:
        for k in range(1, len(inputs)):
            bad = list(inputs)
            bad[k] = bad[k][:-1]
            with pytest.raises(ValueError, match="must have the same shape"):
                func(*bad)


@pytest.mark.parametrize("name", list(ROWS))
def test_parameters_out_of_range_are_refused(name):
    ind = ROWS[name]
    inputs = _inputs(ind, n=50)
    func = getattr(ftalib, ind.ta_name) if ind.ta_name else None
    for p in ind.params:
        if p.kind == "real":
            bad_values = [np.nan, np.inf] + ([p.lo - 1.0, p.hi + 1.0] if p.hi < 1e300 else [])
            bounds = re.escape(f"in [{float(p.lo)!r}, {float(p.hi)!r}], got")
            for v in bad_values:
                with pytest.raises(ValueError, match=rf"{p.name} must be (finite, got|{bounds})"):
                    _fastpar_call(name, inputs, {p.name: v})
            with pytest.raises(TypeError, match=rf"{p.name} must be a real number, got str"):
                _fastpar_call(name, inputs, {p.name: "2"})
            continue
        for v in (int(p.lo) - 1, int(p.hi) + 1, 10**30):
            with pytest.raises(ValueError, match=rf"{p.name} must be in \[{int(p.lo)}, "
                                                 rf"{int(p.hi)}\], got {v}"):
                _fastpar_call(name, inputs, {p.name: v})
            if func is not None:
                with pytest.raises(ValueError, match=rf"{p.ta_name} must be in"):
                    func(*inputs, **{p.ta_name: v})
        for v in (2.0, "3", True):
            with pytest.raises(TypeError, match=rf"{p.name} must be an integer, got (float|str|bool)"):
                _fastpar_call(name, inputs, {p.name: v})


@pytest.mark.parametrize("name", [ind.name for ind in TABLE if ind.fast_slow])
def test_fast_not_below_slow(name):
    """fastpar's names require fast < slow; TA-Lib's swap them, as TA-Lib."""
    ind = ROWS[name]
    inputs = _inputs(ind, n=200)
    fast, slow = ind.params[0], ind.params[1]
    with pytest.raises(ValueError, match=rf"{name} needs {fast.name} < {slow.name}"):
        getattr(fastpar, name)(*inputs, **{fast.name: 9, slow.name: 5})
    func = getattr(ftalib, ind.ta_name)
    assert_close(func(*inputs, **{fast.ta_name: 9, slow.ta_name: 5}),
                 func(*inputs, **{fast.ta_name: 5, slow.ta_name: 9}), rel=0.0)


# --------------------------------------------------------------------------
# out=: the caller's buffers


def _out_buffers(ind, shape):
    bufs = tuple(np.full(shape, 7.0) for _ in ind.outputs)
    return bufs[0] if len(bufs) == 1 else bufs


@pytest.mark.parametrize("name", [n for n in ROWS if n != "rsi_simple"])
def test_out_is_written_and_returned(name):
    ind = ROWS[name]
    func = getattr(fastpar, name)
    two_rows = [np.vstack([a, b]) for a, b in zip(_inputs(ind, n=200), _inputs(ind, 200, lead=0))]
    for inputs in (_inputs(ind, n=200), two_rows):
        expected = func(*inputs)
        out = _out_buffers(ind, inputs[0].shape)
        got = func(*inputs, out=out)
        for g, o in zip(_outputs(got), _outputs(out)):
            assert g is o
        assert_close(got, expected, rel=0.0, what=name)
        again = func(*inputs, out=out, threads=1)  # reused: the same numbers
        assert_close(again, expected, rel=0.0, what=name)


@pytest.mark.parametrize("name", [n for n in ROWS if n != "rsi_simple"])
def test_out_checks(name):
    ind = ROWS[name]
    func = getattr(fastpar, name)
    inputs = _inputs(ind, n=100)
    k = len(ind.outputs)

    def with_one(bad):
        if k == 1:
            return bad
        return (bad,) + tuple(np.empty(100) for _ in range(k - 1))

    with pytest.raises(TypeError, match="must be float64, got dtype float32"):
        func(*inputs, out=with_one(np.empty(100, np.float32)))
    with pytest.raises(ValueError, match=r"must have the inputs' shape \(100,\), got \(99,\)"):
        func(*inputs, out=with_one(np.empty(99)))
    with pytest.raises(ValueError, match="C-contiguous, aligned and writable"):
        func(*inputs, out=with_one(np.empty(200)[::2]))
    read_only = np.empty(100)
    read_only.setflags(write=False)
    with pytest.raises(ValueError, match="C-contiguous, aligned and writable"):
        func(*inputs, out=with_one(read_only))
    shared = inputs[-1].copy()
    with pytest.raises(ValueError, match="shares memory with the input"):
        func(*inputs[:-1], shared, out=with_one(shared))
    with pytest.raises(TypeError, match="out must be"):
        func(*inputs, out=[np.empty(100)] * k)
    if k > 1:
        same = np.empty(100)
        with pytest.raises(ValueError, match="share memory"):
            func(*inputs, out=(same,) * k)
        with pytest.raises(TypeError, match=f"tuple of {k} NumPy arrays"):
            func(*inputs, out=np.empty(100))


def test_out_with_pandas_returns_the_buffer():
    pd = pytest.importorskip("pandas")
    x = pd.Series(_inputs(ROWS["sma"], n=50)[0])
    out = np.empty(50)
    assert fastpar.sma(x, 5, out=out) is out
    assert_close(out, fastpar.sma(x.to_numpy(), 5), rel=0.0)
