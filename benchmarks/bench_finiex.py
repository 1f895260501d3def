"""W5: the one-import switch against the real batch_orchestrator API.

The real FiniexTestingIDE (a checkout given by FASTPAR_FINIEX_ROOT, with the
generated data of tests/finiex installed in its data/processed; see
tests/finiex/README.md) runs the scenario sets of tests/finiex/sets with
its own BatchOrchestrator, then fastpar's drop-in runs them with the same
objects (the API's ScenarioConfigLoader scenarios, its TickDataLoader, app
config and ScenarioSetPerformanceManager), in the same process, one
thread each (the app config's parallel mode switched off for both):

* ``run()``: the whole batch, with a fresh data loader each round (the
  loader's cache empty: both sides load their ticks) and a second time
  with the same loader (its cache warm);
* the tick loop: the API's own per-tick timing (``profiling_data``) against
  fastpar's engine time, over the scenarios that ran;
* USER parts: a set whose scenarios add one USER worker beside a CORE
  logic, and a USER decision logic with a USER worker;
* threads: fastpar's drop-in with ``ThreadPoolExecutor(2)`` against
  sequentially, on a batch of equal scenarios.

The measuring side runs in an interpreter that has both fastpar and the
real code's dependencies (FASTPAR_FINIEX_PYTHON, default this one) and
prints JSON; the figures of the last run are kept in
docs/figures/w5_finiex.json, and a run without a checkout renders those,
saying when they were measured.

    FASTPAR_FINIEX_ROOT=/path/to/checkout python benchmarks/bench_finiex.py [--quick]
"""

from __future__ import annotations

import contextlib
import datetime
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SETS = ROOT / "tests" / "finiex" / "sets"
USER_MODULES = ROOT / "tests" / "finiex" / "user"
RECORD = ROOT / "docs" / "figures" / "w5_finiex.json"

TITLE = "W5: the one-import switch against the real batch_orchestrator"

CORE_SETS = ("core_aggressive.json", "core_consensus.json")


# ---------------------------------------------------------------------------
# Measuring (inside the checkout, with the real code importable)
# ---------------------------------------------------------------------------


def _quiet():
    """The real code logs to the console on every step: keep it off the
    clock's output (its cost stays in its time)."""
    return contextlib.redirect_stdout(io.StringIO())


def _patch_real():
    from python.components.display import live_progress_display as lpd
    from python.configuration import AppConfigLoader

    # One thread on both sides; no terminal display thread.
    AppConfigLoader.get_default_parallel_scenarios = classmethod(lambda cls: False)
    lpd.LiveProgressDisplay.start = lambda self: None
    lpd.LiveProgressDisplay.stop = lambda self: None


def _load(name, edit=None):
    from python.scenario.config_loader import ScenarioConfigLoader

    with _quiet():
        scenarios = ScenarioConfigLoader(str(SETS)).load_config(name)
    return [s for s in (edit(s) for s in scenarios) if s is not None] if edit else scenarios


def _run(orchestrator_cls, scenarios, loader=None):
    from python.configuration import AppConfigLoader
    from python.data_worker.data_loader.core import TickDataLoader
    from python.framework.reporting.scenario_set_performance_manager import \
        ScenarioSetPerformanceManager

    loader = loader or _timed(TickDataLoader("./data/processed/"))
    log = ScenarioSetPerformanceManager()
    with _quiet():
        orchestrator = orchestrator_cls(scenarios, loader, AppConfigLoader(), log)
        t0 = time.perf_counter()
        summary = orchestrator.run()
        wall = time.perf_counter() - t0
    return wall, summary, log.get_all_scenarios(), loader


def _timed(loader):
    """The loader, its ``load_symbol_data`` clocked: the share of a cold
    run that is the user's own loading, the same on both sides."""
    inner = loader.load_symbol_data
    loader.load_seconds = 0.0

    def load_symbol_data(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            loader.load_seconds += time.perf_counter() - t0

    loader.load_symbol_data = load_symbol_data
    return loader


def _loop_ms(stats, key):
    return sum(s.profiling_data.get(key, 0.0) for s in stats)


def _compare(name, scenarios, rounds):
    """Both run()s, cold and warm; and the tick loops."""
    from python.framework.batch_orchestrator import BatchOrchestrator as Real

    from fastpar.batch_orchestrator import BatchOrchestrator as Fast

    real_cold, summary, real_stats, loader = _run(Real, scenarios)
    real_warm = _run(Real, scenarios, loader)[0]
    ok = [e.get("success", False) for e in summary["scenario_results"]]
    fast_cold = fast_warm = float("inf")
    fast_stats = None
    for _ in range(rounds):
        wall, fsum, fast_stats, floader = _run(Fast, scenarios)
        assert [e.get("success", False) for e in fsum["scenario_results"]] == ok, name
        if wall < fast_cold:
            fast_cold, fast_load = wall, floader.load_seconds
        fast_warm = min(fast_warm, _run(Fast, scenarios, floader)[0])
    for a, b in zip(real_stats, fast_stats):  # the same numbers, or the row is void
        assert (a.portfolio_value, a.ticks_processed) == (b.portfolio_value, b.ticks_processed)
    return {
        "set": name,
        "scenarios": len(scenarios),
        "ran": sum(ok),
        "ticks": sum(s.ticks_processed for s in real_stats),
        "real_cold_s": real_cold,
        "real_warm_s": real_warm,
        "fastpar_cold_s": fast_cold,
        "loader_s": fast_load,
        "fastpar_warm_s": fast_warm,
        "real_loop_ms": _loop_ms(real_stats, "total_per_tick"),
        "fastpar_engine_ms": _loop_ms(fast_stats, "engine_ms"),
        "fastpar_user_ms": _loop_ms(fast_stats, "user_python_ms"),
    }


def _one_user_worker(s):
    """A CORE scenario with one USER worker beside its CORE workers."""
    sc = s.strategy_config
    if not sc.get("decision_logic_type", "").startswith("CORE/"):
        return None
    sc["worker_instances"] = {k: v for k, v in sc["worker_instances"].items()
                              if not v.startswith("USER/") or k == "mom"}
    sc["workers"] = {k: v for k, v in sc["workers"].items() if k in sc["worker_instances"]}
    return s


def _user_logic(s):
    ok = s.strategy_config.get("decision_logic_type") == "USER/momentum_logic"
    return s if ok and s.name != "user_logic_with_range_worker" else None


def _threads(rounds):
    """fastpar's drop-in, sequential against ThreadPoolExecutor(2), on
    equal scenarios (the CORE sets' successful ones, each twice)."""
    from python.configuration import AppConfigLoader

    from fastpar.batch_orchestrator import BatchOrchestrator as Fast

    scenarios = [s for s in _load("core_aggressive.json")
                 if s.max_ticks and s.symbol != "USDJPY"] * 2
    times = {}
    for parallel in (False, True):
        AppConfigLoader.get_default_parallel_scenarios = classmethod(lambda cls, p=parallel: p)
        AppConfigLoader.get_default_max_parallel_scenarios = classmethod(lambda cls: 2)
        loader = _run(Fast, scenarios)[3]  # warm the loader's cache
        times[parallel] = min(_run(Fast, scenarios, loader)[0] for _ in range(rounds))
    AppConfigLoader.get_default_parallel_scenarios = classmethod(lambda cls: False)
    return {"scenarios": len(scenarios), "sequential_s": times[False], "threads2_s": times[True]}


def measure(quick: bool) -> dict:
    root = Path(os.environ["FASTPAR_FINIEX_ROOT"]).resolve()
    os.chdir(root)
    sys.path.insert(0, str(root))
    for kind in ("workers", "decision_logic"):  # our USER modules, in its tree
        target = root / "python" / kind / "user"
        for f in (USER_MODULES / kind).glob("*.py"):
            (target / f.name).write_text(f.read_text())
    _patch_real()
    import fastpar
    import numpy
    import pandas

    rounds = 1 if quick else 3
    rows = [_compare(n, _load(n), rounds) for n in (CORE_SETS[:1] if quick else CORE_SETS)]
    rows.append(_compare("one USER worker", _load("user_parts.json", _one_user_worker), rounds))
    rows.append(_compare("USER logic + worker", _load("user_parts.json", _user_logic), rounds))
    return {
        "measured": datetime.date.today().isoformat(),
        "python": sys.version.split()[0],
        "numpy": numpy.__version__,
        "pandas": pandas.__version__,
        "fastpar": fastpar.__version__,
        "cpus": os.cpu_count(),
        "sets": rows,
        "threads": _threads(rounds),
    }


# ---------------------------------------------------------------------------
# Rendering (benchmarks/run.py)
# ---------------------------------------------------------------------------


def _ratio(a, b):
    return f"{a / b:.0f}x" if b > 0 else "—"


def sections(result: dict, note: str) -> list[dict]:
    rows = []
    for r in result["sets"]:
        rows.append([
            r["set"], f"{r['ran']}/{r['scenarios']}", f"{r['ticks']:,}",
            f"{r['real_cold_s']:.2f}", f"{r['fastpar_cold_s'] * 1000:.0f}",
            _ratio(r["real_cold_s"], r["fastpar_cold_s"]),
            f"{r['loader_s'] / r['fastpar_cold_s']:.0%}",
            f"{r['real_warm_s']:.2f}", f"{r['fastpar_warm_s'] * 1000:.1f}",
            _ratio(r["real_warm_s"], r["fastpar_warm_s"]),
            _ratio(r["real_loop_ms"], r["fastpar_engine_ms"]),
            f"{r['fastpar_user_ms'] / max(1e-9, r['fastpar_engine_ms']):.0%}",
        ])
    t = result["threads"]
    return [{
        "title": TITLE,
        "intro": (
            "The real FiniexTestingIDE (f4145f3 with the direction fix of ea3b731) and fastpar's "
            "drop-in on the same generated data (tests/finiex) with the real code's own objects "
            "(scenario loader, TickDataLoader, app config, performance log), one thread each. "
            "*cold*: a fresh data loader (both load their ticks); *loader share*: the part of "
            "fastpar's cold time spent in the user's TickDataLoader (the same calls the real "
            "code makes, so the cold ratio cannot exceed real time over loader time); *warm*: "
            "the loader's cache filled. *tick loop*: the real code's own per-tick timing against fastpar's engine "
            "time (the C call, USER code included). Every scenario reported the same numbers "
            f"on both sides. {note}"),
        "headers": ["set", "ran", "ticks", "real cold s", "fastpar cold ms", "x", "loader share",
                    "real warm s", "fastpar warm ms", "x", "tick loop x", "USER share"],
        "rows": rows,
        "notes": [
            f"Threads: {t['scenarios']} equal scenarios through the drop-in, warm loader: "
            f"sequential {t['sequential_s'] * 1000:.1f} ms, ThreadPoolExecutor(2) "
            f"{t['threads2_s'] * 1000:.1f} ms, {t['sequential_s'] / t['threads2_s']:.2f}x. "
            "These windows are short (2,000 to 12,000 ticks): the Python each scenario runs "
            "around its engine call (the real loader's DataFrames, the factories, the result "
            "objects) holds the GIL for about as long as the engine runs, which bounds the "
            "gain; W4 measures threads on longer windows.",
            f"Measured {result['measured']} with Python {result['python']}, NumPy "
            f"{result['numpy']}, pandas {result['pandas']}, {result['cpus']} CPUs.",
        ],
    }]


def run(quick: bool, log) -> list[dict]:
    if not os.environ.get("FASTPAR_FINIEX_ROOT"):
        if not RECORD.exists():
            return [{"title": TITLE, "intro": "Not measured: set FASTPAR_FINIEX_ROOT to a "
                     "FiniexTestingIDE checkout (tests/finiex/README.md)."}]
        result = json.loads(RECORD.read_text())
        return sections(result, "Not re-run here (no checkout given): the figures recorded on "
                        f"{result['measured']}.")
    python = os.environ.get("FASTPAR_FINIEX_PYTHON", sys.executable)
    log(f"W5: the real code at {os.environ['FASTPAR_FINIEX_ROOT']} with {python}")
    out = subprocess.run([python, str(Path(__file__).resolve()), "--worker"]
                         + (["--quick"] if quick else []),
                         capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    if not quick:
        RECORD.write_text(json.dumps(result, indent=1) + "\n")
    return sections(result, "")


if __name__ == "__main__":
    if "--worker" in sys.argv:
        real_stdout = sys.stdout
        with contextlib.redirect_stdout(sys.stderr):
            result = measure("--quick" in sys.argv)
        real_stdout.write(json.dumps(result))
    else:
        import runpy

        sys.path.insert(0, str(HERE))
        for s in run("--quick" in sys.argv, lambda m: print(m, file=sys.stderr)):
            print(runpy.run_path(str(HERE / "run.py"))["render_sections"]([s]))
