"""Distributed: what running on a Dask cluster costs against the local run.

The same work goes through the local functions (``fastpar.sweep`` and
``fastpar.run_scenarios`` with 2 native threads) and through
``fastpar.distributed`` on a ``LocalCluster`` of 2 worker processes x 1
thread, on the same machine: same cores, so the ratio distributed / local
is the price of the distributed path (sending the data to each worker,
the tasks, the scheduler's round trips, collecting the results), not a
speed-up. On a real cluster, more machines divide the work while this
price stays about the same per call.

Workloads:

* W3 sweep: ``rsi_threshold`` with period 2..50 x low {20, 25, 30} x high
  {70, 75, 80} (441 sets) over 100,000 bars (20,000 with ``--quick``);
* a tiny sweep (one set over 1,000 bars): the fixed cost of a call;
* scenario batches on 14 days of synthetic EURUSD ticks: the shipped
  sample set repeated (it includes a CPU-heavy scenario), and its four
  light scenarios repeated (overhead-dominated).

Each time is the fastest of several rounds; local and distributed are
timed alternately in each round. Every distributed result is checked equal
to the local one. Starting the cluster is timed apart and not included.

Run alone: python benchmarks/bench_distributed.py [--quick]
"""

from __future__ import annotations

import dataclasses
import sys
import time
from typing import Any, Callable

TITLE = "Distributed: fastpar.distributed on a local Dask cluster vs the local run"

W3_GRID = {"period": range(2, 51), "low": [20, 25, 30], "high": [70, 75, 80]}
LOCAL_THREADS = 2
N_WORKERS = 2


def _comparable(entry):
    if isinstance(entry, Exception):
        return (type(entry), str(entry))
    d = dataclasses.asdict(entry)
    for key in ("elapsed_time", "user_time", "profiling_data"):  # measured times
        d.pop(key)
    # the API lists a set there: its order follows each process's string hashing
    d["scenario_requirement"]["all_timeframes"].sort()
    return d


def _same_scenarios(a, b) -> bool:
    return len(a) == len(b) and all(_comparable(x) == _comparable(y) for x, y in zip(a, b))


def _same_frames(a, b) -> bool:
    return a.equals(b) and a.attrs == b.attrs


def _best(rounds: int, pairs: list[tuple[str, Callable[[], Any]]]) -> dict[str, tuple[float, Any]]:
    """{name: (fastest time, last result)}, the callables timed in turn each round."""
    best: dict[str, tuple[float, Any]] = {}
    for _ in range(rounds):
        for name, fn in pairs:
            t0 = time.perf_counter()
            result = fn()
            dt = time.perf_counter() - t0
            if name not in best or dt < best[name][0]:
                best[name] = (dt, result)
            else:
                best[name] = (best[name][0], result)
    return best


def _workloads(quick: bool):
    from fastpar.scenario_config import ScenarioConfigLoader
    from fastpar.sweep import expand_grid
    from fastpar.synthetic import random_walk_ohlc
    from fastpar.ticks import sample_data

    n_bars = 20_000 if quick else 100_000
    bars = {"close": random_walk_ohlc(1, n_bars, seed=7)["close"][0]}
    tiny = {"close": random_walk_ohlc(1, 1_000, seed=8)["close"][0]}
    ticks = sample_data()  # one data worker: warm-up bars rendered once, locally
    n_ticks = sum(len(t) for t in ticks.ticks.values())
    sample = ScenarioConfigLoader().load_config("sample_scenarios.json")
    light = [s for s in sample if not s.max_ticks]  # the heavy one is capped by max_ticks
    heavy_repeat, light_repeat = (1, 4) if quick else (4, 16)
    n_sets = len(expand_grid("rsi_threshold", W3_GRID)[0])
    return [
        ("sweep", f"W3 sweep: rsi_threshold, {n_sets} sets x {n_bars:,} bars",
         bars, "rsi_threshold", W3_GRID),
        ("sweep", "tiny sweep: 1 set x 1,000 bars (fixed cost of a call)",
         tiny, "rsi_threshold", {"period": 14, "low": 30, "high": 70}),
        ("scenarios", f"scenario batch: sample set x {heavy_repeat} ({len(sample) * heavy_repeat} "
         f"scenarios, {heavy_repeat} CPU-heavy), {n_ticks:,} ticks", ticks, sample * heavy_repeat, None),
        ("scenarios", f"scenario batch: {len(light)} light scenarios x {light_repeat} "
         f"({len(light) * light_repeat} scenarios), {n_ticks:,} ticks", ticks, light * light_repeat, None),
    ]


def run(quick: bool = False, log: Callable[[str], None] = print) -> list[dict]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        return [{"title": "Not run", "intro": "dask.distributed is not installed "
                 "(`pip install 'fastpar[dask]'`): nothing measured."}]
    import fastpar
    import fastpar.distributed as fd

    rounds = 2 if quick else 5
    workloads = _workloads(quick)
    t0 = time.perf_counter()
    with (
        LocalCluster(n_workers=N_WORKERS, threads_per_worker=1, processes=True,
                     dashboard_address=":0") as cluster,
        Client(cluster) as client,
    ):
        startup = time.perf_counter() - t0
        log(f"  cluster of {N_WORKERS} workers x 1 thread up in {startup:.1f} s")
        # the workers import fastpar at their first task: not part of any timing
        client.run(lambda: __import__("fastpar.distributed"))
        rows = []
        for kind, label, data, what, grid in workloads:
            if kind == "sweep":
                pairs = [
                    ("local", lambda: fastpar.sweep(data, what, grid, threads=LOCAL_THREADS,
                                                    progress=False)),
                    ("distributed", lambda: fd.sweep(data, what, grid, client=client,
                                                     progress=False)),
                ]
                same = _same_frames
            else:
                pairs = [
                    ("local", lambda: fastpar.run_scenarios(data, what, threads=LOCAL_THREADS,
                                                            progress=False)),
                    ("distributed", lambda: fd.run_scenarios(data, what, client=client,
                                                             progress=False)),
                ]
                same = _same_scenarios
            pairs[1][1]()  # warm-up: first task of this kind on each worker
            best = _best(rounds, pairs)
            (t_local, r_local), (t_dist, r_dist) = best["local"], best["distributed"]
            identical = same(r_local, r_dist)
            log(f"  {label}: local {t_local * 1e3:.0f} ms, distributed {t_dist * 1e3:.0f} ms, "
                f"identical: {identical}")
            rows.append((label, f"{t_local * 1e3:,.1f}", f"{t_dist * 1e3:,.1f}",
                         f"{t_dist / t_local:.2f}x", f"{(t_dist - t_local) * 1e3:+,.1f}",
                         "yes" if identical else "**NO**"))
        if not all(r[-1] == "yes" for r in rows):
            raise AssertionError("a distributed result differs from the local one")
    return [{
        "title": "Overhead of the distributed path",
        "intro": (f"Local: the fastpar call with `threads={LOCAL_THREADS}`. Distributed: "
                  f"`fastpar.distributed` on `LocalCluster(n_workers={N_WORKERS}, "
                  "threads_per_worker=1, processes=True)` on the same machine, a fresh copy of the "
                  "data sent to the workers at each call. Times in milliseconds, fastest of "
                  f"{rounds} rounds; ratio = distributed / local (1.00x: no overhead)."),
        "headers": ["workload", "local ms", "distributed ms", "distributed / local",
                    "added ms", "identical"],
        "rows": rows,
        "notes": [f"Starting the cluster (not included above) took {startup:.1f} s. "
                  "The same cores run both sides: on a real cluster the work is divided among "
                  "machines, and the added milliseconds are what a call pays for that."],
    }]


if __name__ == "__main__":
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
    from run import render_sections

    print(render_sections(run(quick="--quick" in sys.argv[1:],
                              log=lambda m: print(m, file=sys.stderr, flush=True))))
