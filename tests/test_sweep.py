"""fastpar.sweep's Python API: data forms, grid expansion and order, the
result table, progress, Ctrl-C, and clear errors for bad input."""

import itertools
import os
import signal
import sys
import threading
import time

import numpy as np
import pytest

import fastpar
from fastpar.sweep import METRICS, expand_grid, run_sets

pd = pytest.importorskip("pandas")

RSI_GRID = {"period": [5, 14], "low": [25, 30], "high": [70, 75]}


@pytest.fixture(scope="module")
def ohlc():
    rng = np.random.default_rng(8)
    n = 800
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.015, n)))
    return pd.DataFrame({
        "Open": close, "High": close * 1.01, "Low": close * 0.99, "Close": close,
        "Volume": np.ones(n)})


def metrics(df):
    return df[list(METRICS)].to_numpy(dtype=float)


# ---- data forms ----

def test_exports():
    assert fastpar.STRATEGIES["rsi_threshold"] == ("period", "low", "high")
    assert set(fastpar.STRATEGIES) == {
        "rsi_threshold", "ma_cross", "bbands_reversion", "envelope", "bigbar"}
    assert callable(fastpar.sweep)


def test_dataframe_and_dict_give_the_same(ohlc):
    a = fastpar.sweep(ohlc, "rsi_threshold", RSI_GRID, progress=False)
    b = fastpar.sweep({"close": ohlc.Close.to_numpy()}, "rsi_threshold", RSI_GRID,
                      progress=False)
    c = fastpar.sweep({"CLOSE": list(ohlc.Close)}, "rsi_threshold", RSI_GRID, progress=False)
    np.testing.assert_array_equal(metrics(a), metrics(b))
    np.testing.assert_array_equal(metrics(a), metrics(c))
    assert (a.n_trades > 0).all()


def test_only_needed_columns_are_required(ohlc):
    df = fastpar.sweep(ohlc[["Close"]], "envelope", {"period": 10, "deviation": 0.01},
                       progress=False)
    assert len(df) == 1
    with pytest.raises(ValueError, match=r"missing column\(s\) high, low needed by bigbar"):
        fastpar.sweep(ohlc[["Close"]], "bigbar", {
            "atr_period": 14, "k_atr": 1, "tail_ratio": 0.5, "breakout": 5, "rsi_period": 14,
            "rsi_max": 70}, progress=False)


def test_several_assets(ohlc):
    other = ohlc.iloc[::-1].reset_index(drop=True)
    df = fastpar.sweep({"AAA": ohlc, "BBB": {"close": other.Close.to_numpy()}},
                       "rsi_threshold", RSI_GRID, progress=False)
    assert list(df.columns[:4]) == ["asset", "period", "low", "high"]
    assert list(df.asset) == ["AAA"] * 8 + ["BBB"] * 8
    alone = fastpar.sweep(other, "rsi_threshold", RSI_GRID, progress=False)
    np.testing.assert_array_equal(metrics(df.iloc[8:]), metrics(alone))
    assert not np.array_equal(metrics(df.iloc[:8]), metrics(alone))
    # a tuple is one name, not two; the parameter columns repeat per asset
    named = fastpar.sweep({("AAA", "1d"): ohlc, ("BBB", "1d"): other}, "rsi_threshold", RSI_GRID,
                          progress=False)
    assert list(named.asset) == [("AAA", "1d")] * 8 + [("BBB", "1d")] * 8
    assert list(named.period[:8]) == list(named.period[8:]) == list(alone.period)
    np.testing.assert_array_equal(metrics(named), metrics(df))


# ---- grid expansion ----

def test_grid_order_and_columns(ohlc):
    df = fastpar.sweep(ohlc, "rsi_threshold", RSI_GRID, progress=False)
    assert list(df.columns) == ["period", "low", "high", *METRICS]
    assert list(zip(df.period, df.low, df.high)) == [
        (p, lo, h) for p in [5, 14] for lo in [25, 30] for h in [70, 75]]
    assert df.period.dtype == np.int64 and df.low.dtype == np.float64
    assert df.n_trades.dtype == np.int64
    # the grid's key order sets the order of the rows, not of the columns
    df2 = fastpar.sweep(ohlc, "rsi_threshold", {"high": [70, 75], "period": [5, 14],
                                                "low": [25, 30]}, progress=False)
    assert list(df2.columns) == list(df.columns)
    assert list(zip(df2.high, df2.period, df2.low)) == [
        (h, p, lo) for h in [70, 75] for p in [5, 14] for lo in [25, 30]]


def test_scalars_ranges_and_kind(ohlc):
    df = fastpar.sweep(ohlc, "ma_cross", {"fast": 3, "slow": range(10, 31, 10), "kind": "EMA"},
                       progress=False)
    assert list(df.slow) == [10, 20, 30]
    assert list(df.kind) == ["ema"] * 3
    both = fastpar.sweep(ohlc, "ma_cross", {"fast": 3, "slow": 10, "kind": ["sma", "ema"]},
                         progress=False)
    assert not np.array_equal(metrics(both.iloc[[0]]), metrics(both.iloc[[1]]))


def test_impossible_combinations_are_skipped(ohlc):
    df = fastpar.sweep(ohlc, "rsi_threshold", {"period": 14, "low": [30, 70], "high": [50, 80]},
                       progress=False)
    assert list(zip(df.low, df.high)) == [(30, 50), (30, 80), (70, 80)]
    assert df.attrs["skipped"] == 1
    sets, skipped = expand_grid("ma_cross", {"fast": [5, 10, 20], "slow": [10, 20],
                                             "kind": "sma"})
    assert sets == [(5, 10, "sma"), (5, 20, "sma"), (10, 20, "sma")] and skipped == 3
    # equal thresholds or periods cannot trade either
    sets, skipped = expand_grid("rsi_threshold", {"period": 14, "low": [30, 70], "high": 70})
    assert sets == [(14, 30.0, 70.0)] and skipped == 1
    sets, skipped = expand_grid("ma_cross", {"fast": [5, 10], "slow": 10, "kind": "ema"})
    assert sets == [(5, 10, "ema")] and skipped == 1
    empty = fastpar.sweep(ohlc, "ma_cross", {"fast": 20, "slow": 10, "kind": "sma"},
                          progress=False)
    assert len(empty) == 0 and empty.attrs["skipped"] == 1
    assert list(empty.columns) == ["fast", "slow", "kind", *METRICS]


def test_run_sets_runs_any_subset(ohlc):
    """The seam for checkpoints and clusters: a slice of the sets gives the
    rows of the whole sweep."""
    from fastpar.sweep import _costs, bars_of

    full = fastpar.sweep(ohlc, "rsi_threshold", RSI_GRID, fees=0.001, progress=False)
    sets, _ = expand_grid("rsi_threshold", RSI_GRID)
    costs = _costs(0.001, 0.0, 0.0, None, None, "long", 252.0)
    part = run_sets(bars_of(ohlc, "rsi_threshold"), "rsi_threshold", sets[3:6], costs)
    np.testing.assert_array_equal(part, metrics(full)[3:6])


def test_threads_do_not_change_results(ohlc):
    grid = {"period": range(2, 30), "low": [20, 30], "high": [70, 80]}
    one = fastpar.sweep(ohlc, "rsi_threshold", grid, threads=1, progress=False)
    two = fastpar.sweep(ohlc, "rsi_threshold", grid, threads=2, progress=False)
    default = fastpar.sweep(ohlc, "rsi_threshold", grid, progress=False)
    np.testing.assert_array_equal(metrics(one), metrics(two))
    np.testing.assert_array_equal(metrics(one), metrics(default))


def test_costs_change_results(ohlc):
    base = fastpar.sweep(ohlc, "rsi_threshold", RSI_GRID, progress=False)
    for kw in [{"fees": 0.001}, {"slippage": 0.001}, {"spread": 0.05}, {"stop_loss": 0.02},
               {"take_profit": 0.02}, {"direction": "longshort"}]:
        other = fastpar.sweep(ohlc, "rsi_threshold", RSI_GRID, progress=False, **kw)
        assert not np.array_equal(metrics(base), metrics(other)), kw
    fees = fastpar.sweep(ohlc, "rsi_threshold", RSI_GRID, fees=0.001, progress=False)
    assert (fees.total_return < base.total_return).all()
    year = fastpar.sweep(ohlc, "rsi_threshold", RSI_GRID, periods_per_year=4 * 252,
                         progress=False)
    np.testing.assert_allclose(year.sharpe, 2 * base.sharpe, rtol=1e-12)


# ---- progress and Ctrl-C ----

def test_progress_bar(ohlc, capsys):
    fastpar.sweep({"a": ohlc, "b": ohlc}, "rsi_threshold", RSI_GRID, progress=True)
    err = capsys.readouterr().err
    assert "sweep rsi_threshold" in err and "16/16" in err


@pytest.mark.thread_unsafe(reason="sends SIGINT to the process")
@pytest.mark.parametrize("threads", [1, 2])
def test_ctrl_c_stops_a_sweep_and_the_pool_still_works(sigint_raises, threads):
    """SIGINT during a sweep that would run for tens of seconds raises
    KeyboardInterrupt within a second; the next sweep runs normally."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach the main thread only")
    rng = np.random.default_rng(1)
    data = {"close": 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, 1_000_000)))}
    grid = {"period": range(2, 202), "low": [20, 25, 30, 35, 40], "high": [60, 65]}

    def send():
        time.sleep(0.3)
        os.kill(os.getpid(), signal.SIGINT)

    sender = threading.Thread(target=send)
    sender.start()
    t0 = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        fastpar.sweep(data, "rsi_threshold", grid, threads=threads, progress=False)
    elapsed = time.perf_counter() - t0
    sender.join()
    assert elapsed < 1.5
    small = {"close": data["close"][:1000]}
    df = fastpar.sweep(small, "rsi_threshold", RSI_GRID, threads=threads, progress=False)
    assert len(df) == 8


# ---- errors ----

@pytest.mark.parametrize("grid, match", [
    ({}, "empty grid; rsi_threshold takes: period, low, high"),
    ({"period": [], "low": 30, "high": 70}, "no values for 'period'"),
    ({"period": 14, "low": 30, "high": 70, "width": 3},
     r"unknown parameter\(s\) 'width' for rsi_threshold; valid parameters: period, low, high"),
    ({"period": 14, "low": 30}, r"missing parameter\(s\) high"),
    ({"period": 1, "low": 30, "high": 70}, "period must be an integer >= 2, got 1"),
    ({"period": 2.5, "low": 30, "high": 70}, "period must be an integer >= 2, got 2.5"),
    ({"period": True, "low": 30, "high": 70}, "period must be an integer"),
    ({"period": 14, "low": 0, "high": 70}, r"low must be a number in \(0, 100\), got 0"),
    ({"period": 14, "low": 30, "high": float("nan")}, "high must be a number"),
    ({"period": 14, "low": "30", "high": 70}, "low must be a number"),
    ({"period": 10**7, "low": 30, "high": 70}, "at most"),
])
def test_bad_grids(ohlc, grid, match):
    with pytest.raises(ValueError, match=match):
        fastpar.sweep(ohlc, "rsi_threshold", grid, progress=False)


@pytest.mark.parametrize("grid, match", [
    ({"period": range(2, 10**9 + 2), "low": 30, "high": 70},
     r"the grid has 1,000,000,000 parameter sets \(period: 1,000,000,000 x low: 1 x high: 1 "
     r"values\), more than a sweep takes \(10,000,000, fastpar.sweep.MAX_SETS\)"),
    ({"period": range(2, 1002), "low": np.linspace(1, 49, 1000), "high": range(51, 1051)},
     r"the grid has 1,000,000,000 parameter sets \(period: 1,000 x low: 1,000 x high: 1,000"),
    ({"period": range(2, 1002), "low": (v for v in range(1, 100)),
      "high": np.linspace(51, 99, 200)},
     r"the grid has 19,800,000 parameter sets"),
])
@pytest.mark.thread_unsafe(reason="tracemalloc is process-wide, and a generator in a grid is read once")
def test_absurd_grids_are_refused_before_they_are_expanded(ohlc, grid, match):
    """A grid of a billion sets would fill memory with Python tuples: it is
    refused up front, naming its size and the limit, before any set is
    made (a range of a billion values is not even read)."""
    import tracemalloc

    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=match):
            expand_grid("rsi_threshold", grid)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10e6
    with pytest.raises(ValueError, match="MAX_SETS"):
        fastpar.sweep(ohlc, "rsi_threshold", {"period": range(2, 10**9), "low": 30, "high": 70},
                      progress=False)


def test_an_endless_grid_is_refused(monkeypatch):
    """An iterator without end is read up to the limit, then refused."""
    monkeypatch.setattr(sys.modules["fastpar.sweep"], "MAX_SETS", 1000)
    with pytest.raises(ValueError, match=r"the grid has more than 1,000 values for period"):
        expand_grid("rsi_threshold", {"period": itertools.count(2), "low": 30, "high": 70})


def test_backtests_over_the_limit_are_refused(ohlc, monkeypatch):
    """The limit holds for sets times assets, the rows of the result; a grid
    of exactly the limit is taken."""
    monkeypatch.setattr(sys.modules["fastpar.sweep"], "MAX_SETS", 8)
    assert len(expand_grid("rsi_threshold", RSI_GRID)[0]) == 8
    assert len(expand_grid("rsi_threshold", {**RSI_GRID, "low": iter([25, 30])})[0]) == 8
    with pytest.raises(ValueError, match=r"the grid has 12 parameter sets"):
        expand_grid("rsi_threshold", {**RSI_GRID, "low": [20, 25, 30]})
    with pytest.raises(ValueError, match=r"the grid has 12 parameter sets"):
        expand_grid("rsi_threshold", {**RSI_GRID, "low": iter([20, 25, 30])})
    monkeypatch.setattr(sys.modules["fastpar.sweep"], "MAX_SETS", 10)
    with pytest.raises(ValueError, match=r"8 parameter sets on 2 assets are 16 backtests, more "
                                         r"than a sweep takes \(10, fastpar.sweep.MAX_SETS\)"):
        fastpar.sweep({"a": ohlc, "b": ohlc}, "rsi_threshold", RSI_GRID, progress=False)
    assert len(fastpar.sweep(ohlc, "rsi_threshold", RSI_GRID, progress=False)) == 8


def test_bad_grid_values_per_strategy(ohlc):
    with pytest.raises(ValueError, match="kind must be 'sma' or 'ema', got 'wma'"):
        fastpar.sweep(ohlc, "ma_cross", {"fast": 3, "slow": 10, "kind": "wma"}, progress=False)
    with pytest.raises(ValueError, match=r"tail_ratio must be a number in \[0, 1\]"):
        expand_grid("bigbar", {"atr_period": 14, "k_atr": 1, "tail_ratio": 1.5, "breakout": 5,
                               "rsi_period": 14, "rsi_max": 70})
    with pytest.raises(ValueError, match="deviation must be a fraction > 0"):
        expand_grid("envelope", {"period": 10, "deviation": 0})
    with pytest.raises(TypeError, match="grid must be a dict"):
        expand_grid("envelope", [("period", 10)])


def test_unknown_strategy(ohlc):
    with pytest.raises(ValueError, match="unknown strategy 'macd'; valid strategies: "
                       "rsi_threshold, ma_cross, bbands_reversion, envelope, bigbar"):
        fastpar.sweep(ohlc, "macd", {"period": 3}, progress=False)


def test_bad_bars(ohlc):
    close = ohlc.Close.to_numpy().copy()
    close[17] = np.nan
    with pytest.raises(ValueError, match=r"data\['close'\] holds NaN or inf \(first at position 17\)"):
        fastpar.sweep({"close": close}, "rsi_threshold", RSI_GRID, progress=False)
    close[17] = np.inf
    with pytest.raises(ValueError, match="NaN or inf"):
        fastpar.sweep({"close": close}, "rsi_threshold", RSI_GRID, progress=False)
    bars = {"high": ohlc.High.to_numpy()[:-1], "low": ohlc.Low.to_numpy(),
            "close": ohlc.Close.to_numpy()}
    with pytest.raises(ValueError, match="column 'low' has 800 bars, 'high' has 799"):
        fastpar.sweep(bars, "bigbar", {"atr_period": 14, "k_atr": 1, "tail_ratio": 0.5,
                                       "breakout": 5, "rsi_period": 14, "rsi_max": 70},
                      progress=False)
    with pytest.raises(ValueError, match=r"data is missing column\(s\) close"):
        fastpar.sweep({"price": close}, "rsi_threshold", RSI_GRID, progress=False)
    with pytest.raises(ValueError, match="must be 1-D"):
        fastpar.sweep({"close": np.ones((3, 4))}, "rsi_threshold", RSI_GRID, progress=False)
    with pytest.raises(TypeError, match="must hold real numbers"):
        fastpar.sweep({"close": ["a", "b"]}, "rsi_threshold", RSI_GRID, progress=False)
    with pytest.raises(ValueError, match="data has no bars"):
        fastpar.sweep({"close": []}, "rsi_threshold", RSI_GRID, progress=False)
    with pytest.raises(ValueError, match="data is empty"):
        fastpar.sweep({}, "rsi_threshold", RSI_GRID, progress=False)
    with pytest.raises(TypeError, match="DataFrame or a dict"):
        fastpar.sweep(close, "rsi_threshold", RSI_GRID, progress=False)
    with pytest.raises(TypeError, match="not a mix"):
        fastpar.sweep({"a": ohlc, "close": close}, "rsi_threshold", RSI_GRID, progress=False)
    with pytest.raises(ValueError, match=r"data\['b'\] is missing column"):
        fastpar.sweep({"a": ohlc, "b": {"x": close}}, "rsi_threshold", RSI_GRID,
                      progress=False)


def test_spread_up_to_the_lowest_price():
    """Half the spread must stay below the lowest sell price: at it, a sell
    would fill at 0."""
    close = np.array([4.0, 5.0, 6.0, 5.0, 4.5, 5.5, 6.5, 5.0])
    grid = {"period": 2, "low": 30, "high": 70}
    assert len(fastpar.sweep({"close": close}, "rsi_threshold", grid, spread=7.99,
                             progress=False)) == 1
    with pytest.raises(ValueError, match=r"spread 8.0 is too large for data: half of it must "
                                         r"stay below the lowest sell price \(4.0\)"):
        fastpar.sweep({"close": close}, "rsi_threshold", grid, spread=8.0, progress=False)


def _close(n=60, seed=3):
    rng = np.random.default_rng(seed)
    return 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))


@pytest.mark.parametrize("price", [0.0, -1.5])
def test_prices_must_be_positive(price):
    """A zero or negative close used to be reported as a spread too large."""
    close = _close()
    close[7] = price
    with pytest.raises(ValueError, match=rf"data\['close'\] must hold prices > 0, position 7 "
                                         rf"is {price!r}"):
        fastpar.sweep({"close": close}, "rsi_threshold", RSI_GRID, progress=False)
    bars = {"high": _close() * 1.01, "low": _close() * 0.99, "close": _close()}
    bars["low"][3] = price
    with pytest.raises(ValueError, match=r"data\['low'\] must hold prices > 0, position 3"):
        fastpar.sweep(bars, "bigbar", BIGBAR, progress=False)


@pytest.mark.parametrize("values, dtype", [
    (["101.5", "102.0", "99.0"] * 20, "<U5"),
    (np.array([101.5 + 1j, 102.0, 99.0] * 20), "complex128"),
    ([True, False, True] * 20, "bool"),
    ([101.5, None, 99.0] * 20, "object"),
])
def test_closes_must_be_real_numbers(values, dtype):
    """Text and complex closes used to be converted silently (the imaginary
    part dropped)."""
    with pytest.raises(TypeError, match=rf"data\['close'\] must hold real numbers \(int or "
                                        rf"float\), got dtype {dtype}"):
        fastpar.sweep({"close": values}, "rsi_threshold", RSI_GRID, progress=False)
    # integers, float32 and pandas' nullable dtypes are numbers
    df = fastpar.sweep({"close": pd.Series(np.round(_close()), dtype="Int64")}, "rsi_threshold",
                       RSI_GRID, progress=False)
    assert len(df) == 8


BIGBAR = {"atr_period": 5, "k_atr": 1.0, "tail_ratio": 0.5, "breakout": 3, "rsi_period": 5,
          "rsi_max": 70}


def test_high_below_low_is_refused():
    close = _close()
    bars = {"high": close * 1.01, "low": close * 0.99, "close": close}
    bars["high"][11] = bars["low"][11] - 0.01
    with pytest.raises(ValueError, match=r"data: high < low at position 11 \(high "):
        fastpar.sweep(bars, "bigbar", BIGBAR, progress=False)


@pytest.mark.parametrize("strategy, grid, need", [
    ("rsi_threshold", {"period": [5, 60], "low": 30, "high": 70}, "period=60, low=30.0, "
                                                                 "high=70.0 needs at least 61"),
    ("ma_cross", {"fast": 3, "slow": [10, 61], "kind": "sma"}, "slow=61, kind='sma' needs at "
                                                                "least 61"),
    ("bbands_reversion", {"period": [5, 61], "nbdev": 2.0}, "period=61, nbdev=2.0 needs at least "
                                                            "61"),
    ("envelope", {"period": [61], "deviation": 0.01}, "needs at least 61"),
    ("bigbar", dict(BIGBAR, atr_period=[5, 59]), "atr_period=59, .* needs at least 61"),
    ("bigbar", dict(BIGBAR, breakout=60), "breakout=60, .* needs at least 61"),
])
def test_a_period_longer_than_the_data_is_refused(strategy, grid, need):
    """A set whose indicators are not defined within the data can never
    trade: refused, naming the set, the bars it needs and those there are
    (it used to give a row without trades). One bar fewer than needed is
    refused, exactly enough is not."""
    close = _close(60)
    bars = {"high": close * 1.01, "low": close * 0.99, "close": close}
    with pytest.raises(ValueError, match=rf"{strategy}: the set .*{need} bars to give a signal "
                                         rf"\(the warm-up of its indicators\), data has 60"):
        fastpar.sweep(bars, strategy, grid, progress=False)
    longer = {k: np.concatenate([v, v[-1:]]) for k, v in bars.items()}
    assert len(fastpar.sweep(longer, strategy, grid, progress=False)) > 0
    with pytest.raises(ValueError, match=r"data\['short'\] has 60"):
        fastpar.sweep({"long": longer, "short": bars}, strategy, grid, progress=False)


def test_a_dict_of_series_is_not_several_assets(ohlc):
    """A dict's keys are column names: a dict of one series per asset is
    refused with a hint at the shape for several assets."""
    with pytest.raises(ValueError, match=r"missing column\(s\) close .*\(has: AAA, BBB\); a dict "
                                         r"is one asset's columns .* for several assets give "
                                         r"\{asset: DataFrame or dict of columns\}"):
        fastpar.sweep({"AAA": ohlc.Close, "BBB": ohlc.Close}, "rsi_threshold", RSI_GRID,
                      progress=False)


def test_bars_must_be_in_time_order(ohlc):
    """A DatetimeIndex that goes back in time (a file sorted newest first)
    would run the bars backwards: refused."""
    timed = ohlc.set_index(pd.date_range("2024-01-01", periods=len(ohlc), freq="D"))
    assert len(fastpar.sweep(timed, "rsi_threshold", RSI_GRID, progress=False)) == 8
    with pytest.raises(ValueError, match=r"data: its DatetimeIndex is not in time order "
                                         r"\(position 1 is earlier than position 0\); sort it"):
        fastpar.sweep(timed.iloc[::-1], "rsi_threshold", RSI_GRID, progress=False)
    close = timed.Close.copy()
    close.index = close.index[[*range(10), 11, 10, *range(12, len(close))]]
    with pytest.raises(ValueError, match=r"data\['close'\]: its DatetimeIndex .*position 11 is "
                                         r"earlier than position 10"):
        fastpar.sweep({"close": close}, "rsi_threshold", RSI_GRID, progress=False)


def test_masked_values_are_refused():
    close = np.ma.masked_array(_close(), mask=False)
    assert len(fastpar.sweep({"close": close}, "rsi_threshold", RSI_GRID, progress=False)) == 8
    close[[4, 9]] = np.ma.masked
    with pytest.raises(ValueError, match=r"data\['close'\] is a masked array with 2 masked "
                                         r"value\(s\); fastpar does not read masks"):
        fastpar.sweep({"close": close}, "rsi_threshold", RSI_GRID, progress=False)


@pytest.mark.parametrize("kw, exc, match", [
    ({"fees": -0.1}, ValueError, r"fees must be in \[0, 1\)"),
    ({"fees": "0.1"}, TypeError, "fees must be a number"),
    ({"fees": 10**400}, ValueError, r"fees must be in \[0, 1\)"),  # beyond a double's range
    ({"slippage": 1.0}, ValueError, "slippage"),
    ({"spread": -1}, ValueError, "spread must be >= 0"),
    ({"spread": 1000.0}, ValueError, "spread 1000.0 is too large"),
    ({"stop_loss": 0}, ValueError, "stop_loss must be None or a fraction > 0"),
    ({"take_profit": -0.1}, ValueError, "take_profit"),
    ({"direction": "short"}, ValueError, "direction must be 'long' or 'longshort'"),
    ({"periods_per_year": 0}, ValueError, "periods_per_year must be > 0"),
    ({"threads": 0}, ValueError, "threads must be None or in"),
])
def test_bad_costs_and_threads(ohlc, kw, exc, match):
    with pytest.raises(exc, match=match):
        fastpar.sweep(ohlc, "rsi_threshold", RSI_GRID, progress=False, **kw)


def test_sweep_results_and_inputs_hold_no_extra_reference():
    """The glue's result array is held by its variable alone, and the bars,
    parameters and progress counter keep their counts (fresh arrays)."""
    from fastpar import _fastpar

    c = np.linspace(1.0, 2.0, 300) + 0.1 * np.sin(np.arange(300.0))
    params = np.array([[2.0, 30.0, 70.0], [5.0, 25.0, 75.0]])
    counter = np.zeros(1, dtype=np.int64)
    args = (0, None, None, c, params, 0.0, 0.0, 0.0, np.nan, np.nan, False, 252.0, 1, counter)
    before = [sys.getrefcount(a) for a in (c, params, counter)]
    out = _fastpar.sweep(*args)
    assert sys.getrefcount(out) == 2
    several = _fastpar.sweep(0, None, None, (c, c), params, *args[5:])
    assert sys.getrefcount(several) == 2
    assert [sys.getrefcount(a) for a in (c, params, counter)] == before


def test_private_entry_point_guards():
    """_fastpar.sweep itself refuses misuse with exceptions, never a crash."""
    from fastpar import _fastpar

    c = np.linspace(1.0, 2.0, 50)
    ok = np.array([[2.0, 30.0, 70.0]])
    rest = (0.0, 0.0, 0.0, np.nan, np.nan, False, 252.0, 1, None)
    cases = [
        ((7, None, None, c, ok, *rest), ValueError, "unknown strategy number 7"),
        ((4, None, None, c, np.zeros((1, 6)), *rest), ValueError, "needs high and low"),
        ((0, None, None, c, np.array([[1.0, 30, 70]]), *rest), ValueError, "invalid parameter"),
        ((0, None, None, c, ok, -1.0, *rest[1:]), ValueError, "invalid parameter set, costs"),
        ((0, c[:3], None, c, ok, *rest), ValueError, "high has 3 bars, close has 50"),
        ((0, None, None, c[::2], ok, *rest), TypeError, "close must be an aligned"),
        ((0, None, None, c, ok[:, :2], *rest), TypeError, "params must be"),
        ((0, None, None, c, ok, *rest[:-1], np.zeros(2)), TypeError, "progress must be"),
        ((0, None, None, c, ok), TypeError, "takes 14 arguments"),
        # several assets: tuples of one array per asset
        ((0, None, None, (), ok, *rest), TypeError, "close is a non-empty tuple"),
        ((0, (c,), None, (c, c), ok, *rest), TypeError, "tuples of the same length"),
        ((0, None, None, (c, None), ok, *rest), TypeError, "close of asset 1 is required"),
        ((0, None, None, (c, c[::2]), ok, *rest), TypeError, "close must be an aligned"),
        ((4, (c, c), (c, None), (c, c), np.zeros((1, 6)), *rest), ValueError,
         "needs high and low of asset 1"),
        ((0, None, None, (c, np.r_[c[:9], np.nan, c[10:]]), ok, *rest), ValueError,
         r"bars of asset 1 contain NaN or inf"),
    ]
    for args, exc, match in cases:
        with pytest.raises(exc, match=match):
            _fastpar.sweep(*args)
    counter = np.zeros(1, dtype=np.int64)
    out = _fastpar.sweep(0, None, None, c, np.repeat(ok, 3, axis=0), *rest[:-1], counter)
    assert out.shape == (3, 7) and counter[0] == 3
    # assets of different lengths in one job: each asset's rows as if alone
    d = np.linspace(2.0, 1.0, 80) + 0.1 * np.sin(np.arange(80.0))
    both = _fastpar.sweep(0, None, None, (c, d), np.repeat(ok, 3, axis=0), *rest[:-1], counter)
    alone = _fastpar.sweep(0, None, None, d, np.repeat(ok, 3, axis=0), *rest)
    assert both.shape == (6, 7) and counter[0] == 6
    np.testing.assert_array_equal(both[:3], out)
    np.testing.assert_array_equal(both[3:], alone)
