#!/usr/bin/env python3
"""Run the real FiniexTestingIDE on our scenario sets and write golden JSON.

This is the ORACLE side of the FiniexTestingIDE comparison: it imports the
real code (a checkout of github.com/dc-deal/FiniexTestingIDE at f4145f3 with
the direction fix of ea3b731 applied, see tests/finiex/README.md) and never
reimplements any of it. The checkout is given by --finiex-root or the
environment variable FASTPAR_FINIEX_ROOT; everything runs with that checkout
as the working directory and on sys.path, because the real code reads
./configs/... and ./data/processed/ relative to the cwd and is imported as
``python.framework...``.

Subcommands
-----------
import JSONDIR [--copy-to DIR]
    Run the real TickDataImporter (time_offset 0) on the MQL5 JSON exports in
    JSONDIR (as written by tests/finiex/generate.py; they are copied first,
    since the importer moves what it processed to ./data/finished), into
    <root>/data/processed, which it re-renders bars for. With --copy-to, the
    tick and bar parquet files (not the index JSON files, which hold absolute
    paths) are copied to DIR in the same layout (mt5/ticks/..., mt5/bars/...).

install-data DIR
    Copy parquet files laid out as above (e.g. tests/data/finiex/processed)
    into <root>/data/processed, replacing what is there; the real loader then
    rebuilds its index files.

run SET.json [SET.json ...] --out DIR
    For each scenario-set file: load it with the real ScenarioConfigLoader
    (config_path = the file's directory), build TickDataLoader("./data/processed/"),
    AppConfigLoader and ScenarioSetPerformanceManager as strategy_runner.py
    does, run BatchOrchestrator(...).run() SEQUENTIALLY (the app config's
    default_parallel_scenarios getter is patched to False: the real parallel
    mode has a barrier bug) and write DIR/<set-name>.json. Each set runs in
    a fresh interpreter.

What is patched in the real code, at run time only
--------------------------------------------------
* AppConfigLoader.get_default_parallel_scenarios -> False (sequential).
* LiveProgressDisplay.start/stop -> no-ops (a terminal UI thread that only
  reads state; its stop() sleeps 0.5 s, which would distort the wall time).
* Observing wrappers (call the original, return its result unchanged, only
  record): ScenarioSetPerformanceManager.set_trade_simulator (to get each
  scenario's TradeSimulator), TradeSimulator.send_order / _fill_pending_order
  / close_position (tick number of each order, fill-time rejections, which
  the real code does not put into its order history, and closes),
  DecisionTradingAPI.close_position (close by the decision logic vs. the
  auto-close after the tick loop) and
  BarRenderingController.get_warmup_quality_metrics (warm-up bar counts).

Golden file layout (run_one()): "source" (commit, patch, versions, seed,
command, wall time of run()), "load_error" ({type, message} if the loader
refused the file, else null) and "scenarios", one per loaded (enabled)
scenario in order: "index", "name", "result" (run()'s entry), "scenario"
(the merged config as loaded), "exception_type" and "validation_error" (the
DataValidationError message hidden behind the AttributeError) when they
apply, and when it succeeded "stats" (the number/string fields of
ScenarioPerformanceStats, scenario_requirement with all_timeframes sorted,
sample_signals), "portfolio_stats", "execution_stats", "cost_breakdown",
"worker_statistics" (call counts only), "warmup_bars", "warmup_quality";
whenever a TradeSimulator was made: "fills", "rejections" (stage "send":
in the order history; stage "fill": margin refusals at fill time, which the
real code leaves out of its history), "trades" (closed positions),
"open_positions_left", "balance", "tick_counter". Enums are written by name
(BUY/SELL, EXECUTED, INSUFFICIENT_MARGIN, ...). Floats are written with repr
(exact round trip), inf/-inf/nan as the strings "inf", "-inf", "nan"; ints
stay ints (e.g. an initial_balance of 10000 in the JSON set).
"""

from __future__ import annotations

import argparse
import dataclasses
import enum
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))
from generate import DEFAULT_SEED  # noqa: E402  (the seed the committed data uses)

FINIEX_COMMIT = "f4145f3"
PATCH_NOTE = "direction fix of ea3b731 (directions as OrderDirection)"


def finiex_root(arg):
    root = arg or os.environ.get("FASTPAR_FINIEX_ROOT")
    if not root:
        sys.exit("oracle.py: give --finiex-root or set FASTPAR_FINIEX_ROOT")
    root = Path(root).resolve()
    if not (root / "python" / "framework" / "batch_orchestrator.py").exists():
        sys.exit(f"oracle.py: {root} is not a FiniexTestingIDE checkout")
    return root


def enter_root(root: Path):
    os.chdir(root)
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))


# ----------------------------------------------------------------------------
# JSON conversion
# ----------------------------------------------------------------------------

def plain(v):
    """Numbers and strings as they are (floats exact), containers recursively."""
    if isinstance(v, bool) or v is None or isinstance(v, (int, str)):
        return v
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return v
    if isinstance(v, enum.Enum):
        return v.name
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if dataclasses.is_dataclass(v):
        return {f.name: plain(getattr(v, f.name)) for f in dataclasses.fields(v)}
    try:  # numpy scalars
        import numpy as np
        if isinstance(v, np.generic):
            return plain(v.item())
    except ImportError:
        pass
    return repr(v)


def dumps(v, level=0):
    """JSON with an indent of 1, but a list of flat records one record a line."""
    pad = " " * level
    if isinstance(v, dict) and v:
        items = [f'{pad} {json.dumps(k)}: {dumps(x, level + 1).lstrip()}' for k, x in v.items()]
        return pad + "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(v, list) and v:
        flat = all(isinstance(x, dict) and all(not isinstance(y, (dict, list)) for y in x.values())
                   for x in v)
        if flat:
            items = [pad + " " + json.dumps(x, allow_nan=False) for x in v]
        else:
            items = [dumps(x, level + 1) for x in v]
        return pad + "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return pad + json.dumps(v, allow_nan=False)


def scalars(obj):
    """The number/string/bool fields of a dataclass."""
    out = {}
    for f in dataclasses.fields(obj):
        v = getattr(obj, f.name)
        if isinstance(v, (int, float, str, bool)) or v is None:
            out[f.name] = plain(v)
    return out


# ----------------------------------------------------------------------------
# import / install-data
# ----------------------------------------------------------------------------

def clean_processed(root: Path):
    proc = root / "data" / "processed"
    for sub in ("mt5",):
        shutil.rmtree(proc / sub, ignore_errors=True)
    for idx in proc.glob(".parquet*index*.json"):
        idx.unlink()
    proc.mkdir(parents=True, exist_ok=True)


def copy_parquet(src: Path, dst: Path):
    n = size = 0
    for f in sorted(src.glob("*/*/*/*.parquet")):
        rel = f.relative_to(src)
        if rel.parts[1] not in ("ticks", "bars"):
            continue
        (dst / rel.parent).mkdir(parents=True, exist_ok=True)
        shutil.copy2(f, dst / rel)
        n += 1
        size += f.stat().st_size
    return n, size


def cmd_import(args):
    root = finiex_root(args.finiex_root)
    src = Path(args.jsondir).resolve()
    enter_root(root)
    clean_processed(root)
    with tempfile.TemporaryDirectory(prefix="finiex-json-") as tmp:
        for f in sorted(src.glob("*_ticks.json")):
            shutil.copy2(f, tmp)
        from python.data_worker.importer.tick_importer import TickDataImporter
        imp = TickDataImporter(tmp, "./data/processed", override=False, time_offset=0)
        imp.process_all_mql5_exports()
        if imp.errors:
            sys.exit(f"oracle.py import: importer errors: {imp.errors}")
    for f in (root / "data" / "finished").glob("*_ticks.json"):
        f.unlink()  # the importer's moved copies; regenerate instead
    if args.copy_to:
        dst = Path(args.copy_to).resolve()
        shutil.rmtree(dst / "mt5", ignore_errors=True)
        n, size = copy_parquet(root / "data" / "processed", dst)
        print(f"copied {n} parquet files, {size} bytes, to {dst}")


def cmd_install_data(args):
    root = finiex_root(args.finiex_root)
    src = Path(args.datadir).resolve()
    clean_processed(root)
    n, size = copy_parquet(src, root / "data" / "processed")
    print(f"installed {n} parquet files, {size} bytes, into {root}/data/processed")


# ----------------------------------------------------------------------------
# run
# ----------------------------------------------------------------------------

class Capture:
    """What the observing wrappers record, per scenario index."""

    def __init__(self):
        self.current = None
        self.sims = {}
        self.per = {}

    def slot(self, idx=None):
        idx = self.current if idx is None else idx
        return self.per.setdefault(idx, {
            "orders": [], "fill_rejections": [], "closes": [], "warmup_quality": None,
        })


def install_patches(cap: Capture):
    from python.configuration import AppConfigLoader
    from python.components.display import live_progress_display as lpd
    from python.framework.reporting.scenario_set_performance_manager import \
        ScenarioSetPerformanceManager
    from python.framework.trading_env.trade_simulator import TradeSimulator
    from python.framework.trading_env.decision_trading_api import DecisionTradingAPI
    from python.framework.bars.bar_rendering_controller import BarRenderingController

    AppConfigLoader.get_default_parallel_scenarios = classmethod(lambda cls: False)
    lpd.LiveProgressDisplay.start = lambda self: None
    lpd.LiveProgressDisplay.stop = lambda self: None

    orig_set_sim = ScenarioSetPerformanceManager.set_trade_simulator

    def set_trade_simulator(self, scenario_index, sim):
        cap.current = scenario_index
        cap.sims[scenario_index] = sim
        sim._oracle_slot = cap.slot(scenario_index)
        sim._oracle_via_api = False
        return orig_set_sim(self, scenario_index, sim)

    ScenarioSetPerformanceManager.set_trade_simulator = set_trade_simulator

    orig_send = TradeSimulator.send_order

    def send_order(self, symbol, order_type, direction, lots, **kwargs):
        tick = self._tick_counter
        res = orig_send(self, symbol, order_type, direction, lots, **kwargs)
        slot = getattr(self, "_oracle_slot", None)
        if slot is not None:
            slot["orders"].append({
                "order_id": res.order_id,
                "tick": tick,
                "symbol": symbol,
                "order_type": plain(order_type),
                "direction": plain(direction),
                "lots": plain(lots),
                "status": plain(res.status),
                "rejection_reason": plain(res.rejection_reason),
                "rejection_message": res.rejection_message,
            })
        return res

    TradeSimulator.send_order = send_order

    orig_fill = TradeSimulator._fill_pending_order

    def _fill_pending_order(self, pending_order):
        res = orig_fill(self, pending_order)
        slot = getattr(self, "_oracle_slot", None)
        if res is not None and slot is not None:
            slot["fill_rejections"].append({
                "order_id": res.order_id,
                "tick": self._tick_counter,
                "direction": plain(pending_order.direction),
                "lots": plain(pending_order.lots),
                "rejection_reason": plain(res.rejection_reason),
                "rejection_message": res.rejection_message,
            })
        return res

    TradeSimulator._fill_pending_order = _fill_pending_order

    orig_close = TradeSimulator.close_position

    def close_position(self, position_id, lots=None):
        tick = self._tick_counter
        via_api = getattr(self, "_oracle_via_api", False)
        res = orig_close(self, position_id, lots)
        slot = getattr(self, "_oracle_slot", None)
        if slot is not None:
            slot["closes"].append({
                "position_id": position_id,
                "tick": tick,
                "by": "decision_logic" if via_api else "auto_close_after_loop",
                "status": plain(res.status),
                "executed_price": plain(res.executed_price),
                "realized_pnl": plain(res.metadata.get("realized_pnl")),
                "rejection_message": res.rejection_message,
            })
        return res

    TradeSimulator.close_position = close_position

    orig_api_close = DecisionTradingAPI.close_position

    def api_close_position(self, position_id, lots=None):
        sim = self._simulator
        sim._oracle_via_api = True
        try:
            return orig_api_close(self, position_id, lots)
        finally:
            sim._oracle_via_api = False

    DecisionTradingAPI.close_position = api_close_position

    orig_wq = BarRenderingController.get_warmup_quality_metrics

    def get_warmup_quality_metrics(self):
        res = orig_wq(self)
        if cap.current is not None:
            cap.slot()["warmup_quality"] = plain(res)
            cap.slot()["warmup_bars"] = {
                tf: len(bars) for tf, bars in self._warmup_data.items()}
        return res

    BarRenderingController.get_warmup_quality_metrics = get_warmup_quality_metrics

    # The orchestrator catches DataValidationError and hands it to
    # vLog.validation_error(), which fails with an AttributeError (it uses a
    # never-set self.file_logger); that AttributeError becomes the scenario's
    # error. Record the original message, then behave exactly as before.
    from python.components.logger.visual_console_logger import VisualConsoleLogger
    orig_verr = VisualConsoleLogger.validation_error

    def validation_error(self, message, context=None):
        if cap.current is not None:
            cap.slot()["validation_error"] = {
                "message": message, "context": plain(context)}
        return orig_verr(self, message, context)

    VisualConsoleLogger.validation_error = validation_error

    # The type of the exception that ended a scenario (run() keeps only str(e)).
    from python.framework.batch_orchestrator import BatchOrchestrator
    orig_exec = BatchOrchestrator._execute_single_scenario

    def _execute_single_scenario(self, scenario, scenario_index, barrier=None):
        try:
            return orig_exec(self, scenario, scenario_index, barrier=barrier)
        except Exception as e:
            cap.slot(scenario_index)["exception_type"] = type(e).__name__
            raise

    BatchOrchestrator._execute_single_scenario = _execute_single_scenario


def worker_counts(ws):
    if ws is None:
        return None
    out = {
        "ticks_processed": ws.ticks_processed,
        "total_workers": ws.total_workers,
        "total_worker_calls": ws.total_worker_calls,
        "parallel_mode": plain(ws.parallel_mode),
        "workers": {
            name: {"worker_type": w.worker_type, "worker_call_count": w.worker_call_count}
            for name, w in ws.workers.items()
        },
        "decision_logic": None,
    }
    if ws.decision_logic is not None:
        d = ws.decision_logic
        out["decision_logic"] = {
            "logic_type": d.logic_type,
            "logic_name": d.logic_name,
            "decision_count": d.decision_count,
            "decision_buy_count": d.decision_buy_count,
            "decision_sell_count": d.decision_sell_count,
        }
    return out


def trading_record(sim, slot):
    """fills, rejections, closed positions of one scenario's TradeSimulator."""
    from python.framework.types.order_types import OrderStatus
    history = sim.get_order_history()
    submitted = {}
    fills = []
    rejections = []
    for r in history:
        md = r.metadata or {}
        if r.status == OrderStatus.PENDING:
            submitted[r.order_id] = md.get("submitted_at_tick")
        elif r.status == OrderStatus.EXECUTED and "filled_at_tick" in md:
            fills.append({
                "order_id": r.order_id,
                "submitted_at_tick": submitted.get(r.order_id),
                "filled_at_tick": md["filled_at_tick"],
                "direction": plain(md.get("direction")),
                "lots": plain(r.executed_lots),
                "executed_price": plain(r.executed_price),
                "spread_cost": plain(md.get("spread_cost")),
                "spread_points": plain(md.get("spread_points")),
                "position_id": md.get("position_id"),
            })
        elif r.status == OrderStatus.REJECTED:
            rejections.append({
                "stage": "send",
                "order_id": r.order_id,
                "reason": plain(r.rejection_reason),
                "message": r.rejection_message,
            })
    send_ticks = {o["order_id"]: o["tick"] for o in slot["orders"]}
    for rj in rejections:
        rj["tick"] = send_ticks.get(rj["order_id"])
    for fr in slot["fill_rejections"]:
        rejections.append({
            "stage": "fill",
            "order_id": fr["order_id"],
            "reason": fr["rejection_reason"],
            "message": fr["rejection_message"],
            "tick": fr["tick"],
        })
    opened = {f["position_id"]: f["filled_at_tick"] for f in fills}
    closes = {c["position_id"]: c for c in slot["closes"] if c["status"] == "EXECUTED"}
    trades = []
    for p in sim.get_closed_positions():
        c = closes.get(p.position_id, {})
        trades.append({
            "position_id": p.position_id,
            "symbol": p.symbol,
            "direction": plain(p.direction),
            "lots": plain(p.lots),
            "entry_price": plain(p.entry_price),
            "close_price": plain(p.close_price),
            "realized_pnl": c.get("realized_pnl"),
            "position_pnl": plain(p.unrealized_pnl),
            "spread_cost": plain(p.get_spread_cost()),
            "opened_at_tick": opened.get(p.position_id),
            "closed_at_tick": c.get("tick"),
            "closed_by": c.get("by"),
        })
    return {
        "fills": fills,
        "rejections": rejections,
        "trades": trades,
        "open_positions_left": [p.position_id for p in sim.get_open_positions()],
        "balance": plain(sim.portfolio.balance),
        "tick_counter": sim._tick_counter,
    }


def scenario_config(s):
    return {
        "symbol": s.symbol,
        "start_date": s.start_date,
        "end_date": s.end_date,
        "max_ticks": s.max_ticks,
        "data_mode": s.data_mode,
        "strategy_config": plain(s.strategy_config),
        "execution_config": plain(s.execution_config),
        "trade_simulator_config": plain(s.trade_simulator_config),
    }


def versions():
    import numpy
    import pandas
    import pyarrow
    return {"numpy": numpy.__version__, "pandas": pandas.__version__,
            "pyarrow": pyarrow.__version__,
            "python": ".".join(map(str, sys.version_info[:3]))}


def run_one(set_file: Path, out_file: Path, command: str, seed):
    """Run one scenario-set file in this (fresh) interpreter."""
    cap = Capture()
    install_patches(cap)
    from python.configuration import AppConfigLoader
    from python.scenario.config_loader import ScenarioConfigLoader
    from python.framework.reporting.scenario_set_performance_manager import \
        ScenarioSetPerformanceManager
    from python.data_worker.data_loader.core import TickDataLoader
    from python.framework.batch_orchestrator import BatchOrchestrator

    v = versions()
    golden = {
        "source": {
            "finiex_commit": FINIEX_COMMIT,
            "patch": PATCH_NOTE,
            "numpy": v["numpy"],
            "pandas": v["pandas"],
            "pyarrow": v["pyarrow"],
            "python": v["python"],
            "generator": "tests/finiex/generate.py",
            "seed": seed,
            "command": command,
            "set_file": set_file.name,
            "run_mode": "sequential (get_default_parallel_scenarios patched to False), "
                        "LiveProgressDisplay disabled",
            "wall_time_run_s": None,
            "execution_time_reported_s": None,
        },
        "load_error": None,
        "scenarios": [],
    }

    app_config = AppConfigLoader()
    try:
        scenarios = ScenarioConfigLoader(str(set_file.parent)).load_config(set_file.name)
    except Exception as e:  # the real loader refused the file
        golden["load_error"] = {"type": type(e).__name__, "message": str(e)}
        return golden

    data_worker = TickDataLoader("./data/processed/")
    perf = ScenarioSetPerformanceManager()
    orch = BatchOrchestrator(scenarios, data_worker, app_config, perf)
    t0 = time.perf_counter()
    result = orch.run()
    wall = time.perf_counter() - t0
    golden["source"]["wall_time_run_s"] = wall
    golden["source"]["execution_time_reported_s"] = result["execution_time"]

    stats = {s.scenario_index: s for s in perf.get_all_scenarios()}
    for idx, (scn, entry) in enumerate(zip(scenarios, result["scenario_results"])):
        rec = {
            "index": idx,
            "name": scn.name,
            "result": plain(entry),
            "scenario": scenario_config(scn),
        }
        st = stats.get(idx)
        if st is not None:
            rec["stats"] = {k: val for k, val in scalars(st).items()
                            if k not in ("elapsed_time",)}
            req = dict(st.scenario_requirement)
            if "all_timeframes" in req:
                req["all_timeframes"] = sorted(req["all_timeframes"])  # a set upstream
            rec["stats"]["scenario_requirement"] = plain(req)
            rec["stats"]["sample_signals"] = plain(st.sample_signals)
            rec["portfolio_stats"] = scalars(st.portfolio_stats)
            rec["execution_stats"] = scalars(st.execution_stats)
            rec["cost_breakdown"] = scalars(st.cost_breakdown)
            rec["worker_statistics"] = worker_counts(st.worker_statistics)
        slot = cap.per.get(idx)
        sim = cap.sims.get(idx)
        if slot is not None:
            if "exception_type" in slot:
                rec["exception_type"] = slot["exception_type"]
            if "validation_error" in slot:
                rec["validation_error"] = slot["validation_error"]
            rec["warmup_bars"] = slot.get("warmup_bars")
            rec["warmup_quality"] = slot.get("warmup_quality")
        if sim is not None:
            rec.update(trading_record(sim, slot))
        golden["scenarios"].append(rec)
    return golden


def cmd_run_one(args):
    """Internal: one set in this process (called by cmd_run)."""
    root = finiex_root(args.finiex_root)
    set_file = Path(args.set_file).resolve()
    out_file = Path(args.out_file).resolve()
    enter_root(root)
    golden = run_one(set_file, out_file, args.command, args.seed)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    with open(out_file, "w") as f:
        f.write(dumps(golden))
        f.write("\n")


def cmd_run(args):
    root = finiex_root(args.finiex_root)
    out = Path(args.out).resolve()
    logdir = Path(args.log_dir).resolve() if args.log_dir else None
    command = " ".join([Path(sys.executable).name] + [
        os.path.relpath(a, REPO) if os.path.isabs(a) and a.startswith(str(REPO)) else a
        for a in sys.argv])
    failed = []
    for s in args.sets:
        set_file = Path(s).resolve()
        name = set_file.stem
        out_file = out / f"{name}.json"
        cmd = [sys.executable, str(Path(__file__).resolve()),
               "--finiex-root", str(root), "_run-one", "--command", command,
               str(set_file), str(out_file)]
        if args.seed is not None:
            cmd += ["--seed", str(args.seed)]
        env = dict(os.environ, PYTHONPATH=str(root), PYTHONHASHSEED="0")
        t0 = time.time()
        if logdir:
            logdir.mkdir(parents=True, exist_ok=True)
            with open(logdir / f"{name}.log", "w") as log:
                rc = subprocess.call(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
        else:
            rc = subprocess.call(cmd, cwd=root, env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        dt = time.time() - t0
        if rc != 0:
            failed.append(name)
            print(f"{name}: FAILED (exit {rc})")
            continue
        g = json.load(open(out_file))
        print(summary_lines(name, g, dt))
    if failed:
        sys.exit(f"failed sets: {failed}")


def summary_lines(name, g, dt):
    lines = [f"{name}: {dt:.1f}s (run() {g['source']['wall_time_run_s']})"]
    if g["load_error"]:
        lines.append(f"  load_error {g['load_error']['type']}: "
                     f"{g['load_error']['message'].splitlines()[0][:150]}")
    for s in g["scenarios"]:
        r = s["result"]
        if "error" in r:
            lines.append(f"  [{s['index']}] {s['name']}: error: {r['error'].splitlines()[0][:150]}")
        else:
            st = s["stats"]
            lines.append(f"  [{s['index']}] {s['name']}: ok: {len(s['trades'])} trades / "
                         f"{st['ticks_processed']} ticks, {len(s['fills'])} fills, "
                         f"{len(s['rejections'])} rejections, balance {st['portfolio_value']}")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description="FiniexTestingIDE oracle driver")
    ap.add_argument("--finiex-root", help="FiniexTestingIDE checkout (or FASTPAR_FINIEX_ROOT)")
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("import", help="real TickDataImporter on generated JSON")
    p.add_argument("jsondir")
    p.add_argument("--copy-to")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("install-data", help="copy parquet into the checkout")
    p.add_argument("datadir")
    p.set_defaults(func=cmd_install_data)

    p = sub.add_parser("run", help="run scenario sets, write golden JSON")
    p.add_argument("sets", nargs="+")
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=DEFAULT_SEED,
                   help="generator seed the data was made with (recorded only)")
    p.add_argument("--log-dir", help="keep each set's console output here")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("_run-one")
    p.add_argument("--command", required=True)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("set_file")
    p.add_argument("out_file")
    p.set_defaults(func=cmd_run_one)

    args = ap.parse_args(argv)
    # subcommand-level --finiex-root is not defined; accept the global one
    args.func(args)


if __name__ == "__main__":
    main()
