"""W2, scaling: a batch of series through Python threads, and through fastpar's pool.

A batch of 64 series (of 100,000 and of 1,000 prices) gets one RSI(14) per
series, computed

* by a plain sequential loop, ``[rsi(s) for s in batch]``: the baseline;
* through ``ThreadPoolExecutor(T).map(rsi, batch)`` for T = 1..os.cpu_count(),

with fastpar's RSI, TA-Lib's RSI and a plain-Python Wilder RSI (a loop over a
list, below; on a smaller batch, sized to finish in about ten seconds). The
same batch also goes through fastpar as one 2-D call, ``fastpar.rsi(batch,
threads=T)``, on fastpar's native thread pool. Reported: speed-up = time of
the sequential loop / time of the threaded run, and per-thread throughput.

A supplementary batch of 8 series x 1,000,000 prices (fastpar and TA-Lib
only) shows the same with tasks ten times longer. Around each batch a probe
reads how many CPUs' worth of work the machine gives (separate processes
spinning at once against one alone), since on a virtual machine that moves
with the host's load.

Each time is the minimum over several rounds; within a round every
configuration of one implementation is timed once, so load bursts hit all.

Run alone: python benchmarks/bench_scaling.py [--quick]
"""

from __future__ import annotations

import hashlib
import math
import os
import sys
import time
import timeit
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import numpy as np

import fastpar
from fastpar.gil_benchmark import cpu_capacity  # the CPU probe, shared with W3 and W4
from fastpar.synthetic import random_walk

try:
    import talib
except ImportError:  # e.g. free-threaded Python: no TA-Lib wheel
    talib = None

TITLE = "W2: scaling a batch over threads"

PERIOD = 14
N_SERIES = 64
GOAL_SPEEDUP = 1.8  # fastpar with 2 threads on 2 cores
NEAR_ONE = (0.8, 1.2)  # "near 1x": what the GIL allows the others


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


def fastpar_rsi(series: np.ndarray) -> np.ndarray:
    return fastpar.rsi(series, PERIOD)


def talib_rsi(series: np.ndarray) -> np.ndarray:
    return talib.RSI(series, PERIOD)


def _sequential(fn: Callable, batch: list) -> Callable[[], list]:
    return lambda: [fn(s) for s in batch]


def _threaded(pool: ThreadPoolExecutor, fn: Callable, batch: list) -> Callable[[], list]:
    return lambda: list(pool.map(fn, batch))


def _calibrate(run: Callable[[], Any], min_time: float) -> int:
    number = 1
    while True:
        t = timeit.Timer(run).timeit(number)
        if t >= min_time:
            return number
        number = max(number + 1, int(number * min(10.0, 1.2 * min_time / max(t, 1e-9))))


def time_configs(configs: dict[str, Callable[[], Any]], rounds: int, number: int) -> dict[str, float]:
    """Seconds per run of each config: min over rounds, configs interleaved within a round."""
    timers = {k: timeit.Timer(fn) for k, fn in configs.items()}
    best = {k: float("inf") for k in configs}
    for _ in range(rounds):
        for k, t in timers.items():
            best[k] = min(best[k], t.timeit(number) / number)
    return best


def _control_batch(per_task: float, n_tasks: int) -> list[bytes]:
    """Buffers for the control: hashlib.sha256 over one of them (CPython's
    own C code, which releases the GIL for buffers above 2 kB) takes about
    `per_task` seconds."""
    probe = bytes(1 << 20)
    number = _calibrate(lambda: hashlib.sha256(probe).digest(), 0.05)
    rate = len(probe) * number / timeit.Timer(lambda: hashlib.sha256(probe).digest()).timeit(number)
    size = max(4096, int(per_task * rate))
    return [bytes([i % 256]) * size for i in range(n_tasks)]


def sha256_digest(buffer: bytes) -> bytes:
    return hashlib.sha256(buffer).digest()


def _time_batch(fn: Callable, batch: list, executors: dict, rounds: int, min_time: float,
                same: Callable[[Any, Any], bool], extra: dict | None = None) -> tuple[dict, bool]:
    """Best seconds of the sequential loop ("seq"), of each executor's map
    (by thread count) and of the `extra` configs over `batch`; and whether
    every one returned what the loop did (`same`)."""
    configs = {"seq": _sequential(fn, batch)}
    configs.update({t: _threaded(ex, fn, batch) for t, ex in executors.items()})
    configs.update(extra or {})
    expected = configs["seq"]()
    identical = all(same(cfg(), expected) for cfg in configs.values())
    return time_configs(configs, rounds, _calibrate(configs["seq"], min_time)), identical


def _same(a: Any, b: Any) -> bool:
    return np.array_equal(np.asarray(a, dtype=float), np.asarray(b, dtype=float), equal_nan=True)


def fmt_time(s: float) -> str:
    if s < 1e-3:
        return f"{s * 1e6:.0f} µs"
    return f"{s * 1e3:.1f} ms" if s < 1 else f"{s:.2f} s"


def fmt_rate(ticks_per_s: float) -> str:
    if ticks_per_s >= 1e9:
        return f"{ticks_per_s / 1e9:.2f} G"
    if ticks_per_s >= 1e6:
        return f"{ticks_per_s / 1e6:.1f} M" if ticks_per_s < 1e8 else f"{ticks_per_s / 1e6:.0f} M"
    return f"{ticks_per_s / 1e3:.0f} k"


def _row(workload: str, batch: str, seq: float, speedup: dict, ok: bool | str) -> list[str]:
    ok = ok if isinstance(ok, str) else ("yes" if ok else "**NO**")
    return [workload, batch, fmt_time(seq)] + [f"{s:.2f}x" for s in speedup.values()] + [ok]


def _time_python(batch2d: np.ndarray, rounds: int, budget: float, executors: dict) -> tuple[int, dict, bool]:
    """Pure-Python RSI: sequential loop and ThreadPoolExecutor(T) on the first
    k series of the batch as lists, k chosen so all passes take about budget
    seconds. Returns k, the best times and whether its RSI matches fastpar's."""
    one = batch2d[0].tolist()
    matches = np.allclose(python_rsi(one), fastpar.rsi(batch2d[0], PERIOD), rtol=1e-9, atol=1e-9, equal_nan=True)
    per_series = min(timeit.Timer(lambda: python_rsi(one)).repeat(3, 1))
    pass_budget = budget / (rounds * (1 + len(executors)))
    k = int(min(len(batch2d), max(2 * len(executors), round(pass_budget / per_series))))
    py_batch = [s.tolist() for s in batch2d[:k]]
    configs = {"seq": _sequential(python_rsi, py_batch)}
    configs.update({t: _threaded(ex, python_rsi, py_batch) for t, ex in executors.items()})
    return k, time_configs(configs, rounds, max(1, round(pass_budget / (k * per_series)))), matches


def run(quick: bool = False, log: Callable[[str], None] = print) -> list[dict]:
    cores = os.cpu_count() or 1
    thread_counts = list(range(1, cores + 1))
    # (series, prices per series, pure Python's (rounds, seconds for all its passes) or None)
    if quick:
        batches = [(8, 10_000, (2, 0.3)), (8, 1_000, (3, 0.1))]
        rounds, min_time = 3, 0.005
    else:
        batches = [(N_SERIES, 100_000, (5, 10.0)), (N_SERIES, 1_000, (9, 3.0)),
                   (8, 1_000_000, None)]
        rounds, min_time = 15, 0.1
    head_series, head_length, (head_py_rounds, _) = batches[0]  # the headline batch

    from run import steady_malloc  # benchmarks/ is on sys.path, standalone or from run.py

    malloc_note = steady_malloc() or "glibc's mallopt is not available: allocator left as it is."
    pool_size = fastpar.get_num_threads()
    if pool_size < cores:
        fastpar.set_num_threads(cores)  # so that threads=cores really gets cores threads
    executors = {t: ThreadPoolExecutor(max_workers=t) for t in thread_counts}
    sections, rate_rows, head_speedup, handoff_note = [], [], {}, ""
    spin_iterations = 1_000_000 if quick else 5_000_000
    capacity = []  # before each batch, and after the last: batch i is between [i] and [i + 1]

    def probe() -> None:
        capacity.append(cpu_capacity(cores, spin_iterations))
        log(f"  CPU probe: {capacity[-1]:.2f} ({cores}.0 = {cores} full CPUs)")

    try:
        for n_series, length, python in batches:
            probe()
            batch2d = random_walk(n_series, length, seed=7 + length)
            batch = list(batch2d)  # contiguous row views: one series each
            shape = f"{n_series} × {length:,}"
            for ex in executors.values():  # start every worker thread before timing
                list(ex.map(lambda s: None, range(2 * cores)))

            rows, speedup, seq_time, full_time, size = [], {}, {}, {}, {}

            def record(label: str, best: dict, identical: bool, workload: str) -> str:
                seq_time[label], full_time[label], size[label] = best["seq"], best[cores], n_series
                speedup[label] = {t: best["seq"] / best[t] for t in thread_counts}
                rows.append(_row(workload, shape, best["seq"], speedup[label], identical))
                return "  ".join(f"T={t}: {speedup[label][t]:.2f}x" for t in thread_counts)

            impls = [("fastpar", fastpar_rsi)] + ([("TA-Lib", talib_rsi)] if talib is not None else [])
            for label, fn in impls:
                extra = {}
                if label == "fastpar":
                    extra = {("2-D", t): (lambda t=t, b=batch2d: fastpar.rsi(b, PERIOD, threads=t))
                             for t in thread_counts}
                best, identical = _time_batch(fn, batch, executors, rounds, min_time, _same, extra)
                line = record(label, best, identical, f"{label} RSI per series, ThreadPoolExecutor(T)")
                if label == "fastpar":
                    full_time["2-D"] = best[("2-D", cores)]
                    speedup["2-D"] = {t: best["seq"] / best[("2-D", t)] for t in thread_counts}
                    rows.append(_row("fastpar RSI, one 2-D call, native pool threads=T", shape, best["seq"],
                                     speedup["2-D"], identical))
                    line += "  2-D " + "  ".join(f"T={t}: {speedup['2-D'][t]:.2f}x" for t in thread_counts)
                log(f"  {label:<8} {shape:<14} sequential {fmt_time(best['seq']):>9}  {line}")

            if (n_series, length) == (head_series, head_length):
                # The control: tasks as long as fastpar's, in CPython's own
                # GIL-releasing C code, through the same executors.
                control = _control_batch(seq_time["fastpar"] / n_series, n_series)
                best, identical = _time_batch(sha256_digest, control, executors, rounds, min_time,
                                              lambda a, b: a == b)
                line = record("control", best, identical,
                              f"control: hashlib.sha256 per buffer ({len(control[0]) // 1024} kB, as "
                              "long as one fastpar task), ThreadPoolExecutor(T)")
                log(f"  control  {shape:<14} sequential {fmt_time(best['seq']):>9}  {line}")

            if python is not None:
                k, best, matches = _time_python(batch2d, *python, executors)
                label, py_shape = "pure Python", f"{k} × {length:,}"
                seq_time[label], full_time[label], size[label] = best["seq"], best[cores], k
                speedup[label] = {t: best["seq"] / best[t] for t in thread_counts}
                rows.append(_row("pure-Python RSI per series, ThreadPoolExecutor(T)", py_shape, best["seq"],
                                 speedup[label], "yes" if matches else "**NO**: differs from fastpar"))
                log(f"  Python   {py_shape:<14} sequential {fmt_time(best['seq']):>9}  "
                    + "  ".join(f"T={t}: {speedup[label][t]:.2f}x" for t in thread_counts))

            intro = (f"Columns T = 1..{cores}: sequential-loop time / time with T threads "
                     "(ThreadPoolExecutor workers, or `threads=T` for the 2-D call); the 2-D call is "
                     "compared with fastpar's own sequential loop. *identical*: every threaded result "
                     "equals the sequential one (for pure Python: its RSI equals fastpar's within 1e-9).")
            if length == min(b[1] for b in batches):
                intro += (f" At {length:,} prices one call takes a few microseconds, about what it costs "
                          "to hand a task to a thread: this table shows that overhead.")
            if python is None:
                intro += (" A supplementary batch, not in the goals: fewer, longer series, so that each "
                          "task is about ten times longer and the cost of handing it to a thread is "
                          "amortised.")
            sections.append({
                "title": f"{n_series} series × {length:,} prices: speed-up over the sequential loop",
                "intro": intro,
                "headers": ["workload", "batch", "sequential loop"] + [f"T = {t}" for t in thread_counts]
                           + ["identical"],
                "rows": rows,
                "chart": {
                    "name": f"w2_scaling_{n_series}x{length}",
                    "title": f"W2: RSI(14), {n_series} series × {length:,} prices, speed-up with T threads",
                    "ylabel": "speed-up over the sequential loop",
                    "labels": [{"fastpar": "fastpar, ThreadPoolExecutor",
                                "2-D": "fastpar, one 2-D call (native pool)",
                                "TA-Lib": "TA-Lib, ThreadPoolExecutor",
                                "control": "control: hashlib.sha256, ThreadPoolExecutor",
                                "pure Python": "pure Python, ThreadPoolExecutor"}[label]
                               for label in speedup],
                    "series": {f"T = {t}": [speedup[label][t] for label in speedup]
                               for t in thread_counts},
                    "goal": (GOAL_SPEEDUP, f"goal {GOAL_SPEEDUP}x on 2 cores"),
                },
            })

            if (n_series, length) == (head_series, head_length):
                head_speedup = speedup
                per_task = seq_time["fastpar"] / n_series
                handoff = (seq_time["fastpar"] / speedup["fastpar"][1] - seq_time["fastpar"]) / n_series
                handoff_note = (
                    f"Per task, fastpar's RSI on one {length:,}-price series takes {per_task * 1e6:.0f} µs in "
                    f"the plain loop; through ThreadPoolExecutor(1) each task costs {handoff * 1e6:.0f} µs more "
                    "(handing it to a worker thread and its result back, GIL hand-offs included). Much of "
                    "that is Python bookkeeping under the GIL, which does not spread over threads: the "
                    "main reason the per-series ThreadPoolExecutor route trails the one 2-D call, which "
                    "hands the rows to fastpar's pool in C. The control row runs tasks of the same "
                    "length in CPython's own C code, hashlib.sha256, which also releases the GIL: "
                    f"{speedup['control'][cores]:.2f}x with {cores} threads, against fastpar's "
                    f"{speedup['fastpar'][cores]:.2f}x. That is what the executor leaves of {cores} "
                    "CPUs for tasks this short on this machine, whatever the tasks compute.")
                fp_rate = n_series * length / seq_time["fastpar"]
                for label in [k for k in seq_time if k != "control"]:
                    rate = size[label] * length / seq_time[label]
                    threaded = size[label] * length / full_time[label]
                    rate_rows.append([f"{label} RSI(14)", f"{size[label]} × {length:,}", fmt_rate(rate),
                                      fmt_rate(threaded), "—" if label == "fastpar" else f"{fp_rate / rate:,.1f}x"])
                rate_rows.insert(1, ["fastpar RSI(14), one 2-D call", shape, "—",
                                     fmt_rate(n_series * length / full_time["2-D"]), "—"])
        probe()
        goal_rows = _goals(head_speedup, thread_counts)
        for i, section in enumerate(sections):
            section["notes"] = [f"CPU probe (see the goals): {capacity[i]:.2f} before this batch, "
                                f"{capacity[i + 1]:.2f} after it ({cores}.0 = {cores} full CPUs)."]
    finally:
        for ex in executors.values():
            ex.shutdown()
        if fastpar.get_num_threads() != pool_size:
            fastpar.set_num_threads(pool_size)

    sections.insert(0, {
        "title": f"Goals ({head_series} series × {head_length:,} prices, 2 threads)",
        "intro": (f"Goal on 2 cores: fastpar at least {GOAL_SPEEDUP}x faster with 2 threads, "
                  f"while TA-Lib and pure Python stay near 1x ({NEAR_ONE[0]}x to {NEAR_ONE[1]}x), "
                  f"as they would if the GIL serialised them."),
        "headers": ["goal", "measured", "met"],
        "rows": goal_rows,
        "notes": [
            (f"CPU probe: {cores} separate processes spinning at once against one alone (no GIL "
             f"involved; {cores}.0 = {cores} full CPUs) read {capacity[0]:.2f} before this batch and "
             f"{capacity[1]:.2f} after it. This is a virtual machine on a shared host, and that reading "
             f"moves from one second to the next with the host's load, which neither `uptime` nor the "
             f"idle time inside shows; single-core boost clocks also pull it below {cores}.0. It is "
             f"context for how much the machine could give around the timings, not a measure taken "
             f"during them."),
            handoff_note,
            (f"Timing: each configuration is the best of {rounds} rounds (pure Python on "
             f"{head_length:,}-price series: {head_py_rounds}); in each round every configuration of one "
             f"implementation runs once, in turn. fastpar's native pool had {max(pool_size, cores)} "
             f"threads during the run."),
            malloc_note + " Without it, the outputs of the sequential loop in the main thread "
            "are returned to the OS and faulted back in, about one page fault per 4 kB, on every pass, "
            "which the worker threads' arenas mostly avoid: even ThreadPoolExecutor(1) then looked about "
            "twice as fast as the loop. The 2-D call, whose 51 MB output is above any mmap threshold, "
            "got fresh pages on every call.",
        ],
    })
    sections.append({
        "title": f"Throughput ({head_series} series × {head_length:,} prices)",
        "intro": ("Prices (ticks) processed per second, RSI(14): by one thread (the sequential loop) and "
                  f"by {cores} threads; the last column is how many times faster fastpar is, "
                  "one thread against one thread."),
        "headers": ["implementation", "batch", "ticks/s, 1 thread", f"ticks/s, {cores} threads",
                    "fastpar per thread is … faster"],
        "rows": rate_rows,
    })
    return sections


def _goals(speedups: dict, thread_counts: list) -> list[list[str]]:
    if 2 not in thread_counts:
        return [["fastpar ≥ 1.8x with 2 threads", "n/a: this machine has 1 CPU", "—"]]
    lo, hi = NEAR_ONE
    rows = [
        [f"fastpar, ThreadPoolExecutor(2): ≥ {GOAL_SPEEDUP}x", f"{speedups['fastpar'][2]:.2f}x",
         "yes" if speedups["fastpar"][2] >= GOAL_SPEEDUP else "**NO**"],
        [f"fastpar, 2-D call, threads=2: ≥ {GOAL_SPEEDUP}x", f"{speedups['2-D'][2]:.2f}x",
         "yes" if speedups["2-D"][2] >= GOAL_SPEEDUP else "**NO**"],
    ]
    for label in [k for k in ("TA-Lib", "pure Python") if k in speedups]:
        s = speedups[label][2]
        if lo <= s <= hi:
            met = "yes"
        elif s > hi:
            met = "**NO**: it scales" + (" (TA-Lib releases the GIL around its C call)" if label == "TA-Lib" else "")
        else:
            met = "**NO**: slower with threads"
        rows.append([f"{label}, ThreadPoolExecutor(2): near 1x", f"{s:.2f}x", met])
    return rows


if __name__ == "__main__":
    from run import render_sections

    print(render_sections(run(quick="--quick" in sys.argv[1:])))
