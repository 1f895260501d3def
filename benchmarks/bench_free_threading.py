"""Free-threading study: ThreadPoolExecutor scaling on the GIL build and on 3.13t.

A reproduction, with fastpar, of a users' study of thread scaling on
free-threaded CPython (their experiments 1 and 2): tasks go through
``concurrent.futures.ThreadPoolExecutor(T).map`` for T = 1..os.cpu_count()
(and T = 2 x cpus, oversubscribed), and the wall time of each run is
compared with T = 1. The workloads:

* ``cpu_python``: Wilder's RSI(14) as a plain Python loop over a list of
  500 prices (about 0.1 ms per task), the same read-only list for every task;
* ``cpu_fastpar``: ``fastpar.rsi(x, 14)`` over the same 500 prices as a
  float64 array: a tiny task, mostly Python-side call overhead;
* ``cpu_fastpar_large``: ``fastpar.rsi(row, 14)`` over one 100,000-price row
  of a shared read-only 2-D array: the C kernel dominates;
* ``io``: ``time.sleep(0.001)``.

The worker mode measures on the interpreter that runs it and prints one JSON
document; the driver mode runs the worker on the GIL build (this
interpreter) and on a free-threaded 3.13t, and renders Markdown.

    python benchmarks/bench_free_threading.py [--ft-python PATH] [--quick] [--out FILE.md]
    python benchmarks/bench_free_threading.py --worker [--quick]      # JSON on stdout

The free-threaded interpreter is ``--ft-python``, else the environment
variable FASTPAR_FT_VENV_PYTHON, else ``.venv-ft/bin/python`` in the
repository (``make test-ft`` creates it, with fastpar installed). It needs
fastpar and NumPy; TA-Lib is not used.

For benchmarks/run.py this module has the usual ``TITLE`` and
``run(quick, log)`` (sections to render), and ``markdown(quick, ft_python)``
gives the whole section as Markdown.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Sequence

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

TITLE = "Free-threading study: thread scaling on the GIL build and on 3.13t"

PERIOD = 14
SMALL_PRICES = 500  # prices per task for cpu_python and cpu_fastpar
LARGE_PRICES = 100_000  # prices per task for cpu_fastpar_large
LARGE_ROWS = 16  # rows of the shared 2-D array; task i reads row i % LARGE_ROWS
SLEEP_S = 0.001

WORKLOADS = ("cpu_python", "cpu_fastpar", "cpu_fastpar_large", "io")
LABELS = {
    "cpu_python": f"pure-Python RSI, {SMALL_PRICES:,} prices/task",
    "cpu_fastpar": f"fastpar RSI, {SMALL_PRICES:,} prices/task",
    "cpu_fastpar_large": f"fastpar RSI, {LARGE_PRICES:,} prices/task",
    "io": f"IO: time.sleep({SLEEP_S:g})",
}
PRICES_PER_TASK = {"cpu_python": SMALL_PRICES, "cpu_fastpar": SMALL_PRICES,
                   "cpu_fastpar_large": LARGE_PRICES}

# Task counts per workload: the study's 100 / 1,000 / 10,000, except for the
# sleep, which stops at 1,000 (10,000 sleeps of 1 ms take over 10 s at T = 1,
# every round, and scale no differently).
STUDY_TASKS = (100, 1_000, 10_000)
FULL_TASKS = {"cpu_python": STUDY_TASKS, "cpu_fastpar": STUDY_TASKS,
              "cpu_fastpar_large": STUDY_TASKS, "io": (100, 1_000)}
QUICK_TASKS = {"cpu_python": (20, 200), "cpu_fastpar": (20, 200),
               "cpu_fastpar_large": (10, 40), "io": (20, 100)}
FULL_ROUNDS, QUICK_ROUNDS = 5, 2
# Calls per plain sequential loop on the main thread (no executor): the
# single-thread cost of each build.
CPU_WORKLOADS = ("cpu_python", "cpu_fastpar", "cpu_fastpar_large")
FULL_LOOP = {"cpu_python": 1_000, "cpu_fastpar": 10_000, "cpu_fastpar_large": 1_000}
QUICK_LOOP = {"cpu_python": 50, "cpu_fastpar": 200, "cpu_fastpar_large": 20}

# What the expectations are checked against (T = number of CPUs).
SCALES_FRACTION = 0.75  # "scales": speed-up >= 0.75 x T (1.5x on 2 cores)
NEAR_ONE = 1.25  # "does not scale": speed-up <= 1.25x
FASTPAR_PER_THREAD_GOAL = 10.0  # fastpar at least 10x pure Python, per thread


# --------------------------------------------------------------------------
# Worker: measurements on the current interpreter


def python_rsi(prices: list, period: int = PERIOD) -> list:
    """Wilder's RSI (TA-Lib's definition) as a plain Python loop over a list."""
    n = len(prices)
    out = [math.nan] * n
    if n <= period:
        return out
    gain = loss = 0.0
    prev = prices[0]
    for i in range(1, period + 1):
        p = prices[i]
        d = p - prev
        prev = p
        if d > 0:
            gain += d
        else:
            loss -= d
    gain /= period
    loss /= period
    total = gain + loss
    out[period] = 100.0 * gain / total if total != 0 else 0.0
    keep = period - 1
    for i in range(period + 1, n):
        p = prices[i]
        d = p - prev
        prev = p
        if d > 0:
            gain = (gain * keep + d) / period
            loss = (loss * keep) / period
        else:
            gain = (gain * keep) / period
            loss = (loss * keep - d) / period
        total = gain + loss
        out[i] = 100.0 * gain / total if total != 0 else 0.0
    return out


def free_threaded_build() -> bool:
    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def gil_enabled() -> bool:
    return bool(getattr(sys, "_is_gil_enabled", lambda: True)())


def steady_malloc() -> bool:
    """Keep freed memory (glibc), so every configuration reuses warm pages
    instead of paying page faults for the 800 kB outputs of the large tasks
    in some configurations and not in others. True if applied."""
    from fastpar.allocator import keep_freed_memory

    return keep_freed_memory()


def _load() -> list[float] | None:
    return list(os.getloadavg()) if hasattr(os, "getloadavg") else None


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _machine_busy() -> float | None:
    """CPU seconds all processes have used since boot (Linux /proc/stat), or None."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = f.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in (fields[1:9] + ["0"] * 8)[:8])
    return (user + nice + system + irq + softirq + steal) / _TICK


def worker(quick: bool = False, log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run every measurement on this interpreter; return the JSON-able report."""
    import numpy as np

    import fastpar
    from fastpar.synthetic import random_walk

    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    started = time.perf_counter()
    load_start = _load()
    gil_at_start = gil_enabled()
    cpus = os.cpu_count() or 1
    thread_counts = list(range(1, cpus + 1)) + [2 * cpus]
    tasks = QUICK_TASKS if quick else FULL_TASKS
    rounds = QUICK_ROUNDS if quick else FULL_ROUNDS
    loop_calls = QUICK_LOOP if quick else FULL_LOOP
    malloc_steady = steady_malloc()
    tag = f"[{platform.python_version()}{'t' if free_threaded_build() else ''}]"

    # The shared, read-only data, built once.
    small = random_walk(1, SMALL_PRICES, seed=1)[0]
    small.flags.writeable = False
    small_list = small.tolist()
    large = random_walk(LARGE_ROWS, LARGE_PRICES, seed=2)
    large.flags.writeable = False

    py = python_rsi(small_list)
    fp = fastpar.rsi(small, PERIOD)
    same = bool(np.allclose(py, fp, rtol=1e-9, atol=1e-9, equal_nan=True))

    # Each task returns the last RSI value, as a signal would, not its whole
    # output: ThreadPoolExecutor.map keeps every result until the run ends,
    # and 10,000 outputs of 100,000 prices would hold 8 GB.
    def cpu_python(_i: int) -> float:
        return python_rsi(small_list)[-1]

    def cpu_fastpar(_i: int) -> float:
        return float(fastpar.rsi(small, PERIOD)[-1])

    def cpu_fastpar_large(i: int) -> float:
        return float(fastpar.rsi(large[i % LARGE_ROWS], PERIOD)[-1])

    def io(_i: int) -> Any:
        time.sleep(SLEEP_S)

    fns = {"cpu_python": cpu_python, "cpu_fastpar": cpu_fastpar,
           "cpu_fastpar_large": cpu_fastpar_large, "io": io}

    executors = {t: ThreadPoolExecutor(max_workers=t) for t in thread_counts}
    best: dict[str, dict[int, dict[int, float]]] = {
        w: {n: {t: math.inf for t in thread_counts} for n in tasks[w]} for w in WORKLOADS}
    # Per configuration, for its fastest run: CPU cores this process kept
    # busy, and cores other processes on the machine took meanwhile.
    used: dict[str, dict[int, dict[int, tuple]]] = {
        w: {n: {t: (None, None) for t in thread_counts} for n in tasks[w]} for w in WORKLOADS}
    loop_best = {w: math.inf for w in CPU_WORKLOADS}
    timed = [0.0, 0.0, 0.0]  # wall, own CPU, others' CPU over every timed run
    have_proc_stat = _machine_busy() is not None
    try:
        # Start every worker thread and warm every code path before timing.
        for ex in executors.values():
            for w in WORKLOADS:
                list(ex.map(fns[w], range(2 * len(thread_counts) + 2)))
        for r in range(rounds):
            t_round = time.perf_counter()
            for w in WORKLOADS:
                fn = fns[w]
                for n in tasks[w]:
                    for t in thread_counts:
                        ex = executors[t]
                        busy0, cpu0 = _machine_busy(), time.process_time()
                        t0 = time.perf_counter()
                        list(ex.map(fn, range(n)))
                        dt = time.perf_counter() - t0
                        cpu = time.process_time() - cpu0
                        others = None if busy0 is None else max(0.0, _machine_busy() - busy0 - cpu)
                        timed[0] += dt
                        timed[1] += cpu
                        if others is not None:
                            timed[2] += others
                        if dt < best[w][n][t]:
                            best[w][n][t] = dt
                            # /proc/stat counts in ticks (10 ms): too coarse for short runs
                            used[w][n][t] = (cpu / dt, None if others is None or dt < 0.25 else others / dt)
            for w in CPU_WORKLOADS:
                fn, n = fns[w], loop_calls[w]
                t0 = time.perf_counter()
                for i in range(n):
                    fn(i)
                loop_best[w] = min(loop_best[w], (time.perf_counter() - t0) / n)
            log(f"{tag} round {r + 1}/{rounds} in {time.perf_counter() - t_round:.1f} s")
    finally:
        for ex in executors.values():
            ex.shutdown()

    scaling = {}
    for w in WORKLOADS:
        per_n = {}
        for n in tasks[w]:
            secs = best[w][n]
            per_n[str(n)] = {
                "seconds": {str(t): secs[t] for t in thread_counts},
                "speedup": {str(t): secs[1] / secs[t] for t in thread_counts},
                "cores_used": {str(t): used[w][n][t][0] for t in thread_counts},
                "cores_used_by_others": {str(t): used[w][n][t][1] for t in thread_counts},
            }
        scaling[w] = {"label": LABELS[w], "prices_per_task": PRICES_PER_TASK.get(w), "tasks": per_n}
        top = max(tasks[w])
        log(f"{tag} {w:<18} {top:>6} tasks  T=1 {best[w][top][1]:.3f} s  "
            + "  ".join(f"T={t}: {best[w][top][1] / best[w][top][t]:.2f}x" for t in thread_counts[1:]))

    single = {}
    for w in CPU_WORKLOADS:
        n = max(tasks[w])
        single[w] = {
            "loop_calls": loop_calls[w],
            "per_task_s": loop_best[w],  # a plain loop on the main thread
            "tasks": n,
            "per_task_s_executor": best[w][n][1] / n,  # ThreadPoolExecutor(1), largest task count
            "cores_used_executor": used[w][n][1][0],
        }

    throughput = {}
    for w in CPU_WORKLOADS:
        n = max(tasks[w])
        throughput[w] = {
            "prices_per_s_1_thread": PRICES_PER_TASK[w] / loop_best[w],
            "tasks": n,
            "threads": cpus,
            "prices_per_s_per_thread": n * PRICES_PER_TASK[w] / best[w][n][cpus] / cpus,
        }

    return {
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "build": sys.version,
            "executable": sys.executable,
            "free_threaded_build": free_threaded_build(),
            "gil_enabled_at_start": gil_at_start,
            "gil_enabled_at_end": gil_enabled(),
            "cpu_count": cpus,
        },
        "fastpar": fastpar.__version__,
        "numpy": np.__version__,
        "quick": quick,
        "config": {
            "rounds": rounds,
            "thread_counts": thread_counts,
            "tasks": {w: list(tasks[w]) for w in WORKLOADS},
            "loop_calls": loop_calls,
            "prices_per_task": PRICES_PER_TASK,
            "period": PERIOD,
            "sleep_s": SLEEP_S,
            "malloc_steady": malloc_steady,
        },
        "python_rsi_matches_fastpar": same,
        "scaling": scaling,
        "single_thread": single,
        "throughput": throughput,
        "load_avg_start": load_start,
        "load_avg_end": _load(),
        "timed_s": timed[0],
        "mean_cores_used": timed[1] / timed[0] if timed[0] else None,
        "mean_cores_used_by_others": timed[2] / timed[0] if timed[0] and have_proc_stat else None,
        "elapsed_s": time.perf_counter() - started,
    }


# --------------------------------------------------------------------------
# Driver: the worker on both builds


def find_ft_python(ft_python: str | os.PathLike | None = None) -> tuple[str | None, str]:
    """The free-threaded interpreter to use, and where it came from."""
    if ft_python:
        return str(ft_python), "--ft-python"
    env = os.environ.get("FASTPAR_FT_VENV_PYTHON")
    if env:
        return env, "FASTPAR_FT_VENV_PYTHON"
    venv = ROOT / ".venv-ft" / "bin" / "python"
    if venv.exists():
        return str(venv), ".venv-ft"
    return None, ""


def run_worker(python: str, quick: bool, log: Callable[[str], None], attempts: int = 3) -> dict[str, Any]:
    """Run the worker under ``python``; its report, or {"error": ...}.

    A failed import is tried again a few seconds later (fastpar may be in
    the middle of being reinstalled in that environment)."""
    for attempt in range(1, attempts + 1):
        report = _run_worker_once(python, quick, log)
        error = report.get("error", "")
        if not ("ImportError" in error or "ModuleNotFoundError" in error) or attempt == attempts:
            return report
        log(f"  import failed under {python}; trying again in 5 s ({attempt}/{attempts - 1})")
        time.sleep(5)
    return report


def _run_worker_once(python: str, quick: bool, log: Callable[[str], None]) -> dict[str, Any]:
    cmd = [python, str(Path(__file__).resolve()), "--worker"] + (["--quick"] if quick else [])
    tail: deque[str] = deque(maxlen=15)
    t0 = time.perf_counter()
    try:
        with tempfile.TemporaryFile(mode="w+", encoding="utf-8") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE, text=True, cwd=str(ROOT))
            assert proc.stderr is not None
            for line in proc.stderr:
                line = line.rstrip("\n")
                tail.append(line)
                log(f"  {line}")
            rc = proc.wait()
            out.seek(0)
            text = out.read()
    except OSError as exc:
        return {"error": f"could not run {python}: {exc}"}
    if rc != 0:
        return {"error": f"`{' '.join(cmd)}` exited with {rc}: " + " / ".join(tail)}
    try:
        report = json.loads(text)
    except ValueError as exc:
        return {"error": f"the worker under {python} printed no JSON ({exc})"}
    report["wall_s"] = time.perf_counter() - t0
    return report


def collect(quick: bool = False, ft_python: str | os.PathLike | None = None,
            log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run the worker on this interpreter and on the free-threaded one."""
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    results: dict[str, Any] = {"gil": None, "ft": None, "notes": []}
    here = run_worker(sys.executable, quick, log)
    if "error" in here:
        results["notes"].append(f"The worker failed on this interpreter ({sys.executable}): {here['error']}")
        here_kind = "ft" if free_threaded_build() else "gil"
    else:
        here_kind = "ft" if here["python"]["free_threaded_build"] else "gil"
        results[here_kind] = here
    if here_kind == "ft":
        results["notes"].append(
            f"This interpreter ({sys.executable}) is itself free-threaded: its numbers fill the 3.13t "
            "columns, and the GIL-build columns stay empty. Run the driver from a GIL-build Python "
            "to fill them.")
        return results

    path, source = find_ft_python(ft_python)
    results["ft_python"], results["ft_source"] = path, source
    if path is None:
        results["notes"].append(
            "No free-threaded interpreter was found (none given with `--ft-python`, "
            "`FASTPAR_FT_VENV_PYTHON` unset, no `.venv-ft/` in the repository), so the 3.13t "
            "columns are empty. `make test-ft` builds a free-threaded CPython 3.13t and a `.venv-ft` "
            "with fastpar installed; run this benchmark again afterwards, or pass "
            "`--ft-python PATH`.")
        return results
    if not Path(path).exists():
        results["notes"].append(f"The free-threaded interpreter `{path}` (from {source}) does not exist: "
                                "the 3.13t columns are empty. `make test-ft` creates `.venv-ft`.")
        return results
    ft = run_worker(path, quick, log)
    if "error" in ft:
        results["notes"].append(f"The worker failed on the free-threaded interpreter `{path}`: {ft['error']}")
    elif not ft["python"]["free_threaded_build"]:
        results["notes"].append(f"`{path}` (from {source}) is not a free-threaded build: its numbers are "
                                "not used. `make test-ft` creates a free-threaded `.venv-ft`.")
    else:
        results["ft"] = ft
    return results


# --------------------------------------------------------------------------
# Markdown


def render_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub Markdown table; numeric-looking columns right-aligned."""
    rows = [[str(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def numeric(col: int) -> bool:
        cells = [r[col] for r in rows if r[col] not in ("", "—")]
        return bool(cells) and all(c[:1].isdigit() or c[:1] in "+-<>≥≤" for c in cells)

    right = [numeric(i) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.rjust(w) if r else c.ljust(w)
                                 for c, w, r in zip(cells, widths, right)) + " |"

    rule = "|" + "|".join(("-" * (w + 1) + ":") if r else ("-" * (w + 2)) for w, r in zip(widths, right)) + "|"
    return "\n".join([line(headers), rule] + [line(r) for r in rows])


def render_sections(sections: Sequence[dict], level: int = 3) -> str:
    parts = []
    for s in sections:
        parts.append(f"{'#' * level} {s['title']}")
        if s.get("intro"):
            parts.append(s["intro"].strip())
        if s.get("headers"):
            parts.append(render_table(s["headers"], s["rows"]))
        for note in s.get("notes", []):
            parts.append(note.strip())
    return "\n\n".join(parts)


def fmt_time(s: float | None) -> str:
    if s is None:
        return "—"
    if s < 1e-3:
        return f"{s * 1e6:.1f} µs" if s < 1e-4 else f"{s * 1e6:.0f} µs"
    return f"{s * 1e3:.1f} ms" if s < 1 else f"{s:.2f} s"


def fmt_rate(r: float | None) -> str:
    if r is None:
        return "—"
    if r >= 1e9:
        return f"{r / 1e9:.2f} G/s"
    if r >= 1e6:
        return f"{r / 1e6:.1f} M/s" if r < 1e8 else f"{r / 1e6:.0f} M/s"
    return f"{r / 1e3:.0f} k/s"


def fmt_x(v: float | None) -> str:
    return "—" if v is None else f"{v:.2f}x"


def _short(report: dict | None) -> str:
    if not report:
        return "—"
    p = report["python"]
    return f"{p['version']}{'t' if p['free_threaded_build'] else ''}"


def _cell(report: dict | None, workload: str, n: int, t: int, what: str) -> float | None:
    try:
        return report["scaling"][workload]["tasks"][str(n)][what][str(t)]  # type: ignore[index]
    except (TypeError, KeyError):
        return None


def _scaling_table(results: dict, workloads: Sequence[str], threads: list[int]) -> tuple[list, list]:
    gil, ft = results["gil"], results["ft"]
    g, f = f"GIL {_short(gil)}", _short(ft) if ft else "3.13t"
    headers = ["workload", "tasks", f"T = 1 time, {g}", f"T = 1 time, {f}"]
    for t in threads[1:]:
        headers += [f"T = {t}, {g}", f"T = {t}, {f}"]
    rows = []
    for w in workloads:
        counts = sorted({int(n) for r in (gil, ft) if r for n in r["scaling"][w]["tasks"]})
        for n in counts:
            row = [LABELS[w], f"{n:,}", fmt_time(_cell(gil, w, n, 1, "seconds")),
                   fmt_time(_cell(ft, w, n, 1, "seconds"))]
            for t in threads[1:]:
                row += [fmt_x(_cell(gil, w, n, t, "speedup")), fmt_x(_cell(ft, w, n, t, "speedup"))]
            rows.append(row)
    return headers, rows


def _top(report: dict | None, workload: str) -> int | None:
    if not report:
        return None
    return max(int(n) for n in report["scaling"][workload]["tasks"])


def _speedup_at(report: dict | None, workload: str, t: int) -> float | None:
    n = _top(report, workload)
    return None if n is None else _cell(report, workload, n, t, "speedup")


def _shortfall(report: dict, workload: str, t: int) -> str:
    """Why a workload that should scale fell short with t threads, from what
    the machine gave its fastest run; and how the other task counts did."""
    n = _top(report, workload)
    own = _cell(report, workload, n, t, "cores_used")
    others = _cell(report, workload, n, t, "cores_used_by_others")
    free = report["python"]["free_threaded_build"]
    if others is not None and others >= 0.25:
        why = f"(other processes took {others:.2f} of the {t} cores during that run)"
    elif own is not None and own >= 0.9 * t:
        c1 = _cell(report, workload, n, 1, "cores_used")
        why = (f"(this process kept {own:.2f} cores busy: the shortfall is the Python side of each task, "
               + ("the call and the executor's hand-off, which the threads contend for"
                  + (f"; even with T = 1 it kept {c1:.2f} cores busy, the main thread submitting tasks and "
                     "collecting results beside the worker, so with T = 2 three threads share the cores"
                     if c1 is not None and c1 >= 1.15 else "") + ")"
                  if free else "the call and the executor's hand-off, which holds the GIL)"))
    elif own is not None:
        why = f"(this process kept only {own:.2f} cores busy)"
    else:
        why = ""
    rest = [(int(k), v["speedup"][str(t)]) for k, v in report["scaling"][workload]["tasks"].items()
            if int(k) != n]
    if rest:
        why += (f"; with {' and '.join(f'{k:,}' for k, _ in sorted(rest))} tasks it reached "
                + " and ".join(f"{v:.2f}x" for _, v in sorted(rest)))
    return f"with {n:,} tasks {why}".rstrip()


def _verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("yes" if ok else "**NO**")


def _expectations(results: dict, cpus: int) -> tuple[list[list[str]], list[str]]:
    """Rows of the expected-vs-observed table, and the sentences of the paragraph."""
    gil, ft = results["gil"], results["ft"]
    scales = SCALES_FRACTION * cpus
    rows, text = [], []
    where = "on both builds" if gil and ft else ("on the GIL build" if gil else "on 3.13t")
    if not (gil and ft):
        text.append(f"Only the {'GIL' if gil else 'free-threaded'} build was measured: what is expected of "
                    f"the {'free-threaded' if gil else 'GIL'} build is left unchecked.")

    def at(report, w, t=cpus):
        return _speedup_at(report, w, t)

    def both(fmt_fn, *vals):
        return " / ".join(fmt_fn(v) for v in vals)

    # 1. pure Python: no scaling under the GIL, scaling on 3.13t.
    pg, pf = at(gil, "cpu_python"), at(ft, "cpu_python")
    ok_g = None if pg is None else pg <= NEAR_ONE
    ok_f = None if pf is None else pf >= scales
    ok = None if ok_g is None and ok_f is None else all(v for v in (ok_g, ok_f) if v is not None)
    rows.append([f"pure-Python threads scale only on 3.13t: T = {cpus} speed-up ≤ {NEAR_ONE}x (GIL), "
                 f"≥ {scales:.2f}x (3.13t)", both(fmt_x, pg, pf), _verdict(ok)])
    parts = []
    if pg is not None:
        parts.append(f"{pg:.2f}x on the GIL build " + (
            f"(**expected ≤ {NEAR_ONE}x**)" if not ok_g else
            "(as expected: the GIL runs one thread at a time"
            + (", and handing it back and forth between the threads makes them slower than one)"
               if pg < 0.95 else ")")))
    if pf is not None:
        parts.append(f"{pf:.2f}x on 3.13t " + ("(it scales, as expected without a GIL)" if ok_f else
                                               f"(**expected ≥ {scales:.2f}x: it did not scale as expected** "
                                               + _shortfall(ft, "cpu_python", cpus) + ")"))
    if parts:
        text.append(f"Pure-Python RSI with {cpus} threads: " + ", ".join(parts) + ".")

    # 2. fastpar scales on both builds (large tasks: C time dominates).
    lg, lf = at(gil, "cpu_fastpar_large"), at(ft, "cpu_fastpar_large")
    vals = [v for v in (lg, lf) if v is not None]
    ok = None if not vals else all(v >= scales for v in vals)
    rows.append([f"fastpar threads scale on both builds ({LARGE_PRICES:,} prices/task): "
                 f"T = {cpus} speed-up ≥ {scales:.2f}x", both(fmt_x, lg, lf), _verdict(ok)])
    if vals:
        s = (f"fastpar RSI over {LARGE_PRICES:,} prices per task with {cpus} threads: "
             + ", ".join(f"{v:.2f}x on {name}" for v, name in ((lg, "the GIL build"), (lf, "3.13t")) if v is not None))
        if ok:
            s += f": it scales {where}, since the kernel runs with the GIL released."
        else:
            short = []
            for r, v, name in ((gil, lg, "the GIL build"), (ft, lf, "3.13t")):
                if v is None or v >= scales:
                    continue
                short.append(f"on {name} {_shortfall(r, 'cpu_fastpar_large', cpus)}")
            s += f": **below the expected {scales:.2f}x** " + "; ".join(short) + "."
        text.append(s)

    # 2b. fastpar's tiny tasks: reported, with the reason if they do not scale.
    sg, sf = at(gil, "cpu_fastpar"), at(ft, "cpu_fastpar")
    vals = [v for v in (sg, sf) if v is not None]
    ok = None if not vals else all(v >= scales for v in vals)
    rows.append([f"fastpar threads scale on both builds ({SMALL_PRICES:,} prices/task): "
                 f"T = {cpus} speed-up ≥ {scales:.2f}x", both(fmt_x, sg, sf), _verdict(ok)])
    if vals:
        ref = gil or ft
        st = ref["single_thread"]
        kernel = st["cpu_fastpar_large"]["per_task_s"] / LARGE_PRICES * SMALL_PRICES
        s = (f"A fastpar call on {SMALL_PRICES:,} prices takes {fmt_time(st['cpu_fastpar']['per_task_s'])} "
             f"in a plain loop on the {'GIL' if gil else '3.13t'} build (the kernel about "
             f"{fmt_time(kernel)} of it, scaled from the {LARGE_PRICES:,}-price task), but "
             f"{fmt_time(st['cpu_fastpar']['per_task_s_executor'])} as a ThreadPoolExecutor(1) task: "
             "the executor's hand-off of every task (a future, a queue, locks, a wake-up) costs more "
             "than the work. With " + f"{cpus} threads: "
             + ", ".join(f"{v:.2f}x on {name}" for v, name in ((sg, "the GIL build"), (sf, "3.13t")) if v is not None))
        if ok:
            s += ": these small tasks scale too."
        else:
            why = []
            if sg is not None and sg < scales:
                why.append("on the GIL build the hand-off and the Python side of each call hold the GIL")
            if sf is not None and sf < scales:
                c1 = ft["single_thread"]["cpu_fastpar"].get("cores_used_executor")
                why.append("on 3.13t the threads contend for the executor's queue and locks"
                           + (f", and the T = 1 run already kept {c1:.2f} cores busy: the main thread, "
                              "submitting tasks, runs alongside the worker thread" if c1 and c1 >= 1.25 else ""))
            s += (": **these small tasks do not scale as expected**; " + "; ".join(why)
                  + ". Amdahl's law: for many small series, one 2-D call on fastpar's native pool "
                  "is the way to use every core.")
        text.append(s)

    # 3. IO scales on both builds.
    ig, if_ = at(gil, "io"), at(ft, "io")
    vals = [v for v in (ig, if_) if v is not None]
    ok = None if not vals else all(v >= scales for v in vals)
    rows.append([f"IO (sleep) scales on both builds: T = {cpus} speed-up ≥ {scales:.2f}x",
                 both(fmt_x, ig, if_), _verdict(ok)])
    og, of = at(gil, "io", 2 * cpus), at(ft, "io", 2 * cpus)
    if vals:
        s = (f"Sleeping tasks with {cpus} threads: "
             + ", ".join(f"{v:.2f}x on {name}" for v, name in ((ig, "the GIL build"), (if_, "3.13t")) if v is not None))
        s += (f", scaling {where} as expected" if ok else ", **not the expected scaling**")
        if og is not None or of is not None:
            s += (f"; with {2 * cpus} threads (more threads than cores) "
                  + ", ".join(f"{v:.2f}x" for v in (og, of) if v is not None)
                  + ", since a sleeping thread needs no core.")
        else:
            s += "."
        text.append(s)

    # 4. fastpar per thread vs pure Python.
    ratios = []
    for r in (gil, ft):
        if r:
            ratios.append(r["throughput"]["cpu_fastpar_large"]["prices_per_s_1_thread"]
                          / r["throughput"]["cpu_python"]["prices_per_s_1_thread"])
        else:
            ratios.append(None)
    vals = [v for v in ratios if v is not None]
    ok = None if not vals else all(v >= FASTPAR_PER_THREAD_GOAL for v in vals)
    rows.append([f"fastpar per thread ≥ {FASTPAR_PER_THREAD_GOAL:.0f}x pure Python (prices/s, 1 thread)",
                 " / ".join("—" if v is None else f"{v:,.0f}x" for v in ratios), _verdict(ok)])
    if vals:
        text.append("Per thread fastpar processes "
                    + ", ".join(f"{v:,.0f}x" for v in vals)
                    + " as many prices per second as pure Python ("
                    + " and ".join(n for v, n in zip(ratios, ("GIL build", "3.13t")) if v is not None) + ")"
                    + (": one thread of fastpar outruns any number of pure-Python threads on this machine."
                       if ok and min(vals) > cpus else "."
                       if ok else f", **below the expected {FASTPAR_PER_THREAD_GOAL:.0f}x**."))

    # 5. The single-thread cost of the free-threaded build.
    if gil and ft:
        cp = ft["single_thread"]["cpu_python"]["per_task_s"] / gil["single_thread"]["cpu_python"]["per_task_s"]
        cl = (ft["single_thread"]["cpu_fastpar_large"]["per_task_s"]
              / gil["single_thread"]["cpu_fastpar_large"]["per_task_s"])
        rows.append(["3.13t single-thread cost (plain loop): pure Python slower (CPython quotes up to "
                     f"about 1.4x), fastpar's {LARGE_PRICES:,}-price call unchanged (≤ 1.10x)",
                     f"{cp:.2f}x / {cl:.2f}x", _verdict(cl <= 1.10)])
        text.append(f"On one thread 3.13t runs the pure-Python task {cp:.2f}x as long as the GIL build "
                    f"({(cp - 1) * 100:+.0f}%) and fastpar's {LARGE_PRICES:,}-price task {cl:.2f}x as long"
                    + (": the C kernel does not care which build calls it." if cl <= 1.10 else
                       f": **fastpar is slower on 3.13t than expected** (≤ 1.10x)."))
    if ft:
        on = ft["python"]["gil_enabled_at_end"]
        rows.append(["the GIL stays disabled on 3.13t after every workload", "GIL " + ("enabled" if on else "disabled"),
                     _verdict(not on)])
        if on:
            text.append("**The GIL was enabled at the end of the 3.13t run**: something re-enabled it, and "
                        "the 3.13t numbers are not free-threaded numbers.")
    return rows, text


def sections_from(results: dict, quick: bool) -> list[dict]:
    gil, ft = results["gil"], results["ft"]
    reports = [r for r in (gil, ft) if r]
    sections: list[dict] = []
    intro = (
        "A reproduction, with fastpar, of a users' study of `ThreadPoolExecutor` scaling on the "
        "free-threaded build (their experiments 1 and 2): every task goes through "
        "`ThreadPoolExecutor(T).map(task, range(tasks))`, and a speed-up is the wall time with T = 1 "
        "over the wall time with T threads (2.00x on 2 cores is perfect scaling; T = 2 x cores shows "
        "oversubscription). The same script runs once on each interpreter "
        "(`benchmarks/bench_free_threading.py --worker`). Workloads: "
        f"a plain-Python Wilder RSI(14) over a list of {SMALL_PRICES:,} prices; the same RSI with "
        f"`fastpar.rsi` on the same prices as a float64 array; `fastpar.rsi` over one "
        f"{LARGE_PRICES:,}-price row of a shared read-only {LARGE_ROWS} × {LARGE_PRICES:,} array "
        f"(task i reads row i mod {LARGE_ROWS}); and `time.sleep({SLEEP_S:g})`. Every task reads the "
        "same read-only data, built once."
    )
    if not reports:
        sections.append({"title": "Interpreters", "intro": intro, "notes": results["notes"]})
        return sections
    cfg = reports[0]["config"]
    threads = sorted({t for r in reports for t in r["config"]["thread_counts"]})
    cpus = reports[0]["python"]["cpu_count"]
    timing = (
        f"Timing: executors are created and their threads started before timing; each time is the "
        f"minimum over {cfg['rounds']} rounds, and in each round every configuration runs once, in turn. "
        "The study's 100 / 1,000 / 10,000 tasks are kept for every workload"
        + ("" if all(tuple(cfg["tasks"][w]) == STUDY_TASKS for w in WORKLOADS) else
           " but " + ", ".join(f"{LABELS[w]} ({' / '.join(f'{n:,}' for n in cfg['tasks'][w])} tasks)"
                               for w in WORKLOADS if tuple(cfg["tasks"][w]) != STUDY_TASKS)
           + ": 10,000 sleeps of 1 ms take over 10 s at T = 1, every round, and scale no differently")
        + ". Threads: T = 1 to the number of CPUs, and twice that."
        if not quick else
        f"Timing: minimum over {cfg['rounds']} rounds, task counts shrunk for a smoke run."
    )
    rows = []
    for kind, r in (("GIL build", gil), ("free-threaded build", ft)):
        if not r:
            rows.append([kind, "—", "—", "—", "—", "—", "—", "—"])
            continue
        p = r["python"]
        load = r.get("load_avg_start"), r.get("load_avg_end")
        rows.append([kind,
                     f"{p['implementation']} {p['version']}" + (" (free-threaded)" if p["free_threaded_build"] else ""),
                     "enabled" if p["gil_enabled_at_end"] else "disabled",
                     f"{p['cpu_count']}", f"fastpar {r['fastpar']}, NumPy {r['numpy']}",
                     " → ".join(f"{v[0]:.2f}" for v in load if v) or "n/a",
                     "n/a" if r.get("mean_cores_used_by_others") is None else f"{r['mean_cores_used_by_others']:.2f}",
                     f"{r.get('wall_s', r['elapsed_s']):.0f} s"])
    notes = [timing, (f"The machine has {cpus} CPUs and is shared: *cores taken by other processes* is the "
                      "CPU time the rest of the machine used while this benchmark's runs were timed, "
                      "divided by their wall time (from /proc/stat): 1.00 means that, on average, one core "
                      "was busy with other work and not available to this benchmark's threads.")]
    if not all(r["python_rsi_matches_fastpar"] for r in reports):
        notes.append("**The plain-Python RSI differs from fastpar's by more than 1e-9.**")
    notes += results["notes"]
    sections.append({
        "title": "Interpreters",
        "intro": intro,
        "headers": ["build", "Python", "GIL at the end", "CPUs", "libraries", "load (1 min), start → end",
                    "cores taken by other processes", "worker run time"],
        "rows": rows,
        "notes": notes,
    })

    colnote = (f"Columns: the wall time of the run with T = 1 on each build, then for each T the speed-up "
               f"over T = 1, GIL build and 3.13t side by side.")
    h, r_ = _scaling_table(results, ["cpu_python", "cpu_fastpar"], threads)
    sections.append({
        "title": "Experiment 1: CPU-bound tasks, thread scaling by task count",
        "intro": ("The study's first experiment: CPU-bound tasks, 100 / 1,000 / 10,000 of them. "
                  + colnote),
        "headers": h, "rows": r_,
    })
    h, r_ = _scaling_table(results, ["cpu_fastpar_large", "io"], threads)
    sections.append({
        "title": "Experiment 2: CPU-bound vs IO-bound tasks",
        "intro": ("The study's second experiment: CPU-bound against IO-bound tasks. The CPU-bound "
                  f"task here is fastpar's RSI over {LARGE_PRICES:,} prices, where the C kernel (GIL "
                  "released) dominates; the pure-Python CPU-bound rows are those of experiment 1. "
                  + colnote),
        "headers": h, "rows": r_,
    })

    rows = []
    for w in CPU_WORKLOADS:
        row = [LABELS[w]]
        for key in ("per_task_s", "per_task_s_executor"):
            g = gil["single_thread"][w][key] if gil else None
            f = ft["single_thread"][w][key] if ft else None
            row += [fmt_time(g), fmt_time(f), f"{f / g:.2f}x" if g and f else "—"]
        rows.append(row)
    st = (gil or ft)["single_thread"]
    sections.append({
        "title": "Single-thread cost of the free-threaded build",
        "intro": ("Time per task on one thread, on each build, and 3.13t over the GIL build (above 1 the "
                  "free-threaded build is slower). *Plain loop*: the task called in a loop on the main "
                  "thread, best of the rounds ("
                  + " / ".join(f"{st[w]['loop_calls']:,}" for w in CPU_WORKLOADS)
                  + " calls, in the order of the rows). *ThreadPoolExecutor(1)*: the T = 1 run of the "
                  "largest task count divided by its tasks, hand-off included; there the submitting main "
                  "thread and the worker thread overlap on 3.13t but take turns on the GIL build. The two "
                  "interpreters ran one after the other: compare with the machine's load in mind."),
        "headers": ["workload", "GIL, plain loop", "3.13t, plain loop", "3.13t / GIL, plain loop",
                    "GIL, ThreadPoolExecutor(1)", "3.13t, ThreadPoolExecutor(1)",
                    "3.13t / GIL, ThreadPoolExecutor(1)"],
        "rows": rows,
    })

    rows = []
    for w in CPU_WORKLOADS:
        row = [LABELS[w]]
        for r in (gil, ft):
            if r:
                tp = r["throughput"]
                row += [fmt_rate(tp[w]["prices_per_s_1_thread"]), fmt_rate(tp[w]["prices_per_s_per_thread"]),
                        f"{tp[w]['prices_per_s_1_thread'] / tp['cpu_python']['prices_per_s_1_thread']:,.1f}x"]
            else:
                row += ["—", "—", "—"]
        rows.append(row)
    sections.append({
        "title": "fastpar vs pure Python, per thread",
        "intro": (f"Prices processed per second: by one thread (the plain loop above), and per thread "
                  f"with ThreadPoolExecutor({cpus}) (the total throughput of the largest task count / "
                  f"{cpus}); \"× pure Python\" compares one thread with one thread on the same build."),
        "headers": ["workload", "GIL: 1 thread", f"GIL: per thread, T = {cpus}", "GIL: × pure Python",
                    "3.13t: 1 thread", f"3.13t: per thread, T = {cpus}", "3.13t: × pure Python"],
        "rows": rows,
    })

    exp_rows, text = _expectations(results, cpus)
    sections.append({
        "title": "Expected vs observed",
        "intro": ("Expected: pure-Python threads scale only on 3.13t; fastpar threads scale on both builds; "
                  "IO-bound threads scale on both; fastpar is far faster per thread than pure Python. "
                  f"Checked at T = {cpus} on the largest task count of each workload; \"measured\" is "
                  "GIL build / 3.13t."),
        "headers": ["expectation", "measured", "met"],
        "rows": exp_rows,
        "notes": [" ".join(text)] if text else [],
    })
    if quick:
        sections[0]["notes"].insert(0, "**Smoke run (`--quick`)**: tiny sizes; these numbers only show "
                                       "that the benchmark runs.")
    return sections


def run(quick: bool = False, log: Callable[[str], None] = print,
        ft_python: str | os.PathLike | None = None) -> list[dict]:
    """benchmarks/run.py's entry point: the sections of this benchmark."""
    return sections_from(collect(quick=quick, ft_python=ft_python, log=log), quick)


def markdown(quick: bool = False, ft_python: str | os.PathLike | None = None,
             log: Callable[[str], None] | None = None) -> str:
    """The whole benchmark as one Markdown section (a level-2 heading and its subsections)."""
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    return _page(sections_from(collect(quick=quick, ft_python=ft_python, log=log), quick))


def _page(sections: Sequence[dict]) -> str:
    return f"## {TITLE}\n\n" + render_sections(sections) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worker", action="store_true",
                        help="measure on this interpreter only and print one JSON document")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run of a few seconds")
    parser.add_argument("--ft-python", default=None,
                        help="the free-threaded interpreter (default: $FASTPAR_FT_VENV_PYTHON, "
                             "else .venv-ft/bin/python in the repository)")
    parser.add_argument("--out", type=Path, default=None, help="write the Markdown here (default: stdout)")
    parser.add_argument("--json", type=Path, default=None,
                        help="also write both workers' raw reports to this JSON file")
    parser.add_argument("--from-json", type=Path, default=None,
                        help="measure nothing: render the Markdown from a file written by --json")
    args = parser.parse_args(argv)

    if args.worker:
        # No idle BLAS threads spinning beside the measured ones (NumPy is
        # imported later, inside worker()).
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(var, "1")
        json.dump(worker(quick=args.quick), sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 0
    t0 = time.perf_counter()
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    if args.from_json is not None:
        results = json.loads(args.from_json.read_text(encoding="utf-8"))
        args.quick = bool((results["gil"] or results["ft"] or {}).get("quick", args.quick))
    else:
        results = collect(quick=args.quick, ft_python=args.ft_python, log=log)
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    text = _page(sections_from(results, args.quick))
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
