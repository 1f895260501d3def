"""The ``fastpar sweep`` command line: its grid syntax, clear errors for
every malformed grid item (never another exception type), its options, and
unusable input reported before the sweep starts, naming the file."""

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
        (["period=2-50"], r"ranges are written START:STOP, e.g. period=2:50"),
        (["nbdev=0.5-2.5"], r"e.g. nbdev=0.5:2.5"),
        (["low=20,25-30"], r"e.g. low=25:30"),
    ],
)
def test_malformed_grid_items_are_value_errors(items, message):
    with pytest.raises(ValueError, match=message):
        parse_grid(items)


def test_negative_numbers_are_not_ranges():
    assert parse_grid(["x=-3,-2.5"]) == {"x": [-3, -2.5]}


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
    assert f"28 backtests on {data} in" in printed


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
        (["--strategy", "rsi_threshold", "--grid", "period=2-50", "low=30", "high=70"],
         "ranges are written START:STOP, e.g. period=2:50"),
        (["--strategy", "rsi_threshold", "--grid", *GRID_ARGS, "--sort-by", "luck"],
         "--sort-by 'luck': not a result column; choose from ['asset', 'period', 'low', "
         "'high', 'total_return',"),
        (["--strategy", "rsi_threshold", "--grid", *GRID_ARGS, "--sort-by", "asset"],
         "--sort-by asset: the data holds one asset"),
        (["--strategy", "rsi_threshold", "--grid", *GRID_ARGS, "--top", "0"], "--top must be"),
        (["--strategy", "rsi_threshold", "--grid", *GRID_ARGS, "--out", "/no/such/dir/r.csv"],
         "--out /no/such/dir/r.csv: no such directory"),
        (["--strategy", "rsi_threshold", "--grid", *GRID_ARGS, "--stop-loss", "0"],
         "stop_loss must be None or a fraction > 0"),
    ],
)
def test_sweep_command_bad_input_exits_2_with_a_message(extra, message, capsys, monkeypatch):
    """Reported before the sweep starts: a wrong --sort-by used to be found
    only after the whole sweep, and --out was then not written."""
    ran = []
    monkeypatch.setattr(fastpar, "sweep", lambda *a, **k: ran.append(1))
    if "--stop-loss" in extra:
        monkeypatch.undo()  # checked by fastpar.sweep itself, before it runs anything
    assert main(["sweep", "--no-progress", "--synthetic", "500", *extra]) == 2
    assert message in capsys.readouterr().err
    assert not ran


@pytest.mark.parametrize("write, message", [
    (lambda p: p.write_bytes(bytes(range(256)) * 40), "cannot read it as a CSV file ("),
    (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n\xb1\xff" * 50), "cannot read it as a CSV "
                                                                  "file (UnicodeDecodeError"),
    (lambda p: p.write_bytes(b""), "cannot read it as a CSV file (EmptyDataError"),
    (lambda p: p.write_text("price\n1\n2\n"), "data is missing column(s) close"),
    (lambda p: p.write_text("close\nabc\n"), "data['close'] must hold real numbers"),
    (lambda p: p.write_text("date,close\n2024-01-03,1\n2024-01-02,2\n"),
     "the times go back at its bar 1 (2024-01-02 00:00:00 after 2024-01-03 00:00:00); sort "
     "the file by time"),
    (lambda p: p.write_text("date,close\nmonday,1\n"), "column 'date' does not read as dates"),
])
def test_an_unusable_csv_file_is_named(tmp_path, capsys, write, message):
    path = tmp_path / "bars.csv"
    write(path)
    assert main(["sweep", "--no-progress", "--data", str(path), "--strategy", "rsi_threshold",
                 "--grid", *GRID_ARGS]) == 2
    err = capsys.readouterr().err
    assert f"--data {path}: {message}" in err, err


@pytest.mark.parametrize("times, message", [
    (np.arange(3000.0), "column 'timestamp' holds float64 timestamps; give dates"),
    (pd.date_range("2024-01-01", periods=3000, freq="min")[::-1],
     "the times of symbol 'AAA' go back at its bar 1"),
    (np.arange(3000, dtype=np.int64)[::-1], "the times of symbol 'AAA' go back at its bar 1"),
])
def test_an_unusable_parquet_file_is_named(tmp_path, capsys, times, message):
    (frame,) = bars_frame()
    frame = frame.assign(timestamp=times, symbol="AAA")
    path = tmp_path / "bars.parquet"
    frame.to_parquet(path)
    assert main(["sweep", "--no-progress", "--data", str(path), "--strategy", "rsi_threshold",
                 "--grid", *GRID_ARGS]) == 2
    err = capsys.readouterr().err
    assert f"--data {path}: {message}" in err, err
    (tmp_path / "not.parquet").write_text("close\n1\n")
    assert main(["sweep", "--no-progress", "--data", str(tmp_path / "not.parquet"),
                 "--strategy", "rsi_threshold", "--grid", *GRID_ARGS]) == 2
    assert f"--data {tmp_path / 'not.parquet'}: cannot read it as a Parquet file" in (
        capsys.readouterr().err)


def test_times_in_order_are_accepted(tmp_path, capsys):
    (frame,) = bars_frame()
    frame.insert(0, "Date", pd.date_range("2020-01-01", periods=len(frame), freq="D"))
    path = tmp_path / "bars.csv"
    frame.to_csv(path, index=False)
    assert main(["sweep", "--no-progress", "--data", str(path), "--strategy", "rsi_threshold",
                 "--grid", *GRID_ARGS]) == 0
    assert f"28 backtests on {path} in" in capsys.readouterr().out


def test_without_data_the_command_asks_for_it(capsys):
    """Synthetic bars only when asked for (--synthetic), and said so."""
    with pytest.raises(SystemExit) as e:
        main(["sweep", "--strategy", "rsi_threshold", "--grid", *GRID_ARGS])
    assert e.value.code == 2
    assert "one of the arguments --data --synthetic is required" in capsys.readouterr().err
    assert main(["sweep", "--no-progress", "--synthetic", "--strategy", "rsi_threshold",
                 "--grid", *GRID_ARGS]) == 0
    assert "28 backtests on 10,000 synthetic bars (seed 42) in" in capsys.readouterr().out


def test_costs_stops_and_periods_per_year(tmp_path, capsys):
    """--spread, --stop-loss, --take-profit and --periods-per-year reach the
    sweep: the written table is fastpar.sweep's with the same arguments."""
    (frame,) = bars_frame()
    data = tmp_path / "bars.csv"
    frame.to_csv(data, index=False)
    out = tmp_path / "all.csv"
    assert main(["sweep", "--no-progress", "--data", str(data), "--strategy", "rsi_threshold",
                 "--grid", *GRID_ARGS, "--fees", "0.001", "--spread", "0.02", "--stop-loss",
                 "0.03", "--take-profit", "0.06", "--periods-per-year", "52",
                 "--direction", "longshort", "--out", str(out)]) == 0
    capsys.readouterr()
    expected = fastpar.sweep(frame, "rsi_threshold", GRID, fees=0.001, spread=0.02,
                             stop_loss=0.03, take_profit=0.06, periods_per_year=52,
                             direction="longshort", progress=False)
    plain = fastpar.sweep(frame, "rsi_threshold", GRID, fees=0.001, direction="longshort",
                          progress=False)
    written = pd.read_csv(out)
    np.testing.assert_allclose(written[["total_return", "sharpe", "n_trades"]],
                               expected[["total_return", "sharpe", "n_trades"]], rtol=1e-12)
    assert not np.allclose(written["total_return"], plain["total_return"])
