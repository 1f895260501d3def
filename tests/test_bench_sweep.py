"""The W3 sweep benchmark runs and compares like with like.

A `--quick --json` smoke run of benchmarks/bench_sweep.py in a subprocess:
every section is there, every implementation that is installed has a time,
and the fused Numba loop, vectorbt and fastpar.sweep (where this build has
it) give the same total_return (to 1e-9), max_drawdown and trade counts for
every parameter set, so the timings compare the same work.
"""

import importlib.util
import json
import subprocess
import sys
import types
from pathlib import Path

import pytest

import fastpar

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "bench_sweep.py"

pytestmark = pytest.mark.thread_unsafe(reason="one subprocess that times threads: never several at once")

HAS_SWEEP = hasattr(fastpar, "sweep")
WORKLOADS = ("RSI threshold: 81 sets × 1 × 5,000 bars", "RSI threshold: 81 sets × 4 × 2,000 bars",
             "MA cross (SMA): 171 sets × 1 × 5,000 bars")


@pytest.fixture(scope="module")
def sections():
    # the oracles of the agreement check; they install wherever numba has a wheel
    pytest.importorskip("numba", reason="numba is not installed (no wheel for this Python)")
    pytest.importorskip("vectorbt", reason="vectorbt is not installed (it needs numba)")
    pytest.importorskip("talib", reason="TA-Lib is not installed (no wheel for free-threaded Python)")
    proc = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--json"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return {s["title"]: s for s in json.loads(proc.stdout)}


def rows_by_label(section):
    return [dict(zip(section["headers"], row)) for row in section["rows"]]


def test_every_section_is_there(sections):
    titles = list(sections)
    assert titles[:2] == ["What runs", "Goals"]
    for title in WORKLOADS + ("Do they compute the same thing?",):
        assert title in titles
    assert any(t.startswith("backtesting.py: 8 sets") for t in titles), titles
    assert any(t.startswith("Peak memory") for t in titles), titles


@pytest.mark.parametrize("title", WORKLOADS)
def test_every_installed_implementation_has_a_time(title, sections):
    rows = rows_by_label(sections[title])
    labels = {(r["implementation"], r["threads"]) for r in rows}
    assert {("Numba prange, fused", "1"), ("Numba prange, fused", "2")} <= labels
    for r in rows:
        if r["implementation"].startswith("fastpar.sweep") and not HAS_SWEEP:
            assert r["note"] == "fastpar.sweep is not in this build"
            continue
        assert r["note"] == "", r
        assert r["time"].endswith(("µs", "ms", " s")), r
        assert float(r["ns/bar/set"].replace(",", "")) > 0, r


def test_the_implementations_agree(sections):
    rows = rows_by_label(sections["Do they compute the same thing?"])
    compared = {r["comparison"] for r in rows if r["agree"] == "yes"}
    assert {"Numba 1 thread vs 2 threads", "Numba vs vectorbt"} <= compared
    if HAS_SWEEP:
        assert {"fastpar.sweep 1 thread vs 2 threads", "fastpar.sweep vs Numba",
                "fastpar.sweep vs vectorbt"} <= compared
    for r in rows:
        if r["agree"].startswith("not run"):
            assert not HAS_SWEEP and "fastpar.sweep" in r["comparison"], r
            continue
        assert r["agree"] == "yes", r
        n = int(r["sets"].replace(",", ""))
        assert int(r["total_return"].replace(",", "")) == n, r
        assert int(r["trades"].replace(",", "")) == n, r
    # three workloads, each with its Numba-vs-vectorbt check
    assert sum(r["comparison"] == "Numba vs vectorbt" for r in rows) == 3


def test_backtesting_and_goals_are_reported(sections):
    bt = next(s for t, s in sections.items() if t.startswith("backtesting.py"))
    first = rows_by_label(bt)[0]
    if first["note"] != "backtesting.py not installed":
        assert first["note"] == "", first
        assert int(first["backtests"]) == 9  # 8 sets and the best one again
    goals = rows_by_label(sections["Goals"])
    vs_vectorbt = [g for g in goals if g["ratio"] == "fastpar (1 thread) / vectorbt"]
    assert len(vs_vectorbt) == 3
    for g in vs_vectorbt:
        if HAS_SWEEP:
            assert g["measured"].endswith("x") and g["met"] in ("yes", "**NO**"), g
        else:
            assert g["met"] == "— (not measured)", g


@pytest.mark.skipif(not HAS_SWEEP, reason="fastpar.sweep is not in this build")
def test_memory_rows_have_a_growth(sections):
    mem = next(s for t, s in sections.items() if t.startswith("Peak memory"))
    fp = [r for r in rows_by_label(mem) if r["implementation"] == "fastpar.sweep"]
    assert len(fp) == 2
    for r in fp:
        assert r["growth"].endswith(("kB", "MB")), r
        assert r["growth / (data + results)"].endswith("x"), r
    goal = [g for g in rows_by_label(sections["Goals"])
            if g["ratio"] == "fastpar peak memory growth / (data + results)"]
    assert len(goal) == 1 and goal[0]["met"] in ("yes", "**NO**"), goal


def test_no_config_is_timed_freeing_another_configs_output(monkeypatch, freeing_clock):
    """Each config's clock covers its own call only: a peer's output can
    take real time to free, and that must not land on the next config."""
    spec = importlib.util.spec_from_file_location("bench_sweep", SCRIPT)
    bench = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "bench_sweep", bench)  # its dataclasses look it up there
    spec.loader.exec_module(bench)

    class Output:
        pass

    clock = types.SimpleNamespace(perf_counter=freeing_clock.perf_counter)
    monkeypatch.setattr(bench, "time", clock)
    configs = [bench.Config(label, 1, lambda: freeing_clock.watch(Output()), warm=lambda: None,
                            stats=lambda _out: ((0.0,), (0.0,), (0,)))
               for label in ("a", "b", "c")]
    bench.time_configs(configs, rounds=3, budget=1e9, log=print)
    assert freeing_clock.now > 3e3  # outputs were freed while it ran
    assert all(c.error is None and c.best < 1 for c in configs), [(c.label, c.best, c.error)
                                                                  for c in configs]
