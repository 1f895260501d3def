"""The GIL benchmark: one scenario batch run sequentially, with threads and
with processes, as pure Python and on fastpar's C kernel.

The batch orchestrator's GIL study, by its users, asked whether the GIL is
what keeps their batch of trading scenarios from running faster on a
``ThreadPoolExecutor``. It ran the batch three ways and proposed three
criteria; this module runs the same study on any scenario set, twice:

- ``reference``: :func:`fastpar.reference.scenario.run_scenario`, the
  scenario in plain Python (the GIL is held all the time);
- ``fastpar``: :func:`fastpar.scenarios.run_scenario`, the same scenario on
  the C kernel (the GIL is released while it runs).

Modes, each over the whole batch, one task per scenario:

- ``Sequential``: a plain loop on the calling thread (the baseline);
- ``Threading-Nw``: ``ThreadPoolExecutor(N).map``;
- ``Multiprocessing-Nw``: ``ProcessPoolExecutor(N).map`` (the platform's
  default start method); each worker process receives the ticks, their
  warm-up bars and the brokers once, through the pool's initializer, and
  the results come back pickled;
- ``Native-Nw`` (fastpar only): :func:`fastpar.scenarios.run_scenarios`
  with ``threads=N``, the batch as one job of fastpar's native pool.

Before any clock starts, every scenario is prepared once (its broker
file read, its warm-up bars rendered from the ticks): a mode's time is its
scenarios' runs, each of which still cuts its own window from the data as
the batch_orchestrator API does. A time includes creating and shutting
down the pool, as a user's ``with ...Executor(...)`` block pays it. Each time is the best of several
rounds; in a round every mode runs once, in turn, so a burst of load on the
machine hits all of them.

Reported per mode: the time, the speed-up over the same implementation's
sequential run, the efficiency (speed-up / workers), the ticks processed per
second per thread, and whether the results are identical to the sequential
ones (every field of every scenario result but its measured times).

The criteria (:func:`evaluate_criteria`): the study's three, which "prove
the GIL is the bottleneck" when all hold (threading speed-up < 1.5x whatever
the worker count; multiprocessing speed-up > 0.7 x the CPU count; efficiency
of multiprocessing minus that of threading > 60 percentage points), applied
to both implementations, and fastpar's own goals: threads at least 1.8x
faster than fastpar's sequential run on 2 cores, and one fastpar thread at
least 100x the ticks per second of one pure-Python thread.

    from fastpar.gil_benchmark import balanced_scenarios, run_benchmark

    data, scenarios = balanced_scenarios()
    study = run_benchmark(data, scenarios)
    print(study.to_markdown())

Or from a shell: ``python -m fastpar.gil_benchmark [--set balanced|sample]``.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import math
import os
import platform
import subprocess
import sys
import sysconfig
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any, Callable, Sequence

from .reference import scenario as _reference
from .scenario_config import BrokerConfig, ScenarioConfigLoader, TestScenario
from .scenarios import BrokerFiles, prepare_scenario, scenario_broker
from .scenarios import run_scenario as _fastpar_run_scenario
from .scenarios import run_scenarios as _fastpar_run_scenarios
from .ticks import TickArrays, TickArraysData, iso_utc, sample_data, synthetic_ticks

__all__ = [
    "IMPLEMENTATIONS",
    "STRATEGIES",
    "Criterion",
    "GilBenchmark",
    "Row",
    "balanced_scenarios",
    "build_info",
    "cpu_capacity",
    "evaluate_criteria",
    "run_benchmark",
    "sample_scenarios",
    "usable_cpus",
]

IMPLEMENTATIONS = ("reference", "fastpar")

# The study's criteria and fastpar's goals, and how a Criterion's source names them.
STUDY = "GIL study"  # the batch orchestrator's GIL study
GOAL = "fastpar goal"
STUDY_THREADING_MAX = 1.5  # threading speed-up below this, whatever the workers
STUDY_PROCESS_FACTOR = 0.7  # multiprocessing speed-up above this x CPU count
STUDY_EFFICIENCY_GAP = 0.60  # efficiency(processes) - efficiency(threads) above this
GOAL_THREAD_SPEEDUP = 1.8  # fastpar, 2 threads, 2 cores
GOAL_PER_THREAD_RATIO = 100.0  # fastpar ticks/s per thread over pure Python's

# Results of one implementation agree with the other's to this relative
# tolerance (the C kernel and the reference sum in the same order, but the
# compiler may contract a multiply-add).
AGREEMENT_TOL = 1e-9


def usable_cpus() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def build_info() -> dict[str, Any]:
    """Which interpreter and machine produced the figures."""
    gil_enabled = getattr(sys, "_is_gil_enabled", None)
    return {
        "python": sys.version.split()[0],
        "version": sys.version,
        "implementation": platform.python_implementation(),
        "free_threaded_build": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        "gil_enabled": gil_enabled() if gil_enabled is not None else True,
        "cpus": os.cpu_count() or 1,
        "usable_cpus": usable_cpus(),
        "machine": platform.machine(),
        "platform": platform.platform(),
        # Other work on the machine bounds any speed-up: record how busy it was.
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


_SPIN = """
import sys, time
start, n = float(sys.argv[1]), int(sys.argv[2])
time.sleep(max(0.0, start - time.time()))
t0 = time.perf_counter()
s = 0
for i in range(n):
    s += i
print(time.perf_counter() - t0)
"""


def cpu_capacity(processes: int | None = None, iterations: int = 3_000_000, tries: int = 2) -> float:
    """How many CPUs' worth of work the machine gives right now.

    One process spins alone, then ``processes`` (default: the usable CPUs)
    spin at once; separate interpreters, so no GIL is shared. The capacity
    is ``processes * time alone / mean time together``: 2.0 means two full
    cores, 1.0 one core shared by both. Best of ``tries``. On a shared or
    virtual machine it moves with the load of the host; no speed-up of N
    workers can exceed it.
    """
    processes = usable_cpus() if processes is None else int(processes)
    if processes < 1:
        raise ValueError(f"processes must be >= 1, got {processes}")

    def spin(k: int) -> float:
        start = time.time() + 0.15  # after every child's interpreter start-up
        children = [
            subprocess.Popen([sys.executable, "-c", _SPIN, repr(start), str(iterations)],
                             stdout=subprocess.PIPE, text=True)
            for _ in range(k)
        ]
        times = [float(c.communicate()[0]) for c in children]
        return sum(times) / len(times)

    alone = together = math.inf
    for _ in range(max(1, tries)):
        alone = min(alone, spin(1))
        together = min(together, spin(processes))
    return processes * alone / together


# ---------------------------------------------------------------------------
# Scenario sets
# ---------------------------------------------------------------------------


# Balanced-set strategies: the sample scenario whose configuration each uses.
STRATEGIES = {
    "consensus": "EURUSD_consensus_0904",  # simple consensus, RSI(14) M5 + envelope(20) M5
    "trend": "EURUSD_london_0903",  # the set's global strategy: aggressive trend
}


def _sample_strategy(strategy: str) -> tuple[dict, dict]:
    """A sample scenario's (merged) strategy and trade simulator blocks."""
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {sorted(STRATEGIES)}, got {strategy!r}")
    sample = ScenarioConfigLoader().load_config("sample_scenarios.json")
    base = next(sc for sc in sample if sc.name == STRATEGIES[strategy])
    return copy.deepcopy(base.strategy_config), copy.deepcopy(base.trade_simulator_config or {})


def balanced_scenarios(
    n_scenarios: int = 8,
    ticks_per_scenario: int = 150_000,
    *,
    strategy: str = "consensus",
    days: int | None = None,
    symbol: str = "EURUSD",
    seed: int = 42,
) -> tuple[TickArraysData, list[TestScenario]]:
    """Synthetic ticks (a data worker over them) and ``n_scenarios`` equal
    scenarios over them.

    Every scenario has the same strategy and exactly ``ticks_per_scenario``
    ticks (``max_ticks``); their windows start on evenly spaced ticks (the
    API requires a tick at a window's start), after a day of warm-up
    history. Equal work per scenario means no scenario dominates the
    batch, so the speed-up of N workers can reach N. ``days`` of synthetic
    ticks default to enough for the windows. Each scenario names the
    shipped broker file, as the sample scenario it copies does.

    Besides the kernel, each scenario spends a fraction of a millisecond
    in Python with the GIL held (reading its configuration, building its
    result); the default length makes the kernel's share large, while the
    pure-Python reference still runs the batch in seconds.

    strategy: the configuration of one of the sample set's scenarios:
        ``"consensus"`` (simple consensus, RSI(14) and envelope(20) on M5:
        few trades) or ``"trend"`` (the set's global aggressive trend: a
        trade every couple of hundred ticks: about 800 trades and 800
        orders per scenario, which fastpar's result keeps as number tables
        until they are read, since making their Python objects holds the
        GIL).
    """
    if n_scenarios < 1:
        raise ValueError(f"n_scenarios must be >= 1, got {n_scenarios}")
    if ticks_per_scenario < 1:
        raise ValueError(f"ticks_per_scenario must be >= 1, got {ticks_per_scenario}")
    # About 9,000 ticks per calendar day (weekends have none).
    if days is None:
        days = max(14, math.ceil((ticks_per_scenario * 2 + 20_000) / 9_000) + 3)
    ticks = synthetic_ticks(symbol, days=days, seed=seed)
    first = int((ticks.timestamp < ticks.timestamp[0] + 86_400 * 10**9).sum())  # a day of history
    last_start = len(ticks) - ticks_per_scenario
    if last_start < first:
        raise ValueError(
            f"{days} days of synthetic ticks ({len(ticks):,}) are too few for "
            f"{ticks_per_scenario:,} ticks per scenario after a day of warm-up; pass more days"
        )
    strategy_config, simulator = _sample_strategy(strategy)
    scenarios = []
    for k in range(n_scenarios):
        start = first + (last_start - first) * k // max(1, n_scenarios - 1)
        # Start exactly on a tick, as the API requires (the synthetic ticks
        # fall on whole milliseconds, which iso_utc keeps).
        start_iso = iso_utc(int(ticks.timestamp[start]))
        scenarios.append(
            TestScenario(
                symbol=symbol,
                start_date=start_iso,
                end_date=iso_utc(int(ticks.timestamp[-1])),
                max_ticks=ticks_per_scenario,
                strategy_config=copy.deepcopy(strategy_config),
                trade_simulator_config=copy.deepcopy(simulator),
                name=f"{symbol}_{strategy}_{k + 1:02d}",
            )
        )
    return TickArraysData(ticks), scenarios


def sample_scenarios() -> tuple[TickArraysData, list[TestScenario]]:
    """fastpar's shipped sample set (``sample_scenarios.json``) and its
    embedded data (:func:`fastpar.ticks.sample_data`). Unbalanced: its heavy
    scenario (workers with an artificial CPU load) takes most of the
    batch's time."""
    scenarios = ScenarioConfigLoader().load_config("sample_scenarios.json")
    return sample_data(), scenarios


# ---------------------------------------------------------------------------
# Running one scenario (module level: process pools pickle these by name)
# ---------------------------------------------------------------------------

_RUNNERS: dict[str, Callable] = {
    "reference": _reference.run_scenario,
    "fastpar": _fastpar_run_scenario,
}

# A worker process's data and brokers, set once by the pool's initializer.
_worker_state: dict[str, Any] = {}


def _init_worker(data: TickArraysData, brokers: list) -> None:
    _worker_state["data"] = data
    _worker_state["brokers"] = brokers


def _run_in_worker(job: tuple[str, int, Any]):
    implementation, index, scenario = job
    return _RUNNERS[implementation](_worker_state["data"], scenario,
                                    _worker_state["brokers"][index])


# Fields of a result that are measured times, not computed values.
_TIMES = ("elapsed_time", "user_time", "profiling_data")
_STAT_TIMES = ("worker_total_time_ms", "worker_avg_time_ms", "worker_min_time_ms",
               "worker_max_time_ms", "decision_total_time_ms", "decision_avg_time_ms",
               "decision_min_time_ms", "decision_max_time_ms")


def _without_times(d):
    if isinstance(d, dict):
        return {k: _without_times(v) for k, v in d.items() if k not in _STAT_TIMES}
    return d


def _comparable(result) -> dict:
    """A scenario result without its measured times: what must not depend
    on the mode."""
    d = dataclasses.asdict(result)
    for key in _TIMES:
        d.pop(key, None)
    d["worker_statistics"] = _without_times(d["worker_statistics"])
    # The API lists a set there: its order follows the process's string
    # hashing, which differs in a spawned worker process.
    d["scenario_requirement"]["all_timeframes"].sort()
    return d


def _agree(a, b, tol: float = AGREEMENT_TOL) -> bool:
    """Same structure, same counts and texts, floats within ``tol``."""
    if isinstance(a, float) or isinstance(b, float):
        if not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
            return False
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b or math.isclose(a, b, rel_tol=tol, abs_tol=tol)
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(_agree(a[k], b[k], tol) for k in a)
    if isinstance(a, (list, tuple)):
        return (type(a) is type(b) and len(a) == len(b)
                and all(_agree(x, y, tol) for x, y in zip(a, b)))
    return type(a) is type(b) and a == b


# ---------------------------------------------------------------------------
# The table and the criteria
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Row:
    """One implementation in one mode."""

    implementation: str  # "reference" or "fastpar"
    mode: str  # "Sequential", "Threading-2w", "Multiprocessing-2w", "Native-2w"
    kind: str  # "sequential", "threading", "multiprocessing", "native"
    workers: int
    seconds: float
    speedup: float  # the implementation's sequential time / this time
    efficiency: float  # speedup / workers
    ticks_per_second_per_thread: float
    identical: bool  # results identical to the sequential run's

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Criterion:
    """One success criterion, evaluated on measured numbers."""

    source: str  # STUDY (one of the GIL study's three criteria) or GOAL (fastpar's own)
    subject: str  # the implementation it is evaluated on
    text: str
    measured: float
    threshold: float
    met: bool | None  # None: not applicable here (e.g. fewer than 2 CPUs)
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _find(rows: Sequence[Row], implementation: str, kind: str, workers: int | None = None):
    for r in rows:
        if r.implementation == implementation and r.kind == kind and (
            workers is None or r.workers == workers
        ):
            return r
    return None


def evaluate_criteria(rows: Sequence[Row], cpus: int | None = None) -> list[Criterion]:
    """The study's three criteria on each implementation present in
    ``rows``, then fastpar's two goals (when both implementations are)."""
    cpus = usable_cpus() if cpus is None else cpus
    out: list[Criterion] = []
    impls = [i for i in IMPLEMENTATIONS if any(r.implementation == i for r in rows)]
    for impl in impls:
        threading_rows = [r for r in rows if r.implementation == impl and r.kind == "threading"]
        if threading_rows:
            worst = max(threading_rows, key=lambda r: r.speedup)
            out.append(Criterion(
                STUDY, impl,
                f"threading speed-up < {STUDY_THREADING_MAX}x whatever the worker count",
                worst.speedup, STUDY_THREADING_MAX, worst.speedup < STUDY_THREADING_MAX,
                f"highest: {worst.mode}",
            ))
        process_rows = [r for r in rows if r.implementation == impl and r.kind == "multiprocessing"]
        if process_rows:
            # The study runs as many workers as CPUs; fewer workers than
            # CPUs can only reach their own count.
            r = max(process_rows, key=lambda r: (min(r.workers, cpus), r.speedup))
            n = min(r.workers, cpus)
            threshold = STUDY_PROCESS_FACTOR * n
            out.append(Criterion(
                STUDY, impl, f"multiprocessing speed-up > {STUDY_PROCESS_FACTOR} x CPU count",
                r.speedup, threshold, r.speedup > threshold,
                f"{r.mode}, {n} CPU{'s' if n > 1 else ''} used",
            ))
            t = _find(rows, impl, "threading", r.workers)
            if t is not None:
                gap = r.efficiency - t.efficiency
                note = f"{r.mode} {r.efficiency:.0%} - {t.mode} {t.efficiency:.0%}"
                if r.workers <= 2:
                    note += ("; with 2 workers the gap is (speed-up of processes - speed-up of "
                             "threads) / 2, so > 60% needs a difference above 1.2x")
                out.append(Criterion(
                    STUDY, impl,
                    f"efficiency difference > {STUDY_EFFICIENCY_GAP:.0%} between methods",
                    gap, STUDY_EFFICIENCY_GAP, gap > STUDY_EFFICIENCY_GAP, note,
                ))
    if "fastpar" in impls:
        t2 = _find(rows, "fastpar", "threading", 2)
        if t2 is None or cpus < 2:
            out.append(Criterion(
                GOAL, "fastpar",
                f"threads >= {GOAL_THREAD_SPEEDUP}x faster than sequential (2 threads, 2 cores)",
                math.nan, GOAL_THREAD_SPEEDUP, None,
                "not applicable: needs 2 CPUs and a Threading-2w run",
            ))
        else:
            out.append(Criterion(
                GOAL, "fastpar",
                f"threads >= {GOAL_THREAD_SPEEDUP}x faster than sequential (2 threads, 2 cores)",
                t2.speedup, GOAL_THREAD_SPEEDUP, t2.speedup >= GOAL_THREAD_SPEEDUP, t2.mode,
            ))
    if "fastpar" in impls and "reference" in impls:
        fp = _find(rows, "fastpar", "sequential")
        ref = _find(rows, "reference", "sequential")
        ratio = fp.ticks_per_second_per_thread / ref.ticks_per_second_per_thread
        out.append(Criterion(
            GOAL, "fastpar",
            f"one fastpar thread >= {GOAL_PER_THREAD_RATIO:.0f}x the ticks/s of one pure-Python thread",
            ratio, GOAL_PER_THREAD_RATIO, ratio >= GOAL_PER_THREAD_RATIO,
            f"{fp.ticks_per_second_per_thread:,.0f} vs {ref.ticks_per_second_per_thread:,.0f} ticks/s, "
            "sequential runs",
        ))
    return out


@dataclasses.dataclass
class GilBenchmark:
    """The study's table, its criteria and what produced them."""

    label: str
    n_scenarios: int
    total_ticks: int  # ticks processed by one run of the batch
    rows: list[Row]
    criteria: list[Criterion]
    agree: bool | None  # reference and fastpar results agree (None: one implementation only)
    repeats: dict[str, int]
    build: dict[str, Any]
    scenario_ticks: list[int]  # ticks per scenario, in order
    # cpu_capacity() before and after the runs (None: not probed)
    capacity: tuple[float, float] | None = None
    results: dict[str, list] = dataclasses.field(default_factory=dict, repr=False)
    # fastpar's results build their trade and order objects when first read
    # (fastpar.scenarios.ScenarioResult): the best time to read them all
    # after a sequential run, not part of any mode's time (None: no fastpar)
    read_trades_seconds: float | None = None
    # each scenario's artificial load per tick: the artificial_load_ms of
    # its CORE/heavy_* workers, summed (0.0 without any)
    scenario_load_ms_per_tick: list[float] = dataclasses.field(default_factory=list)

    def row(self, implementation: str, mode: str) -> Row:
        for r in self.rows:
            if r.implementation == implementation and r.mode == mode:
                return r
        raise KeyError(f"no row {implementation!r} / {mode!r}")

    def to_frame(self):
        """The table as a pandas DataFrame (pandas needed)."""
        import pandas as pd

        return pd.DataFrame([r.as_dict() for r in self.rows])

    def criteria_frame(self):
        import pandas as pd

        return pd.DataFrame([c.as_dict() for c in self.criteria])

    @property
    def balance(self) -> float:
        """Largest scenario's share of the batch's ticks (1/n: balanced)."""
        return max(self.scenario_ticks) / max(1, sum(self.scenario_ticks))

    @property
    def scenario_load_seconds(self) -> list[float]:
        """Each scenario's artificial load, in order: the busy work its
        CORE/heavy_* workers do, ``artificial_load_ms`` on every tick. Both
        implementations spend this time alike, so it bounds what either can
        gain: a run of one task per scenario takes at least the largest one,
        and fastpar's lead over the reference shrinks as it grows."""
        return [ms * ticks / 1e3
                for ms, ticks in zip(self.scenario_load_ms_per_tick, self.scenario_ticks)]

    def to_markdown(self) -> str:
        b = self.build
        gil = "GIL enabled" if b["gil_enabled"] else "GIL disabled"
        lines = [
            f"{self.label}: {self.n_scenarios} scenarios, {self.total_ticks:,} ticks "
            f"(largest scenario {self.balance:.0%} of them); Python {b['python']} "
            f"({'free-threaded' if b['free_threaded_build'] else 'GIL'} build, {gil}), "
            f"{b['usable_cpus']} usable CPUs"
            + (f", load average {b['load_average'][0]:.2f} at the end" if b.get("load_average") else "")
            + (f"; CPU capacity {self.capacity[0]:.2f} before, {self.capacity[1]:.2f} after "
               f"({b['usable_cpus']}.0 = every CPU free)" if self.capacity else ""),
            "",
            "| implementation | mode | time | speed-up | efficiency | ticks/s per thread | identical |",
            "|---|---|---:|---:|---:|---:|---|",
        ]
        for r in self.rows:
            lines.append(
                f"| {r.implementation} | {r.mode} | {r.seconds:.3f} s | {r.speedup:.2f}x | "
                f"{r.efficiency:.0%} | {r.ticks_per_second_per_thread:,.0f} | "
                f"{'yes' if r.identical else '**NO**'} |"
            )
        lines += ["", "| criterion | on | measured | met |", "|---|---|---:|---|"]
        for c in self.criteria:
            lines.append(f"| {c.source}: {c.text} | {c.subject} | {_fmt(c)} | {_met(c.met)} |")
        if self.agree is not None:
            lines += ["", f"reference and fastpar results agree: {'yes' if self.agree else '**NO**'}"]
        return "\n".join(lines)


def _fmt(c: Criterion) -> str:
    if math.isnan(c.measured):
        return "n/a"
    if "efficiency" in c.text:
        return f"{c.measured:+.0%}"
    return f"{c.measured:,.2f}x" if c.measured < 1000 else f"{c.measured:,.0f}x"


def _met(met: bool | None) -> str:
    return "n/a" if met is None else ("yes" if met else "no")


# ---------------------------------------------------------------------------
# Running the study
# ---------------------------------------------------------------------------


def _modes(implementation: str, workers: Sequence[int], native: bool):
    yield "Sequential", "sequential", 1
    for n in workers:
        yield f"Threading-{n}w", "threading", n
        yield f"Multiprocessing-{n}w", "multiprocessing", n
        if native and implementation == "fastpar":
            yield f"Native-{n}w", "native", n


def run_benchmark(
    ticks: TickArraysData | TickArrays,
    scenarios: Sequence,
    *,
    workers: int | Sequence[int] | None = None,
    implementations: Sequence[str] = IMPLEMENTATIONS,
    repeats: int | dict[str, int] | None = None,
    native: bool = True,
    broker: BrokerConfig | None = None,
    mp_context=None,
    label: str = "scenario batch",
    probe: bool = False,
    log: Callable[[str], None] | None = None,
) -> GilBenchmark:
    """Run the study; see the module documentation.

    ticks: the data, a :class:`~fastpar.ticks.TickArraysData` (what
        :func:`balanced_scenarios` and :func:`sample_scenarios` return) or a
        :class:`~fastpar.ticks.TickArrays`.
    scenarios: TestScenarios or dicts, as
        :func:`fastpar.scenarios.run_scenarios` takes them.
    workers: the N of the threaded and multiprocess modes (default: the
        usable CPU count); several values give a row each.
    implementations: some of ``("reference", "fastpar")``.
    repeats: rounds per implementation; each time is the best of them.
        Default: 1 for the reference (seconds per run), 5 for fastpar
        (milliseconds per run, so noise matters more).
    native: add fastpar's native pool (``Native-Nw``).
    broker: a BrokerConfig for every scenario (default: each scenario's
        own ``broker_config_path``); read once, before the runs.
    mp_context: a multiprocessing context for the process pools (default:
        the platform's default start method).
    probe: measure :func:`cpu_capacity` before and after the runs (about a
        second each), to show how much of the machine the runs could use.
    log: called with a line of progress now and then.

    A scenario that fails raises: a benchmark of failed runs means nothing.
    """
    if isinstance(workers, int):
        workers = [workers]
    workers = [usable_cpus()] if workers is None else [int(w) for w in workers]
    if not workers or any(w < 1 for w in workers):
        raise ValueError(f"workers must be positive integers, got {workers}")
    unknown = [i for i in implementations if i not in _RUNNERS]
    if unknown or not implementations:
        raise ValueError(f"implementations must be some of {IMPLEMENTATIONS}, got {implementations}")
    if not scenarios:
        raise ValueError("no scenarios to run")
    if isinstance(ticks, TickArrays):
        ticks = TickArraysData(ticks)
    if not isinstance(ticks, TickArraysData):
        raise TypeError("ticks must be a fastpar.ticks.TickArraysData or TickArrays, got "
                        f"{type(ticks).__name__}")
    defaults = {"reference": 1, "fastpar": 5}
    if repeats is None:
        repeats = defaults
    elif isinstance(repeats, int):
        repeats = {i: repeats for i in implementations}
    repeats = {i: max(1, int(repeats.get(i, defaults[i]))) for i in implementations}
    scenarios = list(scenarios)
    say = log or (lambda _msg: None)

    # Every scenario prepared once before the clocks start: its broker read
    # and the warm-up bars rendered into the data worker, which keeps them
    # (and pickles with them: a worker process renders nothing on the
    # clock); a scenario that cannot run raises here.
    files = BrokerFiles()
    brokers = [scenario_broker(sc, broker, files) for sc in scenarios]
    loads = []
    for sc, b in zip(scenarios, brokers):
        prep = prepare_scenario(sc, ticks, broker=b)
        loads.append(sum(w[7] for w in prep.spec.workers))  # artificial_load_ms
    data = ticks
    # One broker for the native pool's batch when all scenarios share it.
    batch_broker = brokers[0] if all(b is brokers[0] for b in brokers) else broker

    capacity_before = cpu_capacity(max(workers)) if probe else None
    rows: list[Row] = []
    results: dict[str, list] = {}
    read_s = math.inf
    for impl in implementations:
        run_one = _RUNNERS[impl]
        modes = list(_modes(impl, workers, native))

        def run_mode(kind: str, n: int):
            if kind == "sequential":
                return [run_one(data, sc, b) for sc, b in zip(scenarios, brokers)]
            if kind == "threading":
                with ThreadPoolExecutor(max_workers=n) as pool:
                    return list(pool.map(lambda sc, b: run_one(data, sc, b), scenarios, brokers))
            if kind == "multiprocessing":
                with ProcessPoolExecutor(max_workers=n, mp_context=mp_context,
                                         initializer=_init_worker,
                                         initargs=(data, brokers)) as pool:
                    return list(pool.map(_run_in_worker,
                                         [(impl, i, sc) for i, sc in enumerate(scenarios)]))
            out = _fastpar_run_scenarios(data, scenarios, threads=n, progress=False,
                                         broker=batch_broker)
            for r in out:
                if isinstance(r, BaseException):
                    raise r
            return out

        best = {mode: math.inf for mode, _, _ in modes}
        outputs: dict[str, list] = {}
        for round_ in range(repeats[impl]):
            for mode, kind, n in modes:
                # Let go of the last mode's results before the clock starts:
                # freeing them (a sequential round's trades and orders, once
                # read, are thousands of objects) is not this mode's work.
                out = None
                threads_before = _os_threads()
                t0 = time.perf_counter()
                out = run_mode(kind, n)
                elapsed = time.perf_counter() - t0
                if kind in ("threading", "multiprocessing"):  # their executors' threads exit
                    _wait_for_threads_to_exit(threads_before)
                best[mode] = min(best[mode], elapsed)
                if impl == "fastpar" and kind == "sequential":
                    t0 = time.perf_counter()
                    for r in out:
                        r.trades, r.orders  # noqa: B018 - reading them builds them
                    read_s = min(read_s, time.perf_counter() - t0)
                if round_ == 0:
                    outputs[mode] = [_comparable(r) for r in out]
                say(f"{impl:9s} {mode:20s} round {round_ + 1}/{repeats[impl]}: {elapsed:.3f} s")
        baseline = outputs["Sequential"]
        total_ticks = sum(r["ticks_processed"] for r in baseline)
        seq = best["Sequential"]
        for mode, kind, n in modes:
            s = best[mode]
            rows.append(Row(
                implementation=impl, mode=mode, kind=kind, workers=n, seconds=s,
                speedup=seq / s, efficiency=seq / s / n,
                ticks_per_second_per_thread=total_ticks / s / n,
                identical=outputs[mode] == baseline,
            ))
        results[impl] = baseline

    capacity = (capacity_before, cpu_capacity(max(workers))) if probe else None
    agree = None
    if len(results) == 2:
        agree = _agree(results["reference"], results["fastpar"])
    first = results[implementations[0]]
    return GilBenchmark(
        label=label,
        n_scenarios=len(scenarios),
        total_ticks=sum(r["ticks_processed"] for r in first),
        rows=rows,
        criteria=evaluate_criteria(rows),
        agree=agree,
        repeats=repeats,
        build=build_info(),
        scenario_ticks=[r["ticks_processed"] for r in first],
        capacity=capacity,
        results=results,
        read_trades_seconds=read_s if "fastpar" in implementations else None,
        scenario_load_ms_per_tick=loads,
    )


def _os_threads() -> int | None:
    """The process's threads as the kernel counts them (None where /proc is not there)."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return None


def _wait_for_threads_to_exit(count: int | None, limit: float = 2.0) -> None:
    """Wait (up to ``limit`` seconds) until the process is back to ``count`` threads.

    A thread that an executor's shutdown joined may still run its last C code
    (freeing its thread state) for a moment after ``join()`` returns. A fork
    in that moment, the next multiprocessing mode's, copies into the child an
    allocator lock that thread holds, and the child hangs at its first
    allocation: glibc's malloc takes its locks around fork, but other
    allocators (a sanitizer's) do not. Off the clock.
    """
    if count is None:
        return
    deadline = time.monotonic() + limit
    while (_os_threads() or 0) > count and time.monotonic() < deadline:
        time.sleep(0.001)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fastpar.gil_benchmark", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--set", choices=("balanced", "sample"), default="balanced",
                        help="the scenario set (default: balanced)")
    parser.add_argument("--scenarios", type=int, default=8, help="balanced set: scenarios")
    parser.add_argument("--ticks", type=int, default=150_000, help="balanced set: ticks per scenario")
    parser.add_argument("--strategy", choices=sorted(STRATEGIES), default="consensus",
                        help="balanced set: the strategy of every scenario")
    parser.add_argument("--workers", type=int, nargs="+", default=None,
                        help="worker counts (default: the usable CPUs)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    args = parser.parse_args(argv)
    if args.set == "sample":
        data, scenarios = sample_scenarios()
        label = "sample scenario set"
    else:
        data, scenarios = balanced_scenarios(args.scenarios, args.ticks, strategy=args.strategy)
        label = f"balanced set ({args.scenarios} x {args.ticks:,} ticks, {args.strategy})"
    log = None if args.quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    study = run_benchmark(data, scenarios, workers=args.workers, label=label, probe=True, log=log)
    print(study.to_markdown())
    ok = all(r.identical for r in study.rows) and study.agree is not False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
