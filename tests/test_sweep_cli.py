"""The ``fastpar sweep`` command line: its grid syntax, and clear errors
for every malformed grid item (never another exception type)."""

import pytest
from fastpar.cli import MAX_GRID_VALUES, parse_grid


def test_grid_syntax():
    grid = parse_grid(["period=2:50", "low=20,25,30", "kind=sma,ema", "k=0.5:2:0.5",
                       "nbdev=2", "step=10:40:10"])
    assert grid == {
        "period": list(range(2, 51)),
        "low": [20, 25, 30],
        "kind": ["sma", "ema"],
        "k": [0.5, 1.0, 1.5, 2.0],
        "nbdev": [2],
        "step": [10, 20, 30, 40],
    }
    assert parse_grid(["d=0.01:0.03:0.01"]) == {"d": [0.01, 0.02, 0.03]}


@pytest.mark.parametrize(
    "items, message",
    [
        (["period"], "expected NAME=VALUES"),
        (["=2:5"], "expected NAME=VALUES"),
        (["period="], "expected NAME=VALUES"),
        (["1x=2"], "expected NAME=VALUES"),
        (["period=2:"], "START:STOP"),
        (["period=2:5:1:1"], "START:STOP"),
        (["period=a:5"], "finite numbers"),
        (["period=nan:5"], "finite numbers"),
        (["period=1:inf"], "finite numbers"),
        (["period=5:2"], "STOP is below START"),
        (["period=2:5:0"], "step must be > 0"),
        (["period=2:5:-1"], "step must be > 0"),
        (["low=20,,30"], "empty value"),
        (["low=20,"], "empty value"),
        (["low=20", "low=30"], "given twice"),
        ([], "at least one"),
        ([f"period=1:{MAX_GRID_VALUES + 1}"], "more than"),
        (["k=0:1:1e-9"], "more than"),
    ],
)
def test_malformed_grid_items_are_value_errors(items, message):
    with pytest.raises(ValueError, match=message):
        parse_grid(items)


# -- the command --------------------------------------------------------------

import fastpar  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from fastpar.cli import main  # noqa: E402
from fastpar.synthetic import random_walk_ohlc  # noqa: E402

GRID = {"period": list(range(2, 9)), "low": [20, 30], "high": [70, 80]}
GRID_ARGS = ["period=2:8", "low=20,30", "high=70,80"]


def bars_frame(n_assets=1, length=3000):
    b = random_walk_ohlc(n_assets, length, seed=5)
    frames = [pd.DataFrame({k.capitalize(): b[k][i] for k in ("open", "high", "low", "close")})
              for i in range(n_assets)]
    return frames


def test_sweep_command_prints_the_best_and_writes_all(tmp_path, capsys):
    (frame,) = bars_frame()
    data = tmp_path / "bars.csv"
    frame.to_csv(data, index=False)
    out = tmp_path / "all.csv"
    rc = main(["sweep", "--data", str(data), "--strategy", "rsi_threshold", "--grid", *GRID_ARGS,
               "--fees", "0.001", "--out", str(out), "--top", "3", "--no-progress"])
    printed = capsys.readouterr().out
    assert rc == 0
    expected = fastpar.sweep(frame, "rsi_threshold", GRID, fees=0.001, progress=False)
    written = pd.read_csv(out)
    assert len(written) == len(expected) == 28
    np.testing.assert_allclose(written["total_return"], expected["total_return"], rtol=1e-12)
    best = expected.sort_values("total_return", ascending=False, kind="stable").head(3)
    table = [line.split() for line in printed.splitlines()[1:4]]
    assert [int(r[0]) for r in table] == best["period"].tolist()
    assert "28 backtests in" in printed


def test_sweep_command_per_symbol_and_resumed(tmp_path, capsys):
    frames = bars_frame(n_assets=2)
    both = pd.concat([f.assign(symbol=s) for f, s in zip(frames, ["AAA", "BBB"])])
    data = tmp_path / "bars.parquet"
    both.to_parquet(data)
    cp = tmp_path / "cp.sqlite"
    args = ["sweep", "--data", str(data), "--strategy", "rsi_threshold", "--grid", *GRID_ARGS,
            "--checkpoint", str(cp), "--out", str(tmp_path / "r.csv"), "--no-progress"]
    assert main(args) == 0
    first = pd.read_csv(tmp_path / "r.csv")
    assert main(args) == 0  # everything read back from the checkpoint
    again = pd.read_csv(tmp_path / "r.csv")
    pd.testing.assert_frame_equal(first, again)
    assert sorted(set(first["asset"])) == ["AAA", "BBB"] and len(first) == 56
    local = fastpar.sweep({"AAA": frames[0], "BBB": frames[1]}, "rsi_threshold", GRID,
                          progress=False)
    np.testing.assert_allclose(first["total_return"], local["total_return"], rtol=1e-12)
    capsys.readouterr()


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--strategy", "nope", "--grid", "a=1"], "unknown strategy"),
        (["--strategy", "ma_cross", "--grid", "fast=2:5", "slow=3:9"], "missing parameter"),
        (["--strategy", "rsi_threshold", "--grid", "period=2:"], "START:STOP"),
        (["--strategy", "rsi_threshold", "--grid", *GRID_ARGS, "--data", "/no/such.csv"],
         "no such file"),
        (["--strategy", "rsi_threshold", "--grid", *GRID_ARGS, "--data", __file__],
         "unsupported file type"),
        (["--strategy", "rsi_threshold", "--grid", *GRID_ARGS, "--sort-by", "luck"],
         "not a result column"),
    ],
)
def test_sweep_command_bad_input_exits_2_with_a_message(extra, message, capsys):
    assert main(["sweep", "--no-progress", *extra]) == 2
    assert message in capsys.readouterr().err
