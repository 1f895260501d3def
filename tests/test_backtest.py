"""fastpar.backtest against its reference (fastpar.reference.backtest).

Random signals of every density on random walks, with flat stretches, in
long-only and long/short modes, with and without stops and costs: the
kernel runs the sweep's own account, which follows the reference's
arithmetic operation by operation, so every metric but the Sharpe ratio
is the same double. Then: a sweep's signals given to backtest give the
sweep's bytes; hand-worked cases (an entry and an exit on one bar,
signals on the first and last bar, a stop hit exactly); every layout an
array can have (Fortran order, strided and reversed views, broadcast
columns, pandas) gives the same bytes; the thread count changes nothing;
every bad input is refused naming the argument; Ctrl-C stops a long
backtest.
"""

import math
import os
import signal
import threading
import time

import numpy as np
import pytest

import fastpar
from fastpar.reference import strategies as ref
from fastpar.sweep import METRICS

pd = pytest.importorskip("pandas")

EXACT = [m for m in METRICS if m != "sharpe"]


def walk(n, seed, vol=0.015, flat_every=0, level=100.0):
    rng = np.random.default_rng(seed)
    steps = rng.normal(0.0, vol, n)
    if flat_every:
        steps[rng.random(n) < 1.0 / flat_every] = 0.0
        steps[n // 4:n // 4 + 30] = 0.0
    return level * np.exp(np.cumsum(steps))


def random_signals(rng, n, k):
    """Entries and exits of k columns, each of its own density (a few
    signals to one bar in three): many bars with both, runs of repeats."""
    density = rng.uniform(0.005, 0.35, k)
    return rng.random((n, k)) < density, rng.random((n, k)) < density


def assert_same(got, want, what=""):
    """Every metric the same double (NaN as NaN), the Sharpe ratio to 1e-9."""
    for m in EXACT:
        np.testing.assert_array_equal(got[m].to_numpy(float), want[m].to_numpy(float),
                                      err_msg=f"{what} {m}")
    np.testing.assert_allclose(got["sharpe"].to_numpy(), want["sharpe"].to_numpy(), rtol=1e-9,
                               err_msg=f"{what} sharpe")


COSTS = {
    "none": {},
    "long": {"fees": 0.001, "slippage": 0.0005, "spread": 0.02},
    "stops": {"fees": 0.0005, "stop_loss": 0.02, "take_profit": 0.03},
    "longshort": {"fees": 0.003, "slippage": 0.001, "direction": "longshort",
                  "periods_per_year": 365.0},
    "longshort_stops": {"fees": 0.001, "spread": 0.01, "stop_loss": 0.03, "take_profit": 0.02,
                        "direction": "longshort"},
}


@pytest.mark.parametrize("mode", list(COSTS))
@pytest.mark.parametrize("flat_every", [0, 8])
def test_kernel_matches_reference(mode, flat_every):
    rng = np.random.default_rng(len(mode) * 10 + flat_every)
    close = walk(600, 3 + flat_every, flat_every=flat_every)
    entries, exits = random_signals(rng, 600, 24)
    got = fastpar.backtest(close, entries, exits, **COSTS[mode])
    want = ref.backtest(close, entries, exits, **COSTS[mode])
    assert (got.n_trades > 3).mean() > 0.5  # not vacuous: most columns trade
    assert_same(got, want, mode)


@pytest.mark.parametrize("level", [0.01, 1.0, 50_000.0])
def test_price_levels_and_tick_grids(level):
    """Prices on a tick grid at levels from 0.01 to 50,000, with jumps."""
    rng = np.random.default_rng(int(level * 100))
    steps = rng.normal(0.0, 0.01, 800)
    steps[rng.random(800) < 0.01] = 0.15
    tick = level / 100
    close = np.maximum(np.round(level * np.exp(np.cumsum(steps)) / tick), 1.0) * tick
    entries, exits = random_signals(rng, 800, 12)
    for mode in ["long", "longshort_stops"]:
        costs = dict(COSTS[mode], spread=0.0)
        assert_same(fastpar.backtest(close, entries, exits, **costs),
                    ref.backtest(close, entries, exits, **costs), f"{level} {mode}")


@pytest.mark.parametrize("strategy, grid", [
    ("rsi_threshold", {"period": [2, 5, 14], "low": [20, 30], "high": [70, 80]}),
    ("ma_cross", {"fast": [2, 5], "slow": [10, 20], "kind": ["sma", "ema"]}),
    ("bigbar", {"atr_period": [5], "k_atr": [0.5, 1.0], "tail_ratio": [0.3], "breakout": [3],
                "rsi_period": [14], "rsi_max": [100]}),
])
@pytest.mark.parametrize("mode", ["long", "longshort_stops"])
def test_a_sweeps_signals_give_the_sweeps_bytes(strategy, grid, mode):
    """backtest and sweep share one simulator: the reference's signals of
    each set, given to backtest, give exactly the sweep's row."""
    rng = np.random.default_rng(9)
    close = walk(1500, 21)
    data = {"close": close, "high": close * (1 + rng.uniform(0, 0.02, 1500)),
            "low": close * (1 - rng.uniform(0, 0.02, 1500))}
    df = fastpar.sweep(data, strategy, grid, progress=False, **COSTS[mode])
    sigs = [ref.signals(strategy, data, s) for s in
            df[list(fastpar.STRATEGIES[strategy])].itertuples(index=False)]
    entries = np.column_stack([e for e, _ in sigs])
    exits = np.column_stack([x for _, x in sigs])
    got = fastpar.backtest(close, entries, exits, **COSTS[mode])
    assert (got.n_trades > 0).all()
    for m in METRICS:
        np.testing.assert_array_equal(got[m].to_numpy(), df[m].to_numpy(), err_msg=m)


# ---- any small case ----

hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies


@st.composite
def small_backtests(draw):
    """A few bars on a coarse tick grid (ties, flat runs, stop levels hit
    exactly), one to three columns of any signals, any costs and mode."""
    n = draw(st.integers(1, 40))
    ticks = draw(st.lists(st.integers(1, 12), min_size=n, max_size=n))
    close = np.array(ticks, float) * draw(st.sampled_from([0.25, 1.0, 1000.0]))
    k = draw(st.integers(1, 3))
    bools = st.lists(st.booleans(), min_size=n * k, max_size=n * k)
    entries = np.array(draw(bools)).reshape(n, k)
    exits = np.array(draw(bools)).reshape(n, k)
    stop = st.one_of(st.none(), st.sampled_from([0.25, 0.5, 1.0 / 3.0]))
    costs = {"fees": draw(st.sampled_from([0.0, 0.01])),
             "slippage": draw(st.sampled_from([0.0, 0.005])),
             "stop_loss": draw(stop), "take_profit": draw(stop),
             "direction": draw(st.sampled_from(["long", "longshort"]))}
    return close, entries, exits, costs


@hypothesis.settings(max_examples=int(os.environ.get("FASTPAR_HYPOTHESIS_EXAMPLES", "200")),
                     deadline=None)
@hypothesis.given(small_backtests())
def test_any_small_case_matches_reference(case):
    close, entries, exits, costs = case
    with np.errstate(invalid="ignore"):  # the reference's inf / inf of a ruined account
        want = ref.backtest(close, entries, exits, **costs)
    assert_same(fastpar.backtest(close, entries, exits, **costs), want, str(costs))


# ---- hand-worked cases ----

def one(close, entries, exits, **costs):
    """The metrics of one column, as a dict, checked against the reference."""
    got = fastpar.backtest(np.array(close, float), np.array(entries, bool),
                           np.array(exits, bool), **costs)
    with np.errstate(invalid="ignore"):  # the reference's inf / inf of a ruined account
        want = ref.backtest(np.array(close, float), np.array(entries, bool),
                            np.array(exits, bool), **costs)
    assert_same(got, want)
    return got.iloc[0].to_dict()


def test_an_entry_and_an_exit_on_one_bar_do_nothing():
    close = [10, 12, 15, 10, 20]
    # bar 1 has both: no order; bar 2 enters, bar 3 exits
    r = one(close, [0, 1, 1, 0, 0], [0, 1, 0, 1, 0])
    assert r["n_trades"] == 1 and r["total_return"] == pytest.approx(10 / 15 - 1, abs=1e-15)
    # long, then both on the exit bar: still long to the end
    r = one(close, [1, 0, 0, 0, 0], [0, 0, 0, 1, 0])
    assert r["total_return"] == pytest.approx(-0.0, abs=1e-15)  # 10 -> 10
    r = one(close, [1, 0, 0, 1, 0], [0, 0, 0, 1, 0])
    assert r["total_return"] == pytest.approx(1.0, abs=1e-14) and r["exposure"] == 1.0
    # long/short: both on a bar leaves the short as it is
    r = one(close, [0, 0, 0, 1, 0], [1, 0, 0, 1, 0], direction="longshort")
    assert r["n_trades"] == 1 and r["exposure"] == 1.0
    assert r["total_return"] == pytest.approx(-1.0, abs=1e-14)  # short from 10 to 20


def test_signals_on_the_first_and_last_bar():
    close = [10, 11, 12, 13, 8]
    # bought at the first close, sold at the last
    r = one(close, [1, 0, 0, 0, 0], [0, 0, 0, 0, 1])
    assert r["n_trades"] == 1 and r["total_return"] == pytest.approx(-0.2, abs=1e-15)
    assert r["exposure"] == 0.8  # flat after the last bar's sale
    # bought at the last close: a trade still open, worth what it cost
    r = one(close, [0, 0, 0, 0, 1], [0, 0, 0, 0, 0])
    assert r["n_trades"] == 1 and r["total_return"] == 0.0 and r["exposure"] == 0.2
    assert math.isnan(r["win_rate"]) is False and r["win_rate"] == 0.0
    # an exit before any entry does nothing
    r = one(close, [0, 0, 0, 0, 0], [1, 0, 0, 0, 1])
    assert r["n_trades"] == 0 and r["total_return"] == 0.0 and math.isnan(r["sharpe"])
    # long/short: short at the first close, long at the last
    r = one(close, [0, 0, 0, 0, 1], [1, 0, 0, 0, 0], direction="longshort")
    assert r["n_trades"] == 2 and r["total_return"] == pytest.approx(0.2, abs=1e-14)
    # one bar
    r = one([5.0], [True], [False])
    assert r["n_trades"] == 1 and r["exposure"] == 1.0


# (close, entries, stops, direction, return): the stop's level is hit
# exactly, as a double (10 * 0.75 = 7.5, 10 * 1.5 = 15, 8 * 1.25 = 10).
EXACT_STOPS = {
    "long stop-loss": ([10, 9, 7.5, 9], [1, 0, 0, 0], {"stop_loss": 0.25}, "long", -0.25),
    "long take-profit": ([10, 12, 15, 14], [1, 0, 0, 0], {"take_profit": 0.5}, "long", 0.5),
    "short stop-loss": ([8, 9, 10, 9], [0, 0, 0, 0], {"stop_loss": 0.25}, "longshort", -0.25),
    "short take-profit": ([8, 6, 4, 5], [0, 0, 0, 0], {"take_profit": 0.5}, "longshort", 0.5),
}


@pytest.mark.parametrize("case", list(EXACT_STOPS))
def test_a_stop_hit_exactly_fires(case):
    close, entries, stops, direction, want = EXACT_STOPS[case]
    exits = [direction == "longshort", 0, 0, 0]
    r = one(close, entries, exits, direction=direction, **stops)
    assert r["n_trades"] == 1 and r["total_return"] == pytest.approx(want, abs=1e-15)
    assert r["exposure"] == 0.5
    # just short of the level: no stop, the position runs to the end
    nudged = list(close)
    nudged[2] = np.nextafter(close[2], close[1])
    r = one(nudged, entries, exits, direction=direction, **stops)
    assert r["exposure"] == 1.0


def test_an_account_back_from_exactly_zero_has_no_max_drawdown():
    """A short from 0.25 wiped out to exactly 0 when the price doubles; back
    at 0.25 the next bar's return is infinite (vectorbt's), so the
    compounded drawdown is inf / inf: NaN, as vectorbt's max_drawdown."""
    r = one([0.25, 0.25, 0.5, 0.25, 0.3], [0, 0, 0, 0, 0], [0, 1, 0, 0, 0],
            direction="longshort")
    assert r["total_return"] == pytest.approx(-0.2, abs=1e-14) and r["n_trades"] == 1
    assert math.isnan(r["max_drawdown"]) and math.isnan(r["sharpe"])


def test_signals_on_a_stop_bar_are_ignored():
    """A stop leaves the position flat for its bar: an entry on it does not
    re-enter (it would have bought at 7.5 and gained at 9)."""
    r = one([10, 9, 7.5, 9], [1, 0, 1, 0], [0, 0, 0, 0], stop_loss=0.25)
    assert r["n_trades"] == 1 and r["total_return"] == pytest.approx(-0.25, abs=1e-15)


# ---- layouts and results ----

def test_every_layout_gives_the_same_bytes():
    rng = np.random.default_rng(4)
    close = walk(500, 8)
    entries, exits = random_signals(rng, 500, 10)
    costs = COSTS["longshort_stops"]
    base = fastpar.backtest(close, entries, exits, **costs)
    # Fortran order, a strided view into a larger array, reversed columns
    big_e = np.zeros((1000, 30), bool)
    big_e[::2, ::3] = entries
    same = [
        fastpar.backtest(close, np.asfortranarray(entries), np.asfortranarray(exits), **costs),
        fastpar.backtest(close, big_e[::2, ::3], exits, **costs),
        fastpar.backtest(np.repeat(close, 2)[::2], entries, exits, **costs),
    ]
    for df in same:
        assert_same(df, base)
        np.testing.assert_array_equal(df["sharpe"].to_numpy(), base["sharpe"].to_numpy())
    rev = fastpar.backtest(close, entries[:, ::-1], exits[:, ::-1], **costs)
    np.testing.assert_array_equal(rev.to_numpy()[::-1], base.to_numpy())
    # close as one column per backtest, in either order
    close2 = np.column_stack([close] * 10)
    for c in (close2, np.asfortranarray(close2)):
        np.testing.assert_array_equal(fastpar.backtest(c, entries, exits, **costs).to_numpy(),
                                      base.to_numpy())
    # int-valued closes are prices too
    ints = np.round(close * 100).astype(np.int64)
    np.testing.assert_array_equal(
        fastpar.backtest(ints, entries, exits).to_numpy(),
        fastpar.backtest(ints.astype(float), entries, exits).to_numpy())


def test_one_signal_series_over_several_closes():
    """1-D signals with a 2-D close: the same signals on each asset."""
    rng = np.random.default_rng(5)
    closes = np.column_stack([walk(400, s) for s in range(4)])
    e, x = (a[:, 0] for a in random_signals(rng, 400, 1))
    df = fastpar.backtest(closes, e, x, fees=0.001)
    for j in range(4):
        alone = fastpar.backtest(closes[:, j], e, x, fees=0.001)
        np.testing.assert_array_equal(df.iloc[[j]].to_numpy(), alone.to_numpy())
    assert df.total_return.nunique() == 4


@pytest.mark.thread_unsafe(reason="tracemalloc traces the whole process")
def test_signals_and_closes_are_read_in_place():
    """Fortran-ordered, strided and broadcast signals, and a Fortran-ordered
    close, are read where they are: the call allocates a small part of
    their size (its result table), never a copy."""
    import tracemalloc

    rng = np.random.default_rng(3)
    n, k = 100_000, 16
    close = np.asfortranarray(np.column_stack([walk(n, s) for s in range(k)]))
    big = rng.random((2 * n, 2 * k)) < 0.01
    entries = big[::2, ::2]  # strided
    exits = np.broadcast_to(np.roll(big[::2, 0], 3)[:, None], (n, k))  # stride 0
    fastpar.backtest(close, entries, exits)  # warm-up
    tracemalloc.start()
    try:
        df = fastpar.backtest(close, entries, exits, fees=0.001)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (df.n_trades > 0).all()
    assert peak < entries.size / 20, peak  # a bool copy would be entries.size bytes


def test_inputs_are_not_modified():
    rng = np.random.default_rng(6)
    close = walk(300, 1)
    entries, exits = random_signals(rng, 300, 3)
    copies = [a.copy() for a in (close, entries, exits)]
    fastpar.backtest(close, entries, exits, fees=0.01)
    for a, b in zip((close, entries, exits), copies):
        np.testing.assert_array_equal(a, b)


def test_pandas_in_gives_metrics_by_column():
    rng = np.random.default_rng(7)
    index = pd.date_range("2024-01-01", periods=300, freq="h")
    close = pd.Series(walk(300, 2), index=index)
    e, x = random_signals(rng, 300, 3)
    cols = pd.MultiIndex.from_tuples([("rsi", 14), ("rsi", 21), ("ma", 5)])
    entries, exits = pd.DataFrame(e, index, cols), pd.DataFrame(x, index, cols)
    df = fastpar.backtest(close, entries, exits, fees=0.001)
    assert list(df.columns) == list(METRICS) and df.index.equals(cols)
    assert df.n_trades.dtype == np.int64
    np.testing.assert_array_equal(
        df.to_numpy(), fastpar.backtest(close.to_numpy(), e, x, fees=0.001).to_numpy())
    # pandas' nullable numbers and booleans without missing values are plain ones
    frame = pd.DataFrame({c: close for c in cols}, index=index).astype("Float64")
    np.testing.assert_array_equal(fastpar.backtest(frame, entries, exits, fees=0.001).to_numpy(),
                                  df.to_numpy())
    nullable = fastpar.backtest(close, entries.astype("boolean"), exits, fees=0.001)
    np.testing.assert_array_equal(nullable.to_numpy(), df.to_numpy())
    # a 1-D named series names the one row; NumPy gives 0, 1, ...
    one_row = fastpar.backtest(close, entries[("rsi", 14)].rename("mine"), exits[("rsi", 14)])
    assert list(one_row.index) == ["mine"]
    assert list(fastpar.backtest(close.to_numpy(), e, x).index) == [0, 1, 2]


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_same_bytes_for_any_thread_count(threads):
    rng = np.random.default_rng(8)
    close = walk(2000, 4)
    entries, exits = random_signals(rng, 2000, 37)  # not a multiple of any group size
    costs = COSTS["longshort_stops"]
    base = fastpar.backtest(close, entries, exits, threads=1, **costs)
    df = fastpar.backtest(close, entries, exits, threads=threads, **costs)
    np.testing.assert_array_equal(df.to_numpy(), base.to_numpy())


# ---- errors ----

N = 50
CLOSE = walk(N, 1)
SIG = np.zeros(N, bool)


@pytest.mark.parametrize("entries, error, match", [
    (np.zeros(N), TypeError, r"entries must hold booleans \(dtype bool\), got dtype float64; "
                             r"numbers are no signals"),
    (np.zeros(N, np.int64), TypeError, r"entries must hold booleans.*int64.*entries > 0"),
    (np.zeros(N, np.uint8), TypeError, r"entries must hold booleans.*uint8"),
    (np.array([None] * N), TypeError, r"entries must hold booleans.*object"),
    (["yes"] * N, TypeError, r"entries must hold booleans.*<U3"),
    (np.zeros((N, 2, 2), bool), ValueError, r"entries must be 1-D .* got shape \(50, 2, 2\)"),
    (np.zeros(N - 1, bool), ValueError, r"entries has 49 bars, close has 50"),
    (np.zeros((N, 0), bool), ValueError, r"entries has no columns"),
    (np.ma.masked_array(SIG, mask=SIG | (np.arange(N) == 3)), ValueError,
     r"entries is a masked array with 1 masked"),
    (pd.Series(pd.array([True, None] * (N // 2), dtype="boolean")), ValueError,
     r"entries holds missing values \(NA\)"),
    (pd.Series(np.zeros(N)), TypeError, r"entries must hold booleans.*float64"),
    (pd.DataFrame({"a": SIG, "b": np.zeros(N, np.int8)}), TypeError,
     r"entries must hold booleans.*int8"),
])
def test_bad_signals_are_refused(entries, error, match):
    with pytest.raises(error, match=match):
        fastpar.backtest(CLOSE, entries, SIG)


def test_bad_exits_name_exits():
    with pytest.raises(TypeError, match=r"^exits must hold booleans.*float64"):
        fastpar.backtest(CLOSE, SIG, np.zeros(N))
    with pytest.raises(ValueError, match=r"exits has 3 columns, entries has 2"):
        fastpar.backtest(CLOSE, np.zeros((N, 2), bool), np.zeros((N, 3), bool))
    with pytest.raises(ValueError, match=r"entries has 2 columns, close has 3"):
        fastpar.backtest(np.ones((N, 3)), np.zeros((N, 2), bool), SIG)


def with_at(a, i, v):
    a = np.array(a, dtype=float)
    a[i] = v
    return a


@pytest.mark.parametrize("close, error, match", [
    (with_at(CLOSE, 7, np.nan), ValueError, r"close holds NaN or inf \(first at position 7\)"),
    (with_at(CLOSE, 3, np.inf), ValueError, r"close holds NaN or inf \(first at position 3\)"),
    (with_at(CLOSE, 9, 0.0), ValueError, r"close must hold prices > 0, position 9 is 0.0"),
    (with_at(CLOSE, 2, -1.0), ValueError, r"close must hold prices > 0, position 2 is -1.0"),
    (pd.DataFrame({"a": CLOSE, "b": with_at(CLOSE, 4, np.nan)}), ValueError,
     r"close holds NaN or inf \(first at bar 4 of column 'b'\)"),
    (np.array([], float), ValueError, r"close has no bars"),
    (np.ones((N, 0)), ValueError, r"close has no columns"),
    (np.ones((N, 1, 1)), ValueError, r"close must be 1-D"),
    (CLOSE > 100, TypeError, r"close must hold real numbers \(int or float\), got dtype bool"),
    (CLOSE.astype(complex), TypeError, r"close must hold real numbers"),
    (CLOSE.astype(str), TypeError, r"close must hold real numbers"),
    (np.ma.masked_array(CLOSE, mask=np.arange(N) < 2), ValueError, r"close is a masked array"),
    (pd.Series(CLOSE, index=pd.date_range("2024", periods=N)[::-1]), ValueError,
     r"close: its DatetimeIndex is not in time order"),
    (pd.Series(with_at(CLOSE, 5, np.nan)).astype("Float64"), ValueError,
     r"close holds NaN or inf \(first at position 5\)"),  # pandas' NA
    (pd.DataFrame({"a": CLOSE, "b": CLOSE > 100}), TypeError,
     r"close must hold real numbers \(int or float\), got dtype bool"),
    (pd.Series(CLOSE.astype(str)), TypeError, r"close must hold real numbers"),
])
def test_bad_closes_are_refused(close, error, match):
    entries = np.zeros(len(close), bool) if np.ndim(close) else SIG
    with pytest.raises(error, match=match):
        fastpar.backtest(close, entries, entries)


@pytest.mark.parametrize("costs, error, match", [
    ({"fees": 1.0}, ValueError, r"fees must be in \[0, 1\), got 1.0"),
    ({"fees": -0.001}, ValueError, r"fees must be in \[0, 1\)"),
    ({"fees": "0.1"}, TypeError, r"fees must be a number"),
    ({"slippage": 1.5}, ValueError, r"slippage must be in \[0, 1\)"),
    ({"spread": -1}, ValueError, r"spread must be >= 0"),
    ({"spread": 1e6}, ValueError, r"spread 1000000.0 is too large for close"),
    ({"stop_loss": 0}, ValueError, r"stop_loss must be None or a fraction > 0"),
    ({"take_profit": math.nan}, ValueError, r"take_profit must be None or a fraction > 0"),
    ({"direction": "short"}, ValueError, r"direction must be 'long' or 'longshort'"),
    ({"periods_per_year": 0}, ValueError, r"periods_per_year must be > 0"),
    ({"threads": 0}, ValueError, r"threads"),
])
def test_bad_costs_are_refused(costs, error, match):
    with pytest.raises(error, match=match):
        fastpar.backtest(CLOSE, SIG, SIG, **costs)


def test_pandas_inputs_must_be_aligned():
    index = pd.date_range("2024-01-01", periods=N)
    close = pd.Series(CLOSE, index=index)
    with pytest.raises(ValueError, match=r"entries's index is not close's: align them first"):
        fastpar.backtest(close, pd.Series(SIG, index=index + pd.Timedelta("1D")), SIG)
    e = pd.DataFrame({"a": SIG, "b": SIG}, index=index)
    with pytest.raises(ValueError, match=r"exits's columns are not entries's"):
        fastpar.backtest(close, e, e.rename(columns={"b": "c"}))
    # NumPy arrays have no index: nothing to align
    assert len(fastpar.backtest(close, SIG, e)) == 2


@pytest.mark.thread_unsafe(reason="sends SIGINT to the process")
@pytest.mark.parametrize("threads", [1, 2])
def test_ctrl_c_stops_a_backtest_and_the_pool_still_works(sigint_raises, threads):
    """SIGINT during a backtest of some 10^10 column-bars (minutes of
    work: 4,000 columns of one signal series, read in place with a column
    stride of 0) raises KeyboardInterrupt long before it would end; the
    next backtest runs normally."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach the main thread only")
    rng = np.random.default_rng(1)
    n = 2_500_000
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))
    e = rng.random(n) < 0.01
    entries = np.broadcast_to(e[:, None], (n, 4000))
    exits = np.broadcast_to(np.roll(e, 5)[:, None], (n, 4000))

    def send():
        time.sleep(0.3)
        os.kill(os.getpid(), signal.SIGINT)

    sender = threading.Thread(target=send)
    sender.start()
    t0 = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        fastpar.backtest(close, entries, exits, threads=threads)
    elapsed = time.perf_counter() - t0
    sender.join()
    assert elapsed < 10.0  # the whole job: minutes
    df = fastpar.backtest(close[:1000], entries[:1000, :3], exits[:1000, :3], threads=threads)
    assert len(df) == 3 and df.n_trades.min() > 0
