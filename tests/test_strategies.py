"""The sweep kernel against its reference (fastpar.reference.strategies).

Random grids and cost settings for every strategy, long-only and
long/short, with and without stops: the kernel follows the reference's
arithmetic operation by operation, so every metric but the Sharpe ratio
(whose sums are formed differently) must be the same double. Then the
same bytes whatever the thread count.
"""

import math
import zlib

import numpy as np
import pytest

import fastpar
from fastpar.reference import strategies as ref
from fastpar.sweep import METRICS, STRATEGIES

EXACT = [m for m in METRICS if m != "sharpe"]


def walk(n, seed, vol=0.015, flat_every=0):
    """Close, high and low of a seeded random walk; optionally with runs
    of unchanged closes (RSI's 0/0 case, ties of the averages)."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(0.0, vol, n)
    if flat_every:
        steps[rng.random(n) < 1.0 / flat_every] = 0.0
        steps[100:130] = 0.0
    close = 100.0 * np.exp(np.cumsum(steps))
    high = close * (1.0 + rng.uniform(0.0, 0.02, n))
    low = close * (1.0 - rng.uniform(0.0, 0.02, n))
    return {"close": close, "high": high, "low": low}


def random_grid(strategy, rng):
    """A small random grid of valid values."""
    def ints(lo, hi, k=2):
        return sorted({int(v) for v in rng.integers(lo, hi, k)})

    def floats(lo, hi, k=2):
        return [float(v) for v in np.round(rng.uniform(lo, hi, k), 3)]

    if strategy == "rsi_threshold":
        return {"period": ints(2, 30), "low": floats(10, 45), "high": floats(55, 90)}
    if strategy == "ma_cross":
        return {"fast": ints(1, 8), "slow": ints(5, 30), "kind": ["sma", "ema"]}
    if strategy == "bbands_reversion":
        return {"period": ints(2, 30), "nbdev": floats(0.3, 2.5)}
    if strategy == "envelope":
        return {"period": ints(1, 30), "deviation": floats(0.001, 0.03)}
    return {
        "atr_period": ints(1, 15),
        "k_atr": floats(0.3, 1.5),
        "tail_ratio": floats(0.0, 0.9),
        "breakout": ints(1, 40),
        "rsi_period": ints(2, 15, 1),
        "rsi_max": floats(50, 100, 1),
    }


def random_costs(rng, direction, stops):
    costs = {
        "fees": float(rng.choice([0.0, 0.0005, 0.003])),
        "slippage": float(rng.choice([0.0, 0.001])),
        "spread": float(rng.choice([0.0, 0.02])),
        "direction": direction,
        "periods_per_year": float(rng.choice([252.0, 365.0])),
    }
    if stops:
        costs["stop_loss"] = float(rng.uniform(0.01, 0.05))
        costs["take_profit"] = float(rng.uniform(0.01, 0.08))
    return costs


def assert_matches_reference(df, strategy, data, costs):
    names = STRATEGIES[strategy]
    for row in df.itertuples(index=False):
        params = tuple(getattr(row, k) for k in names)
        want = ref.run(strategy, data, params, **costs)
        for m in EXACT:
            got = float(getattr(row, m))
            assert got == want[m] or (math.isnan(got) and math.isnan(want[m])), (
                strategy, params, costs, m, got, want[m])
        got, exp = row.sharpe, want["sharpe"]
        assert (math.isnan(got) and math.isnan(exp)) or math.isclose(got, exp, rel_tol=1e-9), (
            strategy, params, costs, got, exp)


@pytest.mark.parametrize("strategy", list(STRATEGIES))
@pytest.mark.parametrize("direction", ["long", "longshort"])
@pytest.mark.parametrize("stops", [False, True])
def test_kernel_matches_reference(strategy, direction, stops):
    seed = zlib.crc32(f"{strategy} {direction} {stops}".encode())
    rng = np.random.default_rng(seed)
    for trial in range(3):
        data = walk(400, seed + trial, flat_every=20 if trial == 2 else 0)
        costs = random_costs(rng, direction, stops)
        df = fastpar.sweep(data, strategy, random_grid(strategy, rng), progress=False, **costs)
        assert len(df) > 0
        assert_matches_reference(df, strategy, data, costs)


def test_reference_cases_trade():
    """The grids above are not vacuous: most sets trade, and trades both
    win and lose."""
    data = walk(400, 1)
    df = fastpar.sweep(data, "rsi_threshold",
                       {"period": [3, 7, 14], "low": [25, 35], "high": [65, 75]}, progress=False)
    assert (df.n_trades > 0).mean() > 0.8
    assert (df.win_rate > 0).any() and (df.win_rate < 1).any()


def test_one_stop_bar_by_hand():
    """A long stopped out by its stop-loss fills at the close, without
    slippage, and ignores that bar's entry signal."""
    close = np.array([10, 9, 8, 7.5, 7.1, 7.0, 8])
    data = {"close": close}
    df = fastpar.sweep(data, "rsi_threshold", {"period": 2, "low": 30, "high": 99.9},
                       slippage=0.01, stop_loss=0.1, progress=False)
    v4 = 100 / (8 * 1.01) * 7.1
    assert df.total_return[0] == pytest.approx(v4 / (7.0 * 1.01) * 8 / 100 - 1, rel=1e-12)
    assert df.n_trades[0] == 2


# Closes that reach a stop's level exactly (levels of 8 x 0.75, 1.25 and
# 1.5 are exact doubles), the RSI(2) thresholds that open one position at
# the close of 8 and leave the bars after the stop without a signal, and
# the return had the stop not fired at its level, the position kept to the
# last close.
EXACT_STOPS = {
    "long stop-loss": ([10, 9, 8, 6, 9, 12, 15], {"stop_loss": 0.25}, (30, 70), "long", -0.25,
                       0.5),
    "long take-profit": ([10, 9, 8, 12, 11, 10], {"take_profit": 0.5}, (30, 90), "long", 0.5,
                         0.25),
    "short stop-loss": ([6, 7, 8, 10, 9, 8], {"stop_loss": 0.25}, (30, 70), "longshort", -0.25,
                        0.0),
    "short take-profit": ([6, 7, 8, 4, 5, 6], {"take_profit": 0.5}, (10, 70), "longshort", 0.5,
                          0.25),
}


@pytest.mark.parametrize("case", list(EXACT_STOPS))
def test_a_stop_fires_at_its_level_exactly(case):
    """A close equal to the stop level stops the position (<=, >=, as
    vectorbt): one trade, closed at the level; without the stop the
    position would have run to the end with another return."""
    close, stops, (low, high), direction, want, held = EXACT_STOPS[case]
    data = {"close": np.array(close, dtype=float)}
    df = fastpar.sweep(data, "rsi_threshold", {"period": 2, "low": low, "high": high},
                       direction=direction, progress=False, **stops)
    assert df.total_return[0] == want and df.n_trades[0] == 1
    assert df.total_return[0] != held
    r = ref.run("rsi_threshold", data, (2, low, high), direction=direction, **stops)
    assert r["total_return"] == want and r["n_trades"] == 1


# Signals whose indicator lands exactly on the threshold (RSI(2) of 25.0
# and 75.0, an envelope band of 2.0 under a close of 2.0: exact doubles),
# where the rule's strict comparison gives no signal; the return of the one
# trade, and the return had the tie given a signal.
EXACT_THRESHOLDS = {
    "rsi entry at low": ([10, 11, 8, 6, 7, 9], "rsi_threshold",
                         {"period": 2, "low": 25, "high": 90}, 0.5, 0.125),
    "rsi exit at high": ([10, 9, 8, 11, 12], "rsi_threshold",
                         {"period": 2, "low": 30, "high": 75}, 0.5, 0.375),
    "envelope entry at band": ([6, 2, 0.5, 1.0], "envelope", {"period": 2, "deviation": 0.5},
                               1.0, -0.5),
}


@pytest.mark.parametrize("case", list(EXACT_THRESHOLDS))
def test_a_threshold_hit_exactly_gives_no_signal(case):
    """Entries and exits are strict: RSI < low, RSI > high, close < the
    lower band (docs/sweeps.md), as TA-Lib + vectorbt read them."""
    close, strategy, grid, want, tie = EXACT_THRESHOLDS[case]
    data = {"close": np.array(close, dtype=float)}
    df = fastpar.sweep(data, strategy, grid, progress=False)
    assert df.total_return[0] == want != tie and df.n_trades[0] == 1
    r = ref.run(strategy, data, tuple(grid[k] for k in STRATEGIES[strategy]))
    assert r["total_return"] == want and r["n_trades"] == 1


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_same_bytes_for_any_thread_count(strategy):
    data = walk(3000, 11)
    rng = np.random.default_rng(5)
    grid = {k: v + v for k, v in random_grid(strategy, rng).items()}  # duplicates too
    costs = dict(fees=0.001, slippage=0.0005, stop_loss=0.03, direction="longshort")
    frames = [fastpar.sweep(data, strategy, grid, threads=t, progress=False, **costs)
              for t in (1, 2, 4)]
    for df in frames[1:]:
        np.testing.assert_array_equal(df[list(METRICS)].to_numpy(),
                                      frames[0][list(METRICS)].to_numpy())


def test_sets_in_lockstep_equal_sets_alone():
    """A set gives the same bytes whether its task shares the RSI with 15
    other sets (136 sets of one period: tasks of at most 16, the most a
    task holds) or runs alone."""
    data = walk(2000, 4)
    grid = {"period": [9], "low": list(range(20, 37)), "high": list(range(64, 80, 2))}
    df = fastpar.sweep(data, "rsi_threshold", grid, fees=0.001, progress=False)
    for row in df.iloc[[0, 15, 16, 17, 100, 135]].itertuples(index=False):
        one = fastpar.sweep(data, "rsi_threshold",
                            {"period": row.period, "low": row.low, "high": row.high},
                            fees=0.001, progress=False)
        np.testing.assert_array_equal(
            one[list(METRICS)].to_numpy()[0],
            np.array([getattr(row, m) for m in METRICS], dtype=float))
