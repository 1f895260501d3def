"""The ``fastpar run-scenarios`` command: the summary table on the shipped
sample set and the embedded sample data in each mode, a data directory in
the batch_orchestrator API's layout, a tick file, ``--broker``,
per-scenario failures, and clear errors (naming the file and the field) for
unusable input."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fastpar.cli import SAMPLE_DATA_NOTE, main
from fastpar.scenario_config import ScenarioConfigLoader, data_path
from fastpar.scenarios import run_scenarios
from fastpar.ticks import TickDataLoader, synthetic_ticks

SAMPLE = "sample_scenarios.json"
BROKER = str(data_path("broker_config.json"))
HEADER = ("scenario", "trades", "P&L", "win rate", "max DD", "ticks/s")
TESTS = Path(__file__).resolve().parent
# The batch_orchestrator API's data layout, written by its own importer,
# and a scenario set for it.
FINIEX_DATA = TESTS / "data" / "finiex" / "processed"
FINIEX_SET = TESTS / "finiex" / "sets" / "core_consensus.json"


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
    # no --ticks: the embedded sample data, and the output says so first
    note, header = out.splitlines()[:2]
    assert note == SAMPLE_DATA_NOTE and "embedded sample data" in note
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


def write_set(path, scenarios, broker=BROKER, **top):
    """The sample set's global block with these scenarios. The sample's
    broker_config_path is relative: outside fastpar's data directory it
    would be read from the working directory, as the API reads it."""
    doc = json.loads(data_path(SAMPLE).read_text())
    doc.update(top)
    if broker is not None:
        doc["global"]["trade_simulator_config"]["broker_config_path"] = broker
    doc["scenarios"] = scenarios
    path.write_text(json.dumps(doc))
    return str(path)


def test_failing_scenario_exits_nonzero(tmp_path, capsys):
    path = write_set(
        tmp_path / "set.json",
        [
            {"name": "ok", "symbol": "EURUSD", "start_date": "2025-09-03T07:00:00+00:00",
             "end_date": "2025-09-03T09:00:00+00:00"},
            {"name": "weekend", "symbol": "EURUSD", "start_date": "2025-09-06T07:00:00+00:00",
             "end_date": "2025-09-06T09:00:00+00:00"},
            {"name": "off_tick", "symbol": "EURUSD", "start_date": "2025-09-03T07:00:30+00:00",
             "end_date": "2025-09-03T09:00:00+00:00", "max_ticks": 100},
        ],
    )
    assert main(["run-scenarios", path, "--no-progress"]) == 1
    out = capsys.readouterr().out
    rows = rows_by_name(out)
    assert rows["ok"][-1] != "FAILED"
    assert rows["weekend"][-1] == "FAILED" and rows["off_tick"][-1] == "FAILED"
    assert "error: scenario 'weekend'" in out and "no tick data from 2025-09-06T07:00:00" in out
    # the API needs a tick at the start of a window
    assert "error: scenario 'off_tick'" in out and "no tick at the start" in out
    assert "1/3 scenarios ran" in out


@pytest.mark.parametrize(
    "scenarios, field",
    [
        ([{"name": "x", "start_date": "2025-09-03", "end_date": "2025-09-04"}], "symbol"),
        ([{"name": "x", "symbol": "EURUSD", "start_date": "2025-09-04", "end_date": "2025-09-03"}],
         "end_date"),
        ([{"name": "x", "symbol": "EURUSD", "start_date": "2025-09-03",
           "end_date": "2025-09-04T00:00:00+00:00"}], "time zone"),
    ],
    ids=["missing-symbol", "end-before-start", "one-date-with-time-zone"],
)
def test_malformed_set_names_file_and_field(tmp_path, capsys, scenarios, field):
    path = write_set(tmp_path / "broken.json", scenarios)
    assert main(["run-scenarios", path]) == 2
    err = capsys.readouterr().err
    assert path in err and field in err and ("scenarios[0]" in err or "scenario 'x'" in err)


def test_what_the_api_checks_only_when_a_scenario_runs(tmp_path, capsys):
    """The API's loader reads a set without checking a scenario's values or
    unknown fields: a bad max_ticks, a date without a time zone or a
    missing broker file fail that scenario alone; an unknown field is
    ignored."""
    good = {"symbol": "EURUSD", "start_date": "2025-09-03T07:00:00+00:00",
            "end_date": "2025-09-03T09:00:00+00:00"}
    path = write_set(tmp_path / "set.json", [
        dict(good, name="bad_max_ticks", max_ticks=-5),
        dict(good, name="unknown_field", strat_config={}),
        dict(good, name="naive_dates", start_date="2025-09-03T07:00:00",
             end_date="2025-09-03T09:00:00"),
        dict(good, name="no_broker",
             trade_simulator_config={"broker_config_path": str(tmp_path / "nope.json")}),
    ])
    assert main(["run-scenarios", path, "--no-progress"]) == 1
    out = capsys.readouterr().out
    rows = rows_by_name(out)
    assert rows["unknown_field"][-1] != "FAILED"
    for name in ("bad_max_ticks", "naive_dates", "no_broker"):
        assert rows[name][-1] == "FAILED", out
    assert "max_ticks must be a positive integer" in out
    assert "has no time zone" in out
    assert "Broker config not found" in out and "nope.json" in out


def test_invalid_json_and_missing_file(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"scenarios": [')
    assert main(["run-scenarios", str(bad)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "JSON" in err
    assert main(["run-scenarios", str(tmp_path / "absent.json")]) == 2
    assert "absent.json" in capsys.readouterr().err


def test_no_broker_config_path_fails_each_scenario_and_broker_replaces_it(tmp_path, capsys):
    # relative, as in the shipped set: read from the working directory
    path = write_set(tmp_path / "set.json", [
        {"name": "a", "symbol": "EURUSD", "start_date": "2025-09-03T07:00:00+00:00",
         "end_date": "2025-09-03T09:00:00+00:00"}], broker="no/such/broker.json")
    assert main(["run-scenarios", path, "--no-progress"]) == 1
    out = capsys.readouterr().out
    assert rows_by_name(out)["a"][-1] == "FAILED" and "Broker config not found" in out
    assert main(["run-scenarios", path, "--no-progress", "--broker", BROKER]) == 0
    assert main(["run-scenarios", path, "--broker", str(tmp_path / "absent.json")]) == 2
    assert "absent.json" in capsys.readouterr().err


def test_data_directory_in_the_api_layout(capsys):
    """--ticks DIR reads the API's layout (tick and bar files its importer
    wrote, tests/finiex/README.md): the rows are those of run_scenarios on
    a TickDataLoader of that directory."""
    assert main(["run-scenarios", str(FINIEX_SET), "--ticks", str(FINIEX_DATA),
                 "--broker", BROKER, "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert SAMPLE_DATA_NOTE not in out
    rows = rows_by_name(out)
    results = run_scenarios(TickDataLoader(FINIEX_DATA), str(FINIEX_SET), broker=BROKER,
                            progress=False)
    assert len(rows) == len(results) > 1
    for r in results:
        trades, pnl = rows[r.scenario_name][:2]
        assert int(trades) == r.portfolio_stats.total_trades
        assert pnl == f"{r.portfolio_value - r.initial_balance:+,.2f}"


def test_data_directory_errors(tmp_path, capsys):
    assert main(["run-scenarios", SAMPLE, "--ticks", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path) in err and "no tick files" in err


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
        [{"name": "from_csv", "symbol": "EURUSD", "start_date": "2025-09-02T07:00:00+00:00",
          "end_date": "2025-09-02T12:00:00+00:00"},
         {"name": "after_csv", "symbol": "EURUSD", "start_date": "2025-09-10T07:00:00+00:00",
          "end_date": "2025-09-10T12:00:00+00:00"}],
    )
    # "ticks.csv" names no symbol: the set's only one is used
    assert main(["run-scenarios", set_path, "--ticks", str(csv), "--no-progress"]) == 1
    out = capsys.readouterr().out
    assert SAMPLE_DATA_NOTE not in out
    rows = rows_by_name(out)
    assert rows["from_csv"][-1] != "FAILED" and rows["after_csv"][-1] == "FAILED"
    # the row of these ticks in memory
    (r, _) = run_scenarios(t, set_path, broker=BROKER, progress=False)
    assert rows["from_csv"][:2] == [str(r.portfolio_stats.total_trades),
                                    f"{r.portfolio_value - r.initial_balance:+,.2f}"]
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
    assert r.stdout.startswith(SAMPLE_DATA_NOTE)
    assert "EURUSD_week2" in r.stdout and "scenarios ran in" in r.stdout
