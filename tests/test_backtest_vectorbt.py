"""fastpar.backtest against vectorbt's Portfolio.from_signals, the oracle.

The same signal arrays go to both: random signals of every density (many
bars with an entry and an exit at once, repeated signals, signals on the
first and last bar), and TA-Lib RSI thresholds; on random walks, on bars
with flat stretches, tick-grid prices and jumps at price levels from 0.01
to 50,000, and on closes that hit a stop's level exactly. Long-only,
long/short (``direction="both"``), stops (``sl_stop`` / ``tp_stop``):
total return, trade count, max drawdown, win rate and profit factor to
1e-9, and the Sharpe ratio of vectorbt's returns. The conventions (costs,
metrics, modes) are those of tests/test_sweep_vectorbt.py.
"""

import numpy as np
import pytest

import fastpar

vbt = pytest.importorskip("vectorbt")
talib = pytest.importorskip("talib")
pd = pytest.importorskip("pandas")

from test_sweep_vectorbt import MODES, hard_bars, walk  # noqa: E402


def compare(df, close, entries, exits, vbt_kwargs, min_trading=0.5):
    """One vectorbt portfolio over all the columns, against df's rows."""
    pf = vbt.Portfolio.from_signals(pd.Series(close) if close.ndim == 1 else pd.DataFrame(close),
                                    pd.DataFrame(entries), pd.DataFrame(exits), **vbt_kwargs)
    trades = pf.trades
    expected = {
        "total_return": pf.total_return().to_numpy(),
        "n_trades": trades.count().to_numpy(),
        "max_drawdown": pf.max_drawdown().to_numpy(),
        "win_rate": trades.win_rate().to_numpy(),
        "profit_factor": trades.profit_factor().to_numpy(),
    }
    assert (expected["n_trades"] > 0).mean() >= min_trading  # not vacuous
    for name, want in expected.items():
        np.testing.assert_allclose(df[name].to_numpy(float), want, rtol=1e-9, atol=1e-12,
                                   err_msg=name)
    returns = pf.returns().to_numpy()
    with np.errstate(invalid="ignore"):  # columns that never trade: 0 / 0, NaN as ours
        sharpe = returns.mean(axis=0) / returns.std(axis=0, ddof=1) * np.sqrt(252.0)
    np.testing.assert_allclose(df["sharpe"].to_numpy(), sharpe, rtol=1e-9, err_msg="sharpe")


def random_signals(rng, n, k):
    """k columns, each of its own density; the first and last bar always
    carry some signals."""
    density = rng.uniform(0.005, 0.35, k)
    entries, exits = rng.random((n, k)) < density, rng.random((n, k)) < density
    for a in (entries, exits):
        a[[0, -1], ::3] = True
    return entries, exits


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("seed", [1, 2])
def test_random_signals_on_a_random_walk(mode, seed):
    ours, theirs = MODES[mode]
    close = walk(2000, seed)["close"]
    entries, exits = random_signals(np.random.default_rng(seed), 2000, 48)
    assert (entries & exits).sum() > 1000  # many bars with both
    compare(fastpar.backtest(close, entries, exits, **ours), close, entries, exits, theirs)


@pytest.mark.parametrize("level", [0.01, 1.0, 100.0, 50_000.0])
def test_hard_bars(level):
    """Flat stretches, prices on a tick grid, jumps, levels 0.01 to 50,000:
    random signals and TA-Lib RSI thresholds, every mode."""
    close = hard_bars(level, 7)["close"]
    rng = np.random.default_rng(int(level * 100))
    e, x = random_signals(rng, len(close), 24)
    rsi = [talib.RSI(close, p) for p in (2, 5, 14)]
    e = np.column_stack([e] + [r < low for r in rsi for low in (20, 35)])
    x = np.column_stack([x] + [r > high for r in rsi for high in (65, 80)])
    for mode in MODES:
        ours, theirs = MODES[mode]
        compare(fastpar.backtest(close, e, x, **ours), close, e, x, theirs)


def test_several_closes_at_once():
    """A 2-D close, one asset per column, with one signal series each."""
    closes = np.column_stack([hard_bars(level, 3)["close"] for level in (0.01, 1.0, 500.0)])
    rng = np.random.default_rng(3)
    e, x = random_signals(rng, len(closes), 3)
    ours, theirs = MODES["longshort_stops"]
    compare(fastpar.backtest(closes, e, x, **ours), closes, e, x, theirs)


# (close, entries, exits, our stops and direction, vectorbt's): a stop's
# level hit exactly as a double (10 * 0.75, 10 * 1.5, 8 * 1.25, 8 * 0.5).
EXACT = {
    "long stop-loss": ([10, 9, 7.5, 9, 8], [1, 0, 0, 0, 0], [0, 0, 0, 0, 0],
                       {"stop_loss": 0.25}, {"sl_stop": 0.25}),
    "long take-profit": ([10, 12, 15, 14, 16], [1, 0, 0, 0, 0], [0, 0, 0, 0, 0],
                         {"take_profit": 0.5}, {"tp_stop": 0.5}),
    "short stop-loss": ([8, 9, 10, 9, 8], [0, 0, 0, 0, 0], [1, 0, 0, 0, 0],
                        {"stop_loss": 0.25, "direction": "longshort"},
                        {"sl_stop": 0.25, "direction": "both"}),
    "short take-profit": ([8, 6, 4, 5, 3], [0, 0, 0, 0, 0], [1, 0, 0, 0, 0],
                          {"take_profit": 0.5, "direction": "longshort"},
                          {"tp_stop": 0.5, "direction": "both"}),
    # an entry on the stop's bar is ignored by both
    "entry on the stop bar": ([10, 9, 7.5, 9, 10], [1, 0, 1, 0, 0], [0, 0, 0, 0, 0],
                              {"stop_loss": 0.25}, {"sl_stop": 0.25}),
    # a short wiped out to exactly 0, then back: vectorbt's drawdown is NaN
    "account back from 0": ([0.25, 0.25, 0.5, 0.25, 0.3], [0, 0, 0, 0, 0], [0, 1, 0, 0, 0],
                            {"direction": "longshort"}, {"direction": "both"}),
    # a reversal on the bar after a stop
    "reverse after a stop": ([10, 9, 7.5, 9, 10], [1, 0, 0, 0, 0], [0, 0, 0, 1, 0],
                             {"stop_loss": 0.25, "direction": "longshort"},
                             {"sl_stop": 0.25, "direction": "both"}),
}


@pytest.mark.parametrize("case", list(EXACT))
def test_stops_hit_exactly_as_vectorbt(case):
    close, e, x, ours, theirs = EXACT[case]
    close = np.array(close, float)
    e, x = np.array(e, bool)[:, None], np.array(x, bool)[:, None]
    df = fastpar.backtest(close, e, x, **ours)
    compare(df, close, e, x, theirs, min_trading=1.0)
    assert df.exposure[0] < 1.0  # the stop fired


def test_the_docs_example():
    """docs/backtest.md's example, as written: RSI thresholds from
    fastpar.rsi, backtested by fastpar and by vectorbt, the numbers the
    page shows."""
    from fastpar.synthetic import random_walk

    close = pd.Series(random_walk(1, 5000, seed=7)[0],
                      index=pd.date_range("2024-01-01", periods=5000, freq="h"), name="close")
    rsi = pd.DataFrame({p: fastpar.rsi(close, p) for p in (7, 14, 21)})
    entries, exits = rsi < 30, rsi > 70
    df = fastpar.backtest(close, entries, exits, fees=0.001, stop_loss=0.05)
    assert list(df.index) == [7, 14, 21]
    assert list(df.n_trades) == [113, 47, 22]
    np.testing.assert_allclose(df.total_return, [-0.676068, -0.430732, -0.336564], atol=5e-7)
    pf = vbt.Portfolio.from_signals(close, entries, exits, fees=0.001, sl_stop=0.05)
    np.testing.assert_allclose(df.total_return, pf.total_return(), rtol=1e-9)
    np.testing.assert_allclose(df.max_drawdown, pf.max_drawdown(), rtol=1e-9)
    np.testing.assert_allclose(df.win_rate, pf.trades.win_rate(), rtol=1e-9)
    np.testing.assert_array_equal(df.n_trades, pf.trades.count())


SMALL_MODES = {
    **MODES,
    "heavy_costs_stops": ({"fees": 0.01, "slippage": 0.005, "stop_loss": 1 / 3,
                           "take_profit": 0.5},
                          {"fees": 0.01, "slippage": 0.005, "sl_stop": 1 / 3, "tp_stop": 0.5}),
    "longshort_exact_stops": ({"direction": "longshort", "stop_loss": 0.25, "take_profit": 0.5},
                              {"direction": "both", "sl_stop": 0.25, "tp_stop": 0.5}),
}


@pytest.mark.parametrize("mode", list(SMALL_MODES))
def test_many_small_cases(mode):
    """1,500 short series of 40 closes on a coarse tick grid (12 levels: ties,
    flat runs, stop levels hit exactly, long/short accounts wiped out to 0),
    each with its own signals, dense or sparse: every column as vectorbt."""
    rng = np.random.default_rng(len(mode))
    n, k = 40, 1500
    close = rng.integers(1, 13, (n, k)) * rng.choice([0.25, 1.0, 1000.0], k)
    density = rng.uniform(0.05, 0.6, k)
    entries, exits = rng.random((n, k)) < density, rng.random((n, k)) < density
    ours, theirs = SMALL_MODES[mode]
    compare(fastpar.backtest(close, entries, exits, **ours), close, entries, exits, theirs)
