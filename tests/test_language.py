"""fastpar.strategy: strategies written with fastpar's functions, swept in C.

Oracles: TA-Lib signals run through vectorbt's Portfolio.from_signals for
strategies that read only the bars (the same conventions as
tests/test_backtest_vectorbt.py); fastpar.reference.program (the readable
definition, through the sweeps' reference simulator) for every
instruction, the trade's state included; the built-in rsi_threshold for
the same rules written as a program. Errors name the expression.
"""

import importlib
import math
import pickle

import numpy as np
import pytest

import fastpar
from fastpar.reference import program as reference

sweep_module = importlib.import_module("fastpar.sweep")
pd = pytest.importorskip("pandas")

from market_data import MODES, hard_bars, walk  # noqa: E402


def rsi_sma(cooldown=False):
    def entry(b, p):
        e = (fastpar.rsi(b.close, p.period) < p.low) & (b.close > fastpar.sma(b.close, 50))
        return e & (b.bars_since_exit >= 10) if cooldown else e

    return fastpar.strategy(entry=entry,
                            exit=lambda b, p: fastpar.rsi(b.close, p.period) > p.high,
                            name="rsi_sma")


def check_against_reference(strat, bars, grid, **costs):
    df = fastpar.sweep(bars, strat, grid, progress=False, **costs)
    sets, _ = sweep_module.expand_grid(strat, grid)
    assert len(df) == len(sets)
    for i, s in enumerate(sets):
        want = reference.run(strat, bars, s, **costs)
        for k, v in want.items():
            got = df[k].iloc[i]
            assert (math.isnan(v) and math.isnan(got)) or math.isclose(
                got, v, rel_tol=1e-9, abs_tol=1e-12), (s, k, got, v)
    return df


# --------------------------------------------------------------------------
# vectorbt and TA-Lib


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("seed", [5, 6])
def test_rsi_with_a_trend_filter_equals_talib_signals_through_vectorbt(mode, seed):
    vbt = pytest.importorskip("vectorbt")
    talib = pytest.importorskip("talib")
    ours, theirs = MODES[mode]
    close = walk(3000, seed)["close"]
    grid = {"period": [5, 7, 9], "low": [35.0, 45.0], "high": [55.0, 65.0]}
    df = fastpar.sweep({"close": close}, rsi_sma(), grid, progress=False, **ours)
    sets, _ = sweep_module.expand_grid(rsi_sma(), grid)
    trend = close > talib.SMA(close, 50)
    entries = np.column_stack([(talib.RSI(close, p) < lo) & trend for p, lo, _ in sets])
    exits = np.column_stack([talib.RSI(close, p) > hi for p, _, hi in sets])
    pf = vbt.Portfolio.from_signals(pd.Series(close), pd.DataFrame(entries),
                                    pd.DataFrame(exits), **theirs)
    assert (pf.trades.count().to_numpy() > 0).mean() >= 0.6  # not vacuous
    np.testing.assert_allclose(df["total_return"], pf.total_return().to_numpy(), rtol=1e-9,
                               atol=1e-12)
    np.testing.assert_array_equal(df["n_trades"], pf.trades.count().to_numpy())
    np.testing.assert_allclose(df["max_drawdown"], pf.max_drawdown().to_numpy(), rtol=1e-9,
                               atol=1e-12)
    np.testing.assert_allclose(df["win_rate"], pf.trades.win_rate().to_numpy(), rtol=1e-9)


@pytest.mark.parametrize("level", [0.05, 20.0, 3000.0])
def test_ma_cross_of_crossed_above_equals_vectorbt_crossings(level):
    vbt = pytest.importorskip("vectorbt")
    talib = pytest.importorskip("talib")
    close = hard_bars(level, 11)["close"]
    strat = fastpar.strategy(
        entry=lambda b, p: fastpar.crossed_above(fastpar.ema(b.close, p.fast),
                                                 fastpar.sma(b.close, p.slow)),
        exit=lambda b, p: fastpar.crossed_below(fastpar.ema(b.close, p.fast),
                                                fastpar.sma(b.close, p.slow)))
    grid = {"fast": [3, 5, 8], "slow": [20, 30]}
    df = fastpar.sweep({"close": close}, strat, grid, progress=False, fees=0.001)
    sets, _ = sweep_module.expand_grid(strat, grid)
    fast = pd.DataFrame({i: talib.EMA(close, f) for i, (f, _) in enumerate(sets)})
    slow = pd.DataFrame({i: talib.SMA(close, s) for i, (_, s) in enumerate(sets)})
    entries = fast.vbt.crossed_above(slow)
    exits = fast.vbt.crossed_below(slow)
    pf = vbt.Portfolio.from_signals(pd.Series(close), entries, exits, fees=0.001)
    assert (pf.trades.count().to_numpy() > 0).all()
    np.testing.assert_allclose(df["total_return"], pf.total_return().to_numpy(), rtol=1e-9,
                               atol=1e-12)
    np.testing.assert_array_equal(df["n_trades"], pf.trades.count().to_numpy())


def _bigbar_entry(b, p):
    rng = b.high - b.low
    atr_before = fastpar.shift(fastpar.atr(b.high, b.low, b.close, p.atr_period), 1)
    return ((rng > p.k_atr * atr_before) & (b.close >= b.low + p.tail_ratio * rng)
            & (b.close > fastpar.rolling_max(fastpar.shift(b.high, 1), p.breakout))
            & (fastpar.rsi(b.close, p.rsi_period) <= p.rsi_max))


#: The five built-in strategies written in the language (docs/sweeps.md's
#: rules), with a grid each; ma_cross's kind is TA-Lib's matype (sma 0, ema 1).
BUILTINS_AS_PROGRAMS = {
    "rsi_threshold": (
        lambda b, p: fastpar.rsi(b.close, p.period) < p.low,
        lambda b, p: fastpar.rsi(b.close, p.period) > p.high,
        {"period": [2, 5, 14, 30], "low": [20.0, 30.0], "high": [70.0, 80.0]}),
    "ma_cross": (
        lambda b, p: fastpar.ma(b.close, p.fast, matype=p.kind)
        > fastpar.ma(b.close, p.slow, matype=p.kind),
        lambda b, p: fastpar.ma(b.close, p.fast, matype=p.kind)
        < fastpar.ma(b.close, p.slow, matype=p.kind),
        {"fast": [2, 5, 10], "slow": [20, 30], "kind": ["sma", "ema"]}),
    "bbands_reversion": (
        lambda b, p: b.close < fastpar.bbands(b.close, p.period)[1]
        - p.nbdev * fastpar.stddev(b.close, p.period),
        lambda b, p: b.close > fastpar.bbands(b.close, p.period)[1],
        {"period": [5, 20], "nbdev": [1.0, 2.0]}),
    "envelope": (
        lambda b, p: b.close < fastpar.sma(b.close, p.period) * (1 - p.deviation),
        lambda b, p: b.close > fastpar.sma(b.close, p.period) * (1 + p.deviation),
        {"period": [5, 20], "deviation": [0.01, 0.03]}),
    "bigbar": (
        _bigbar_entry,
        lambda b, p: b.close < fastpar.rolling_min(fastpar.shift(b.low, 1), p.breakout),
        {"atr_period": [1, 7, 14], "k_atr": [0.5, 1.5], "tail_ratio": [0.0, 0.3, 1.0],
         "breakout": [1, 3, 5], "rsi_period": [2, 14], "rsi_max": [60.0, 100.0]}),
}


@pytest.mark.parametrize("name", list(BUILTINS_AS_PROGRAMS))
@pytest.mark.parametrize("mode", ["long", "longshort_stops"])
def test_the_builtin_strategies_as_programs_give_the_same_doubles(name, mode):
    entry, exit_, grid = BUILTINS_AS_PROGRAMS[name]
    strat = fastpar.strategy(entry=entry, exit=exit_, name=name)
    metrics = list(sweep_module.METRICS)
    for bars in (walk(3000, 3), hard_bars(20.0, 5)):
        want = fastpar.sweep(bars, name, grid, progress=False, **MODES[mode][0])
        program_grid = dict(grid)
        if name == "ma_cross":
            program_grid["kind"] = [("sma", "ema").index(k) for k in grid["kind"]]
        got = fastpar.sweep(bars, strat, program_grid, progress=False, **MODES[mode][0])
        # the same sets (ma_cross skips fast >= slow, the grid here has none)
        keys = list(sweep_module.STRATEGIES[name])
        got = got.sort_values([k for k in keys]).reset_index(drop=True)
        want = want.assign(**({"kind": [("sma", "ema").index(k) for k in want["kind"]]}
                              if name == "ma_cross" else {}))
        want = want.sort_values(keys).reset_index(drop=True)
        assert (want["n_trades"] > 0).mean() > 0.3
        np.testing.assert_array_equal(got[metrics].to_numpy(), want[metrics].to_numpy())


# --------------------------------------------------------------------------
# The reference: every instruction, the trade's state


def test_trade_state_cooldown_trailing_stop_and_time_exit_follow_the_reference():
    strat = fastpar.strategy(
        entry=lambda b, p: (fastpar.rsi(b.close, p.period) < p.low)
        & (b.bars_since_exit >= p.cooldown),
        exit=lambda b, p: (b.close <= b.highest_since_entry * (1 - p.trail))
        | (b.bars_in_trade >= 15) | (b.close >= b.entry_price * 1.04),
        name="trail")
    bars = walk(2500, 8)
    df = check_against_reference(strat, bars, {"period": [7, 14], "low": [35.0, 45.0],
                                               "cooldown": [0, 10], "trail": [0.02, 0.05]},
                                 fees=0.001)
    assert (df["n_trades"] > 5).all()
    # the cooldown changes the trades
    assert not df[df.cooldown == 0]["n_trades"].equals(df[df.cooldown == 10]["n_trades"])


@pytest.mark.parametrize("mode", ["long", "longshort", "stops"])
def test_every_instruction_follows_the_reference(mode):
    close = hard_bars(50.0, 4, n=1200)["close"]
    rng = np.random.default_rng(4)
    bars = {"close": close, "high": close * (1 + rng.uniform(0, 0.01, len(close))),
            "low": close * (1 - rng.uniform(0, 0.01, len(close))),
            "open": close * (1 + rng.normal(0, 0.003, len(close))),
            "volume": rng.uniform(0, 1000, len(close))}
    strat = fastpar.strategy(
        entry=lambda b, p: (fastpar.bars_since(fastpar.crossed_above(
            b.close, fastpar.rolling_mean(b.close, p.window))) <= 2)
        & ~b.in_position & (fastpar.rolling_sum(b.volume, 5) > 1500)
        & (fastpar.where(b.open > b.close, b.open - b.close, -(b.close - b.open)) != 1.5)
        & (fastpar.shift(b.close > b.open, 1) | (abs(b.high - b.low) / b.close >= 0.004)),
        exit=lambda b, p: (b.close < fastpar.rolling_min(fastpar.shift(b.low, 1), p.window))
        | (fastpar.maximum(b.close, fastpar.shift(b.close, 2)) > fastpar.rolling_max(
            b.high, p.window) * 1.001)
        | (b.is_long & (b.lowest_since_entry < b.entry_price * 0.97))
        | fastpar.crossed_below(fastpar.minimum(b.close, b.open), p.level),
        name="everything")
    check_against_reference(strat, bars, {"window": [3, 10], "level": [45.0, 55.0]},
                            **MODES[mode][0])


def test_multi_output_indicators_and_their_outputs():
    bars = walk(1500, 9)
    strat = fastpar.strategy(
        entry=lambda b, p: b.close < fastpar.bbands(b.close, p.period, p.nbdev)[2],
        exit=lambda b, p: (fastpar.macd(b.close)[2] > 0)
        & (b.close > fastpar.bbands(b.close, p.period, p.nbdev)[1]))
    assert sum(c[0] == fastpar._fastpar.PROGRAM["ops"].index("INDICATOR")
               for c in strat.code) == 2  # bbands once for both outputs
    check_against_reference(strat, bars, {"period": [10, 20], "nbdev": [1.5, 2.0]})


def test_a_threshold_hit_exactly_enters():
    close = np.array([10.0, 9.0, 8.0, 9.0, 10.0, 11.0, 12.0, 11.0])
    strat = fastpar.strategy(entry=lambda b, p: b.close <= p.level,
                             exit=lambda b, p: b.close >= p.level + 3)
    df = fastpar.sweep({"close": close}, strat, {"level": [8.0, 7.99]}, progress=False)
    assert df["n_trades"].tolist() == [1, 0]
    # bought at 8, sold at 11
    assert df["total_return"].iloc[0] == pytest.approx(11.0 / 8.0 - 1.0, rel=1e-12)


def test_cooldown_counts_bars_since_the_exit_exactly():
    # entry on every bar, exit on the bar after; a cooldown of k bars
    close = np.linspace(10.0, 20.0, 30)
    for k, trades in [(0, 15), (1, 15), (2, 10), (4, 6)]:
        strat = fastpar.strategy(entry=lambda b, p: (b.close > 0) & ~b.in_position
                                 & (b.bars_since_exit >= p.k),
                                 exit=lambda b, p: b.bars_in_trade >= 1)
        df = fastpar.sweep({"close": close}, strat, {"k": [k]}, progress=False)
        assert df["n_trades"].iloc[0] == trades, k


# --------------------------------------------------------------------------
# Sharing, several assets, checkpoints, pickling


def test_one_node_per_distinct_expression():
    strat = rsi_sma()
    ops = fastpar._fastpar.PROGRAM["ops"]
    indicators = [c for c in strat.code if ops[c[0]] == "INDICATOR"]
    assert len(indicators) == 2  # rsi(period) in entry and exit once, sma(50) once
    assert strat.params == ("period", "low", "high")


def test_several_assets_and_a_checkpoint(tmp_path):
    data = {"a": walk(1200, 1), "b": walk(900, 2)}
    grid = {"period": [7, 14], "low": [30.0], "high": [70.0]}
    df = fastpar.sweep(data, rsi_sma(), grid, progress=False)
    assert df["asset"].tolist() == ["a", "a", "b", "b"]
    alone = fastpar.sweep(data["b"], rsi_sma(), grid, progress=False)
    np.testing.assert_array_equal(df[df.asset == "b"]["total_return"], alone["total_return"])
    path = tmp_path / "cp.sqlite"
    first = fastpar.sweep(data, rsi_sma(), grid, progress=False, checkpoint=path)
    again = fastpar.sweep(data, rsi_sma(), grid, progress=False, checkpoint=path)
    pd.testing.assert_frame_equal(first, again)
    pd.testing.assert_frame_equal(first.drop(columns="asset"), df.drop(columns="asset"))
    # a changed strategy is a different sweep
    with pytest.raises(ValueError, match="strategy"):
        fastpar.sweep(data, rsi_sma(cooldown=True), grid, progress=False, checkpoint=path)


def test_a_strategy_pickles_and_runs_the_same():
    strat = pickle.loads(pickle.dumps(rsi_sma(cooldown=True)))
    bars = walk(1500, 5)
    grid = {"period": [9], "low": [35.0], "high": [65.0]}
    pd.testing.assert_frame_equal(fastpar.sweep(bars, strat, grid, progress=False),
                                  fastpar.sweep(bars, rsi_sma(cooldown=True), grid,
                                                progress=False))


def test_threads_do_not_change_results():
    bars = walk(4000, 12)
    grid = {"period": range(3, 20), "low": [25.0, 35.0], "high": [65.0, 75.0]}
    one = fastpar.sweep(bars, rsi_sma(True), grid, progress=False, threads=1)
    two = fastpar.sweep(bars, rsi_sma(True), grid, progress=False, threads=2)
    pd.testing.assert_frame_equal(one, two)


# --------------------------------------------------------------------------
# Errors name the expression


@pytest.mark.parametrize("entry, message", [
    (lambda b, p: b.close & (b.open > 1), r"b\.close is a number, used as a condition"),
    (lambda b, p: (b.close > 1) and (b.open > 1), "no truth value"),
    (lambda b, p: fastpar.rsi(b.close > 1, 3) > 3, "a condition .* used as a number"),
    (lambda b, p: b.close + 1, "is a number, not a condition"),
    (lambda b, p: fastpar.rsi(b.close, 0) > 3, r"rsi\(b\.close, period=0\): period must be in"),
    (lambda b, p: fastpar.rsi(b.close, p.a + 1) > 3, "not the expression"),
    (lambda b, p: fastpar.shift(b.close, 2.5) > 3, "bars must be a whole number"),
    (lambda b, p: fastpar.macd(b.close, 26, 12)[0] > 0, "fast must be below slow"),
    (lambda b, p: b.closing > 3, "bars have open, high, low, close, volume"),
    (lambda b, p: fastpar.sma(fastpar.rolling_max(b.close, 3) - b.entry_price, 3) > 0, None),
    (lambda b, p: fastpar.talib.RSI(b.close) > 3, "call fastpar.rsi"),
    (lambda b, p: np.log(b.close) > 3, None),
    (lambda b, p: True, "constant"),
])
def test_bad_strategies_are_refused_when_written(entry, message):
    import fastpar.talib  # noqa: F401

    with pytest.raises((TypeError, ValueError, AttributeError)) as info:
        fastpar.strategy(entry=entry).code and fastpar.sweep(
            walk(300, 1), fastpar.strategy(entry=entry), {}, progress=False)
    if message:
        assert info.match(message)


def test_a_series_reading_the_trade_state_is_refused():
    with pytest.raises(TypeError, match=r"sma\(\(b\.close - b\.entry_price\).*reads the "):
        fastpar.strategy(entry=lambda b, p: fastpar.sma(b.close - b.entry_price, 3) > 0)


def test_grid_errors_name_the_expression():
    bars = walk(400, 1)
    with pytest.raises(ValueError, match=r"no value for p\.high \(read by \(rsi"):
        fastpar.sweep(bars, rsi_sma(), {"period": [5], "low": [30]}, progress=False)
    with pytest.raises(ValueError, match="unknown parameter"):
        fastpar.sweep(bars, rsi_sma(), {"period": [5], "low": [30], "high": [70], "x": [1]},
                      progress=False)
    with pytest.raises(ValueError, match=r"rsi\(b\.close, period=p\.period\): period must be "
                                         r"in \[1, 100000\], got period=0"):
        fastpar.sweep(bars, rsi_sma(), {"period": [5, 0], "low": [30], "high": [70]},
                      progress=False)
    with pytest.raises(ValueError, match="must be a finite number"):
        fastpar.sweep(bars, rsi_sma(), {"period": [5], "low": ["30"], "high": [70]},
                      progress=False)
    with pytest.raises(ValueError, match="must be a finite number"):  # beyond a double's range
        fastpar.sweep(bars, rsi_sma(), {"period": [5], "low": [10**400], "high": [70]},
                      progress=False)
    with pytest.raises(ValueError, match="constants must be finite"):
        fastpar.strategy(entry=lambda b, p: b.close > 10**400, exit=lambda b, p: b.close < 1)
    with pytest.raises(ValueError, match=r"period=500.*the data has 400"):
        fastpar.sweep(bars, rsi_sma(), {"period": [5, 500], "low": [30], "high": [70]},
                      progress=False)


def test_a_division_by_zero_fed_to_an_indicator_names_it():
    close = np.r_[np.full(50, 10.0), np.linspace(10.0, 20.0, 50)]
    strat = fastpar.strategy(
        entry=lambda b, p: fastpar.sma(1 / (b.close - 10), p.n) > 0, name="div")
    with pytest.raises(ValueError, match=r"div: sma\(\(1 / \(b\.close - 10\)\), period=p\.n\) "
                                         "was fed a value that is not finite"):
        fastpar.sweep({"close": close}, strat, {"n": [3]}, progress=False)


# --------------------------------------------------------------------------
# The command line


def test_command_line_takes_expressions_and_files(tmp_path, capsys):
    from fastpar.cli import main

    out = tmp_path / "out.csv"
    assert main(["sweep", "--synthetic", "3000", "--no-progress", "--entry",
                 "(rsi(b.close, p.period) < p.low) & (b.bars_since_exit >= 5)", "--exit",
                 "rsi(b.close, p.period) > 70", "--grid", "period=5:9", "low=25,30",
                 "--out", str(out)]) == 0
    got = pd.read_csv(out)
    strat = fastpar.strategy(
        entry=lambda b, p: (fastpar.rsi(b.close, p.period) < p.low) & (b.bars_since_exit >= 5),
        exit=lambda b, p: fastpar.rsi(b.close, p.period) > 70)
    from fastpar.synthetic import random_walk_ohlc

    bars = {k: v[0] for k, v in random_walk_ohlc(1, 3000, seed=42).items()}
    want = fastpar.sweep(bars, strat, {"period": range(5, 10), "low": [25, 30]}, progress=False)
    np.testing.assert_allclose(got["total_return"], want["total_return"], rtol=1e-12)
    path = tmp_path / "mine.py"
    path.write_text("import fastpar\n"
                    "strategy = fastpar.strategy(\n"
                    "    entry=lambda b, p: fastpar.crossed_above(b.close, fastpar.sma(b.close, p.n)),\n"
                    "    exit=lambda b, p: fastpar.crossed_below(b.close, fastpar.sma(b.close, p.n)))\n")
    assert main(["sweep", "--synthetic", "3000", "--no-progress", "--strategy", str(path),
                 "--grid", "n=10,20", "--top", "1", "--sort-by", "sharpe"]) == 0
    capsys.readouterr()
    for argv, message in [
        (["--entry", "rsi(b.close, p.period) <"], "not a Python expression"),
        (["--entry", "rsx(b.close, 3) < 3"], "name 'rsx' is not defined"),
        (["--strategy", str(tmp_path / "none.py")], "no such file"),
        (["--strategy", "rsi_threshold", "--exit", "b.close > 1"], "--exit goes with --entry"),
        (["--entry", "rsi(b.close, p.period) < 30", "--sort-by", "nope"], "--sort-by 'nope'"),
    ]:
        assert main(["sweep", "--synthetic", "300", "--no-progress", *argv,
                     "--grid", "period=5"]) == 2
        assert message in capsys.readouterr().err
