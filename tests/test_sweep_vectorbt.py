"""fastpar.sweep against vectorbt, the oracle for the fill model.

Whole grids on seeded random walks: vectorbt's ``Portfolio.from_signals``
gets entries and exits built from TA-Lib's indicators (not from fastpar),
one column per parameter set, and must give the same total return, number
of trades, max drawdown, win rate and profit factor (to 1e-9), and per-bar
returns whose Sharpe ratio is fastpar's. Long-only, long/short
(``direction="both"``) and stops (``sl_stop`` / ``tp_stop``). The spread
has no vectorbt counterpart: tests/test_strategies.py covers it against
the reference.
"""

import numpy as np
import pytest

import fastpar

vbt = pytest.importorskip("vectorbt")
talib = pytest.importorskip("talib")
pd = pytest.importorskip("pandas")


def walk(n, seed):
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.015, n)))
    high = close * (1.0 + rng.uniform(0.0, 0.02, n))
    low = close * (1.0 - rng.uniform(0.0, 0.02, n))
    return {"close": close, "high": high, "low": low}


MODES = {
    "long": ({"fees": 0.001, "slippage": 0.0005}, {"fees": 0.001, "slippage": 0.0005}),
    "long_nofees": ({}, {}),
    "longshort": (
        {"fees": 0.002, "slippage": 0.001, "direction": "longshort"},
        {"fees": 0.002, "slippage": 0.001, "direction": "both"},
    ),
    "stops": (
        {"fees": 0.001, "stop_loss": 0.03, "take_profit": 0.05},
        {"fees": 0.001, "sl_stop": 0.03, "tp_stop": 0.05},
    ),
    "longshort_stops": (
        {"fees": 0.001, "slippage": 0.0005, "stop_loss": 0.04, "take_profit": 0.06,
         "direction": "longshort"},
        {"fees": 0.001, "slippage": 0.0005, "sl_stop": 0.04, "tp_stop": 0.06,
         "direction": "both"},
    ),
}


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
