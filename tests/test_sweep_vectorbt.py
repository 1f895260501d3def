"""fastpar.sweep against vectorbt, the oracle for the fill model.

Whole grids on seeded random walks: vectorbt's ``Portfolio.from_signals``
gets entries and exits built from TA-Lib's indicators (not from fastpar),
one column per parameter set, and must give the same total return, number
of trades, max drawdown, win rate and profit factor (to 1e-9), and per-bar
returns whose Sharpe ratio is fastpar's. Long-only, long/short
(``direction="both"``) and stops (``sl_stop`` / ``tp_stop``). Then every
strategy on harder bars: flat stretches, prices on a tick grid, jumps, at
price levels from 0.01 to 50,000; and accounts nearly wiped out, whose
trades are worth less than 1e-12. The spread has no vectorbt counterpart:
tests/test_strategies.py covers it against the reference.
"""

import numpy as np
import pytest

import fastpar

vbt = pytest.importorskip("vectorbt")
talib = pytest.importorskip("talib")
pd = pytest.importorskip("pandas")

from market_data import MODES, hard_bars, walk  # noqa: E402,F401  (test_backtest_vectorbt too)


def compare(df, close, entries, exits, vbt_kwargs):
    """One vectorbt portfolio over all the sets (columns), against df's rows."""
    pf = vbt.Portfolio.from_signals(
        pd.Series(close), pd.DataFrame(np.column_stack(entries)),
        pd.DataFrame(np.column_stack(exits)), **vbt_kwargs)
    trades = pf.trades
    expected = {
        "total_return": pf.total_return().to_numpy(),
        "n_trades": trades.count().to_numpy(),
        "max_drawdown": pf.max_drawdown().to_numpy(),
        "win_rate": trades.win_rate().to_numpy(),
        "profit_factor": trades.profit_factor().to_numpy(),
    }
    assert (expected["n_trades"] > 0).mean() > 0.25  # a good part of the grid trades
    for name, want in expected.items():
        np.testing.assert_allclose(df[name].to_numpy(float), want, rtol=1e-9, atol=1e-12,
                                   err_msg=name)
    returns = pf.returns().to_numpy()
    with np.errstate(invalid="ignore"):  # sets that never trade: 0 / 0, NaN as ours
        sharpe = returns.mean(axis=0) / returns.std(axis=0, ddof=1) * np.sqrt(252.0)
    np.testing.assert_allclose(df["sharpe"].to_numpy(), sharpe, rtol=1e-9, err_msg="sharpe")


@pytest.fixture(scope="module")
def data():
    return walk(1500, 2024)


@pytest.mark.parametrize("mode", list(MODES))
def test_rsi_threshold_full_grid(data, mode):
    ours, theirs = MODES[mode]
    grid = {"period": range(2, 51), "low": [20, 25, 30], "high": [70, 75, 80]}
    df = fastpar.sweep(data, "rsi_threshold", grid, progress=False, **ours)
    assert len(df) == 49 * 9
    close = data["close"]
    rsi = {p: talib.RSI(close, p) for p in grid["period"]}
    entries = [rsi[r.period] < r.low for r in df.itertuples()]
    exits = [rsi[r.period] > r.high for r in df.itertuples()]
    compare(df, close, entries, exits, theirs)


@pytest.mark.parametrize("mode", list(MODES))
def test_ma_cross_grid(data, mode):
    ours, theirs = MODES[mode]
    grid = {"fast": [2, 3, 5, 8, 10], "slow": [10, 15, 20, 30, 40], "kind": ["sma", "ema"]}
    df = fastpar.sweep(data, "ma_cross", grid, progress=False, **ours)
    assert df.attrs["skipped"] == 2  # fast 10, slow 10, for each kind
    close = data["close"]
    ma = {"sma": talib.SMA, "ema": talib.EMA}
    entries, exits = [], []
    for r in df.itertuples():
        fast, slow = ma[r.kind](close, r.fast), ma[r.kind](close, r.slow)
        entries.append(fast > slow)
        exits.append(fast < slow)
    compare(df, close, entries, exits, theirs)


@pytest.mark.parametrize("mode", ["long", "longshort_stops"])
def test_bbands_reversion_grid(data, mode):
    ours, theirs = MODES[mode]
    grid = {"period": [5, 10, 20, 40], "nbdev": [0.5, 1.0, 1.5, 2.0]}
    df = fastpar.sweep(data, "bbands_reversion", grid, progress=False, **ours)
    close = data["close"]
    entries, exits = [], []
    for r in df.itertuples():
        upper, middle, lower = talib.BBANDS(close, r.period, r.nbdev, r.nbdev, 0)
        entries.append(close < lower)
        exits.append(close > middle)
    compare(df, close, entries, exits, theirs)


@pytest.mark.parametrize("mode", ["long", "longshort"])
def test_envelope_grid(data, mode):
    ours, theirs = MODES[mode]
    grid = {"period": [1, 5, 10, 20, 50], "deviation": [0.002, 0.01, 0.02]}
    df = fastpar.sweep(data, "envelope", grid, progress=False, **ours)
    close = data["close"]
    entries, exits = [], []
    for r in df.itertuples():
        sma = talib.SMA(close, r.period)
        entries.append(close < sma * (1 - r.deviation))
        exits.append(close > sma * (1 + r.deviation))
    compare(df, close, entries, exits, theirs)


@pytest.mark.parametrize("mode", ["long", "stops"])
def test_bigbar_grid(data, mode):
    ours, theirs = MODES[mode]
    grid = {"atr_period": [5, 14], "k_atr": [0.6, 1.0], "tail_ratio": [0.3, 0.6],
            "breakout": [3, 10], "rsi_period": [14], "rsi_max": [70, 100]}
    df = fastpar.sweep(data, "bigbar", grid, progress=False, **ours)
    h, lo, c = data["high"], data["low"], data["close"]
    entries, exits = [], []
    for r in df.itertuples():
        atr_before = pd.Series(talib.ATR(h, lo, c, r.atr_period)).shift(1).to_numpy()
        highest = pd.Series(h).rolling(r.breakout).max().shift(1).to_numpy()
        lowest = pd.Series(lo).rolling(r.breakout).min().shift(1).to_numpy()
        rsi = talib.RSI(c, r.rsi_period)
        rng = h - lo
        entries.append((rng > r.k_atr * atr_before) & (c >= lo + r.tail_ratio * rng)
                       & (c > highest) & (rsi <= r.rsi_max))
        exits.append(c < lowest)
    if mode == "long":
        # the entry rule is selective: make sure some sets do trade
        assert sum(e.any() for e in entries) > len(entries) // 2
    pf_kwargs = dict(theirs)
    pf = vbt.Portfolio.from_signals(pd.Series(c), pd.DataFrame(np.column_stack(entries)),
                                    pd.DataFrame(np.column_stack(exits)), **pf_kwargs)
    np.testing.assert_allclose(df.total_return.to_numpy(), pf.total_return().to_numpy(),
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(df.n_trades.to_numpy(), pf.trades.count().to_numpy())
    np.testing.assert_allclose(df.max_drawdown.to_numpy(), pf.max_drawdown().to_numpy(),
                               rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("seed", [1, 2, 4])
def test_ruinous_long_short(seed):
    """Wild prices, heavy costs, long/short: accounts that go negative (a
    short losing more than everything) or shrink below vectorbt's minimum
    order size still match, trade counts and drawdowns included."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, [0.03, 0.06][seed % 2], 2000)))
    grid = {"period": range(2, 30, 3), "low": [20, 30, 45], "high": [55, 70, 80]}
    df = fastpar.sweep({"close": close}, "rsi_threshold", grid, fees=0.01, slippage=0.005,
                       direction="longshort", progress=False)
    rsi = {p: talib.RSI(close, p) for p in grid["period"]}
    entries = [rsi[r.period] < r.low for r in df.itertuples()]
    exits = [rsi[r.period] > r.high for r in df.itertuples()]
    assert (df.max_drawdown < -0.999).any()  # some accounts are (nearly) wiped out
    compare(df, close, entries, exits, {"fees": 0.01, "slippage": 0.005, "direction": "both"})


def talib_signals(strategy, data, r):
    """Entries and exits of the set `r` (a result row) from TA-Lib's
    indicators, as docs/sweeps.md defines the strategy."""
    c = data["close"]
    if strategy == "rsi_threshold":
        rsi = talib.RSI(c, r.period)
        return rsi < r.low, rsi > r.high
    if strategy == "ma_cross":
        ma = {"sma": talib.SMA, "ema": talib.EMA}[r.kind]
        fast, slow = ma(c, r.fast), ma(c, r.slow)
        return fast > slow, fast < slow
    if strategy == "bbands_reversion":
        upper, middle, lower = talib.BBANDS(c, r.period, r.nbdev, r.nbdev, 0)
        return c < lower, c > middle
    if strategy == "envelope":
        sma = talib.SMA(c, r.period)
        return c < sma * (1 - r.deviation), c > sma * (1 + r.deviation)
    h, lo = data["high"], data["low"]
    atr_before = pd.Series(talib.ATR(h, lo, c, r.atr_period)).shift(1).to_numpy()
    highest = pd.Series(h).rolling(r.breakout).max().shift(1).to_numpy()
    lowest = pd.Series(lo).rolling(r.breakout).min().shift(1).to_numpy()
    rng = h - lo
    entries = ((rng > r.k_atr * atr_before) & (c >= lo + r.tail_ratio * rng) & (c > highest)
               & (talib.RSI(c, r.rsi_period) <= r.rsi_max))
    return entries, c < lowest


HARD_GRIDS = {
    "rsi_threshold": {"period": [2, 3, 5, 14, 30], "low": [20, 30, 50], "high": [50, 70, 80]},
    "ma_cross": {"fast": [1, 2, 5, 10], "slow": [3, 10, 20, 50], "kind": ["sma", "ema"]},
    "bbands_reversion": {"period": [2, 5, 20, 50], "nbdev": [0.5, 1.0, 2.0, 3.0]},
    "envelope": {"period": [1, 5, 20, 50], "deviation": [0.001, 0.01, 0.03]},
    "bigbar": {"atr_period": [3, 14], "k_atr": [0.5, 1.0], "tail_ratio": [0.0, 0.5],
               "breakout": [1, 5], "rsi_period": [2, 14], "rsi_max": [60, 100]},
}


@pytest.mark.parametrize("level", [0.01, 1.0, 100.0, 50_000.0])
@pytest.mark.parametrize("strategy", list(HARD_GRIDS))
def test_every_strategy_on_hard_bars(strategy, level):
    """Flat stretches (a Bollinger deviation of exactly 0, RSI's 0/0),
    prices on a tick grid (ties at every threshold), jumps, and price
    levels from 0.01 to 50,000: every set as vectorbt, long-only and
    long/short with stops."""
    data = hard_bars(level, 7)
    for mode in ["long", "longshort_stops"]:
        ours, theirs = MODES[mode]
        df = fastpar.sweep(data, strategy, HARD_GRIDS[strategy], progress=False, **ours)
        entries, exits = zip(*(talib_signals(strategy, data, r) for r in df.itertuples()))
        compare(df, data["close"], entries, exits, theirs)


def test_bollinger_band_on_a_flat_stretch():
    """30 prices on a cent grid, then 25 equal closes: TA-Lib's deviation of
    the flat windows is exactly 0, so the lower band is the close itself
    and never lies above it; a deviation from running sums of squares is
    not 0 there, and the trade came out differently."""
    rng = np.random.default_rng(72)
    cents = np.round(100 * np.exp(np.cumsum(rng.normal(0, 0.01, 30))), 2)
    close = np.concatenate([cents, np.full(25, cents[-1])])
    df = fastpar.sweep({"close": close}, "bbands_reversion", {"period": 20, "nbdev": 2.0},
                       progress=False)
    upper, middle, lower = talib.BBANDS(close, 20, 2.0, 2.0, 0)
    assert (talib.STDDEV(close, 20)[-6:] == 0.0).all()
    pf = vbt.Portfolio.from_signals(pd.Series(close), pd.Series(close < lower),
                                    pd.Series(close > middle))
    assert pf.trades.count() == 1
    assert df.n_trades[0] == 1
    assert df.total_return[0] == pytest.approx(pf.total_return(), rel=1e-12)


# mode: (seed, drift, our costs, vectorbt's, trades worth less than 1e-10 at least)
WIPED_OUT = {
    "longshort-stops": (1, 0.0, {"stop_loss": 0.1, "take_profit": 0.1, "direction": "longshort"},
                        {"sl_stop": 0.1, "tp_stop": 0.1, "direction": "both"}, 100),
    "long": (1, -0.01, {}, {}, 40),
    # a short whose debt falls within 1e-12 of 0 before it is covered
    "longshort-falling": (6, -0.01, {"stop_loss": 0.1, "take_profit": 0.1,
                                     "direction": "longshort"},
                          {"sl_stop": 0.1, "tp_stop": 0.1, "direction": "both"}, 50),
}


@pytest.mark.parametrize("fees", [0.0, 0.01])
@pytest.mark.parametrize("mode", list(WIPED_OUT))
def test_nearly_wiped_out_accounts(mode, fees):
    """Series that fall from 0.01 to 1e-11 and below: accounts shrink to
    1e-12 and below (and long/short ones dip under 0). Trades worth less
    than 1e-12 have a P&L of 0 for vectorbt (neither won nor lost);
    balances within 1e-12 of 0 are 0 when it decides an order (a buy with
    such cash is not placed), and a cover that costs less than 1e-12 fills
    with no cash. Trade counts, win rates and all the other metrics as
    vectorbt's."""
    seed, drift, ours, theirs, n_tiny = WIPED_OUT[mode]
    ours, theirs = {"fees": fees, **ours}, {"fees": fees, **theirs}
    rng = np.random.default_rng(seed)
    close = 0.01 * np.exp(np.cumsum(rng.normal(drift, 0.3, 2000)))
    grid = {"period": range(2, 30, 3), "low": [20, 30, 45], "high": [55, 70, 80]}
    df = fastpar.sweep({"close": close}, "rsi_threshold", grid, progress=False, **ours)
    rsi = {p: talib.RSI(close, p) for p in grid["period"]}
    entries = [rsi[r.period] < r.low for r in df.itertuples()]
    exits = [rsi[r.period] > r.high for r in df.itertuples()]
    pf = vbt.Portfolio.from_signals(pd.Series(close), pd.DataFrame(np.column_stack(entries)),
                                    pd.DataFrame(np.column_stack(exits)), **theirs)
    trades = pf.trades.records
    tiny = np.abs(trades["size"] * trades["entry_price"]) < 1e-10
    assert tiny.sum() > n_tiny  # not vacuous: many trades worth almost nothing
    if mode != "long":
        assert (df.max_drawdown < -1).any()  # accounts below 0
    compare(df, close, entries, exits, theirs)


def test_stops_at_their_level_exactly_as_vectorbt():
    """Closes that reach a stop's level exactly (tests/test_strategies.py's
    EXACT_STOPS): vectorbt stops there too, with the same result."""
    from test_strategies import EXACT_STOPS

    for case, (close, stops, (low, high), direction, want, _) in EXACT_STOPS.items():
        close = np.array(close, dtype=float)
        df = fastpar.sweep({"close": close}, "rsi_threshold",
                           {"period": 2, "low": low, "high": high}, direction=direction,
                           progress=False, **stops)
        rsi = talib.RSI(close, 2)
        pf = vbt.Portfolio.from_signals(
            pd.Series(close), pd.Series(rsi < low), pd.Series(rsi > high),
            sl_stop=stops.get("stop_loss", np.nan), tp_stop=stops.get("take_profit", np.nan),
            direction={"long": "longonly", "longshort": "both"}[direction])
        assert pf.trades.count() == df.n_trades[0] == 1, case
        assert pf.total_return() == pytest.approx(want, abs=1e-12) == df.total_return[0], case


def test_thresholds_hit_exactly_as_vectorbt():
    """tests/test_strategies.py's EXACT_THRESHOLDS: TA-Lib's indicator
    lands on the threshold too, and vectorbt trades as fastpar."""
    from test_strategies import EXACT_THRESHOLDS

    for case, (close, strategy, grid, want, _) in EXACT_THRESHOLDS.items():
        close = np.array(close, dtype=float)
        df = fastpar.sweep({"close": close}, strategy, grid, progress=False)
        (entries, exits), = [talib_signals(strategy, {"close": close}, r)
                             for r in df.itertuples()]
        pf = vbt.Portfolio.from_signals(pd.Series(close), pd.Series(entries), pd.Series(exits))
        assert pf.trades.count() == df.n_trades[0] == 1, case
        assert pf.total_return() == pytest.approx(want, abs=1e-12) == df.total_return[0], case
