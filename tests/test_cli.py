"""The ``fastpar run-scenarios`` command: the summary table on the shipped
sample set in each mode, per-scenario failures, tick files, and clear
errors (naming the file and the field) for malformed scenario sets."""

import json
import subprocess
import sys

import pytest
from fastpar.cli import main
from fastpar.scenario_config import ScenarioConfigLoader, data_path
from fastpar.ticks import synthetic_ticks

SAMPLE = "sample_scenarios.json"
HEADER = ("scenario", "trades", "P&L", "win rate", "max DD", "ticks/s")


@pytest.fixture(scope="module")
def sample_names():
    return [s.name for s in ScenarioConfigLoader().load_config(SAMPLE)]


def rows_by_name(out):
    rows = {}
    for line in out.splitlines():
        parts = line.split()
        is_row = len(parts) == 6 and "ran" not in parts
        if is_row and parts[0] != "scenario" and not parts[0].startswith("-"):
            rows[parts[0]] = parts[1:]
    return rows


@pytest.mark.parametrize(
    "flags",
    [[], ["--sequential"], ["--native"], ["--threads", "2"], ["--native", "--threads", "1"]],
    ids=["default", "sequential", "native", "threads2", "native1"],
)
def test_sample_set_table(capsys, sample_names, flags):
    assert main(["run-scenarios", SAMPLE, "--no-progress", *flags]) == 0
    out = capsys.readouterr().out
    header = out.splitlines()[0]
    for h in HEADER:
        assert h in header
    rows = rows_by_name(out)
    for name in sample_names:
        assert name in rows, out
        trades, pnl, win_rate, max_dd, rate = rows[name]
        assert int(trades) >= 0 and win_rate.endswith("%")
        float(pnl.replace(",", ""))
        float(max_dd.replace(",", ""))
    assert f"{len(sample_names)}/{len(sample_names)} scenarios ran in" in out


def test_same_table_in_every_mode(capsys):
    tables = []
    for flags in ([], ["--sequential"], ["--native"]):
        assert main(["run-scenarios", SAMPLE, "--no-progress", *flags]) == 0
        rows = rows_by_name(capsys.readouterr().out)
        tables.append({name: cells[:4] for name, cells in rows.items()})  # ticks/s varies
    assert tables[0] == tables[1] == tables[2]


def test_progress_bar_goes_to_stderr(capsys):
    assert main(["run-scenarios", SAMPLE]) == 0
    captured = capsys.readouterr()
    assert "tick" in captured.err and "scenario" in captured.out


def write_set(path, scenarios, **top):
    doc = json.loads(data_path(SAMPLE).read_text())
    doc.update(top)
    doc["scenarios"] = scenarios
    path.write_text(json.dumps(doc))
    return str(path)


def test_failing_scenario_exits_nonzero(tmp_path, capsys):
    path = write_set(
        tmp_path / "set.json",
        [
            {"name": "ok", "symbol": "EURUSD", "start_date": "2025-09-03T07:00:00",
             "end_date": "2025-09-03T09:00:00"},
            {"name": "weekend", "symbol": "EURUSD", "start_date": "2025-09-06T07:00:00",
             "end_date": "2025-09-06T09:00:00"},
        ],
    )
    assert main(["run-scenarios", path, "--no-progress"]) == 1
    out = capsys.readouterr().out
    rows = rows_by_name(out)
    assert rows["weekend"][-1] == "FAILED" and rows["ok"][-1] != "FAILED"
    assert "error: scenario 'weekend'" in out and "no ticks" in out
    assert "1/2 scenarios ran" in out


@pytest.mark.parametrize(
    "scenarios, field",
    [
        ([{"name": "x", "start_date": "2025-09-03", "end_date": "2025-09-04"}], "symbol"),
        ([{"name": "x", "symbol": "EURUSD", "start_date": "2025-09-04", "end_date": "2025-09-03"}],
         "end_date"),
        ([{"name": "x", "symbol": "EURUSD", "start_date": "2025-09-03", "end_date": "2025-09-04",
           "max_ticks": -5}], "max_ticks"),
        ([{"name": "x", "symbol": "EURUSD", "start_date": "2025-09-03", "end_date": "2025-09-04",
           "strat_config": {}}], "strat_config"),
    ],
    ids=["missing-symbol", "end-before-start", "bad-max-ticks", "unknown-field"],
)
def test_malformed_set_names_file_and_field(tmp_path, capsys, scenarios, field):
    path = write_set(tmp_path / "broken.json", scenarios)
    assert main(["run-scenarios", path]) == 2
    err = capsys.readouterr().err
    assert path in err and field in err and "scenarios[0]" in err


def test_invalid_json_and_missing_file(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"scenarios": [')
    assert main(["run-scenarios", str(bad)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "JSON" in err
    assert main(["run-scenarios", str(tmp_path / "absent.json")]) == 2
    assert "absent.json" in capsys.readouterr().err


def test_ticks_file(tmp_path, capsys):
    t = synthetic_ticks("EURUSD", start="2025-09-01", days=4)
    csv = tmp_path / "ticks.csv"
    with open(csv, "w") as f:
        f.write("timestamp,bid,ask,volume\n")
        f.writelines(
            f"{ts},{b!r},{a!r},{v!r}\n"
            for ts, b, a, v in zip(t.timestamp.tolist(), t.bid.tolist(), t.ask.tolist(),
                                   t.volume.tolist(), strict=True)
        )
    set_path = write_set(
        tmp_path / "set.json",
        [{"name": "from_csv", "symbol": "EURUSD", "start_date": "2025-09-02T07:00:00",
          "end_date": "2025-09-02T12:00:00"},
         {"name": "after_csv", "symbol": "EURUSD", "start_date": "2025-09-10T07:00:00",
          "end_date": "2025-09-10T12:00:00"}],
    )
    assert main(["run-scenarios", set_path, "--ticks", str(csv), "--no-progress"]) == 1
    out = capsys.readouterr().out
    rows = rows_by_name(out)
    assert rows["from_csv"][-1] != "FAILED" and rows["after_csv"][-1] == "FAILED"
    assert main(["run-scenarios", set_path, "--ticks", str(tmp_path / "nope.csv")]) == 2
    assert "nope.csv" in capsys.readouterr().err


def test_bad_threads(capsys):
    assert main(["run-scenarios", SAMPLE, "--threads", "0"]) == 2
    assert "--threads" in capsys.readouterr().err


def test_console_entry_point():
    r = subprocess.run(
        [sys.executable, "-m", "fastpar.cli", "run-scenarios", SAMPLE, "--no-progress",
         "--threads", "2"],
        capture_output=True, text=True, timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert "EURUSD_week2" in r.stdout and "scenarios ran in" in r.stdout
