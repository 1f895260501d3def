"""fastpar against the real batch_orchestrator API (FiniexTestingIDE at
f4145f3 with the direction fix of ea3b731), on data neither was tuned to.

tests/finiex/generate.py wrote MQL5 tick exports; the API's own importer
turned them into its data layout (tests/data/finiex/processed: tick files
and the bar files it renders); the API's own BatchOrchestrator ran the
scenario sets of tests/finiex/sets on them, and tests/finiex/oracle.py
stored every number it reported in tests/golden/finiex (see the
``source`` block of each file for the command and the versions).

Here fastpar runs the same sets on the same files, through the one-import
switch (fastpar.batch_orchestrator.BatchOrchestrator, sequentially, on
threads and on the native pool) and through fastpar.run_scenarios, and
every scenario must fail where the API's failed and otherwise report the
same numbers: every statistic, the sample signals, every fill, refusal
and closed position.
"""

import gzip
import json
import math
import shutil
from pathlib import Path

import pytest
from fastpar.batch_orchestrator import BatchOrchestrator
from fastpar.performance import ScenarioSetPerformanceManager
from fastpar.scenario_config import AppConfig, ScenarioConfigLoader, data_path
from fastpar.scenarios import run_scenarios
from fastpar.ticks import TickDataLoader

HERE = Path(__file__).resolve().parent
SETS = HERE / "finiex" / "sets"
GOLDEN = HERE / "golden" / "finiex"
DATA = HERE / "data" / "finiex" / "processed"
SET_NAMES = sorted(p.name for p in SETS.glob("*.json"))


def load_golden(name):
    path = GOLDEN / name
    if path.exists():
        return json.loads(path.read_text())
    with gzip.open(str(path) + ".gz", "rt") as f:
        return json.load(f)


@pytest.fixture(scope="module", autouse=True)
def user_project(tmp_path_factory):
    """The USER workers and decision logics of tests/finiex/user, importable
    as the API imports them (python.workers.user.<name>,
    python.decision_logic.user.<name>), over tests/finiex/shim: the API's
    module paths (python.framework...) re-exporting fastpar's own classes.
    The oracle ran the same files inside the real framework."""
    import sys

    root = tmp_path_factory.mktemp("user_project")
    shutil.copytree(HERE / "finiex" / "shim" / "python", root / "python")
    for kind in ("workers", "decision_logic"):
        target = root / "python" / kind / "user"
        target.mkdir(parents=True)
        (root / "python" / kind / "__init__.py").write_text("")
        (target / "__init__.py").write_text("")
        for f in (HERE / "finiex" / "user" / kind).glob("*.py"):
            shutil.copy(f, target / f.name)
    sys.path.insert(0, str(root))
    yield root
    sys.path.remove(str(root))
    for name in [n for n in sys.modules if n == "python" or n.startswith("python.")]:
        del sys.modules[name]


@pytest.fixture(scope="module")
def api_cwd(tmp_path_factory):
    """A working directory laid out as the API's: the scenario sets name
    their broker files relative to it (./configs/brokers/mt5/...)."""
    root = tmp_path_factory.mktemp("finiex_cwd")
    brokers = root / "configs" / "brokers" / "mt5"
    brokers.mkdir(parents=True)
    shutil.copy(data_path("broker_config.json"), brokers / "fastpar_test_broker.json")
    for f in (HERE / "finiex" / "brokers").glob("*.json"):
        shutil.copy(f, brokers / f.name)
    return root


@pytest.fixture(scope="module")
def loader():
    return TickDataLoader(DATA)


def same(a, b) -> bool:
    """Equal numbers (floats to the bit; inf stored as "inf"), equal text."""
    if b == "inf":
        b = math.inf
    if isinstance(a, float) or isinstance(b, float):
        return a == b
    return a == b


def compare(stats, result, golden, path):
    """Every number the API reported for a scenario against fastpar's."""
    problems = []

    def check(label, got, want):
        if not same(got, want):
            problems.append(f"{path}.{label}: fastpar {got!r}, API {want!r}")

    for key, want in golden["stats"].items():
        if key == "scenario_requirement":
            got = dict(stats.scenario_requirement)
            want = dict(want)
            got["all_timeframes"] = sorted(got["all_timeframes"])
            want["all_timeframes"] = sorted(want["all_timeframes"])
            check(key, got, want)
        elif key == "sample_signals":
            check(key, stats.sample_signals, want)
        else:
            check(key, getattr(stats, key), want)
    for block in ("portfolio_stats", "execution_stats", "cost_breakdown"):
        for key, want in golden[block].items():
            check(f"{block}.{key}", getattr(getattr(stats, block), key), want)
    ws, gw = stats.worker_statistics, golden["worker_statistics"]
    for key in ("ticks_processed", "total_workers", "total_worker_calls", "parallel_mode"):
        check(f"worker_statistics.{key}", getattr(ws, key), gw[key])
    for name, w in gw["workers"].items():
        check(f"workers.{name}.type", ws.workers[name].worker_type, w["worker_type"])
        check(f"workers.{name}.calls", ws.workers[name].worker_call_count, w["worker_call_count"])
    for key in ("logic_type", "logic_name", "decision_count", "decision_buy_count",
                "decision_sell_count"):
        check(f"decision_logic.{key}", getattr(ws.decision_logic, key), gw["decision_logic"][key])
    check("warmup_bars", result.warmup_bars, golden["warmup_bars"])

    # The API records fills and refusals as they happen: two orders in
    # flight may fill out of sending order.
    fills = sorted((o for o in result.orders if o.status == "executed"),
                   key=lambda o: o.filled_tick)
    check("fills", len(fills), len(golden["fills"]))
    for o, g in zip(fills, golden["fills"]):
        for got, key in ((o.order_id, "order_id"), (o.placed_tick, "submitted_at_tick"),
                         (o.filled_tick, "filled_at_tick"), (o.direction, "direction"),
                         (o.lots, "lots"), (o.fill_price, "executed_price"),
                         (o.spread_cost, "spread_cost"), (o.position_id, "position_id")):
            check(f"fill {g['order_id']}.{key}", got, g[key])
    refused = sorted((o for o in result.orders if o.status.startswith("rejected")),
                     key=lambda o: o.fill_at_tick if o.status == "rejected_at_fill"
                     else o.placed_tick)
    check("rejections", len(refused), len(golden["rejections"]))
    for o, g in zip(refused, golden["rejections"]):
        at_fill = o.status == "rejected_at_fill"
        check(f"rejection {g['order_id']}.stage", "fill" if at_fill else "send", g["stage"])
        check(f"rejection {g['order_id']}.order_id", o.order_id, g["order_id"])
        check(f"rejection {g['order_id']}.reason", o.rejection_reason.upper(), g["reason"])
        check(f"rejection {g['order_id']}.message", o.rejection, g["message"])
        check(f"rejection {g['order_id']}.tick", o.fill_at_tick if at_fill else o.placed_tick,
              g["tick"])
    check("trades", len(result.trades), len(golden["trades"]))
    for t, g in zip(result.trades, golden["trades"]):
        for got, key in ((t.position_id, "position_id"), (t.direction, "direction"),
                         (t.lots, "lots"), (t.entry_price, "entry_price"),
                         (t.exit_price, "close_price"), (t.pnl, "realized_pnl"),
                         (t.spread_cost, "spread_cost"), (t.entry_tick, "opened_at_tick"),
                         (t.exit_tick, "closed_at_tick")):
            check(f"trade {g['position_id']}.{key}", got, g[key])
        check(f"trade {g['position_id']}.closed_by",
              "auto_close_after_loop" if t.reason == "end_of_scenario" else "decision_logic",
              g["closed_by"])
    return problems


def run_orchestrator(scenarios, loader, mode):
    execution = {"default_parallel_scenarios": mode != "sequential",
                 "default_max_parallel_scenarios": 3}
    log = ScenarioSetPerformanceManager()
    orchestrator = BatchOrchestrator(scenarios, loader, AppConfig.from_dict(
        {"execution": execution}), log, native=mode == "native")
    results = []
    original = orchestrator._finish

    def keep(index, prep, result):  # the full results, for fills and trades
        results.append((index, result))
        return original(index, prep, result)

    orchestrator._finish = keep
    summary = orchestrator.run()
    return summary, {s.scenario_index: s for s in log.get_all_scenarios()}, dict(results)


@pytest.mark.parametrize("mode", ["sequential", "threads", "native"])
@pytest.mark.parametrize("set_name", SET_NAMES)
def test_one_import_switch_reports_the_apis_numbers(set_name, mode, api_cwd, loader,
                                                    monkeypatch):
    monkeypatch.chdir(api_cwd)
    golden = load_golden(set_name)
    if golden["load_error"]:
        with pytest.raises(ValueError, match="before start_date|time zone|ISO"):
            ScenarioConfigLoader(SETS).load_config(set_name)
        return
    scenarios = ScenarioConfigLoader(SETS).load_config(set_name)
    assert [s.name for s in scenarios] == [g["name"] for g in golden["scenarios"]]
    summary, stats, results = run_orchestrator(scenarios, loader, mode)
    assert summary["success"] is True and summary["scenarios_count"] == len(scenarios)
    problems = []
    for g, entry in zip(golden["scenarios"], summary["scenario_results"], strict=True):
        api_ok = "success" in g["result"]
        if api_ok != ("success" in entry):
            problems.append(f"{g['name']}: API {g['result']}, fastpar {entry}")
        elif api_ok:
            assert entry == {"success": True, "scenario_name": g["name"]}
            problems += compare(stats[g["index"]], results[g["index"]], g, g["name"])
        else:
            assert entry["scenario"] == g["name"] and entry["error"]
    assert not problems, "\n".join(problems[:30])


@pytest.mark.parametrize("set_name", [n for n in SET_NAMES if "bad_dates" not in n])
def test_run_scenarios_reports_the_apis_numbers(set_name, api_cwd, loader, monkeypatch):
    """fastpar's own batch call on the pool: the same numbers."""
    monkeypatch.chdir(api_cwd)
    golden = load_golden(set_name)
    scenarios = ScenarioConfigLoader(SETS).load_config(set_name)
    out = run_scenarios(loader, scenarios, threads=2, progress=False)
    problems = []
    for g, result in zip(golden["scenarios"], out, strict=True):
        api_ok = "success" in g["result"]
        if api_ok != (not isinstance(result, BaseException)):
            problems.append(f"{g['name']}: API {g['result']}, fastpar {result!r}")
        elif api_ok:
            problems += compare(result.to_performance_stats(g["index"]), result, g, g["name"])
    assert not problems, "\n".join(problems[:30])


def test_goldens_cover_the_rules_that_differ_from_the_summary():
    """The sets exercise what the issue lists: two orders in flight and two
    positions open, refusals at send and at fill, a start inside a bar,
    synthetic warm-up bars, duplicates, and the API's refusals."""
    names = set()
    two_open = refused_send = refused_fill = 0
    for set_name in SET_NAMES:
        golden = load_golden(set_name)
        for g in golden["scenarios"]:
            names.add(g["name"])
            trades = g.get("trades") or []
            events = sorted([(t["opened_at_tick"], 1) for t in trades]
                            + [(t["closed_at_tick"], -1) for t in trades])
            level = peak = 0
            for _, d in events:
                level += d
                peak = max(peak, level)
            two_open += peak >= 2
            for r in g.get("rejections") or []:
                refused_send += r["stage"] == "send"
                refused_fill += r["stage"] == "fill"
    assert two_open and refused_send and refused_fill
    for expected in ("edge_start_inside_m5_bar", "edge_after_weekend_synthetic_warmup",
                     "edge_no_tick_at_start_second", "edge_heavy_rsi_as_rsi_fast",
                     "edge_no_broker_config_path", "edge_realistic_drops_duplicates"):
        assert expected in names
