"""W4, scenarios: the batch orchestrator's GIL study, on scenario batches.

A batch of trading scenarios runs sequentially, through
``ThreadPoolExecutor(N)`` and through ``ProcessPoolExecutor(N)`` (N = the
usable CPUs), once in plain Python (``fastpar.reference.scenario``) and once
on fastpar's C kernel (``fastpar.scenarios.run_scenario``; also as one job
of fastpar's native pool). The work is :mod:`fastpar.gil_benchmark`; this
file renders its tables for benchmarks/run.py. Every scenario is prepared as
the batch_orchestrator API prepares it: it cuts its window from the data
(a tick at its start), its warm-up bars rendered once before the clocks
start, its broker the shipped broker file. Sets:

* balanced, simple consensus: 8 equal scenarios of 150,000 synthetic ticks,
  a strategy that trades rarely, so the C kernel dominates each scenario;
* balanced, aggressive trend: the same windows with the sample set's global
  strategy, which trades every few hundred ticks (fastpar's results build
  their trade and order objects, which holds the GIL, only when read: the
  time to read them all is reported beside the table);
* the shipped sample scenario set on fastpar's embedded sample data,
  unbalanced: one heavy scenario holds most of the batch's time.

Run alone: python benchmarks/bench_scenarios.py [--quick]
"""

from __future__ import annotations

import sys

from fastpar import gil_benchmark as gb

TITLE = "W4: scenario batches, sequential vs threads vs processes"

# A fastpar round of a balanced set takes about 0.1 s, and other tenants'
# load on this kind of shared machine comes and goes over seconds: 60
# interleaved rounds give every mode the same, longer stretch of time to
# show its best.
FULL = {"scenarios": 8, "ticks": 150_000, "repeats": {"reference": 1, "fastpar": 60}}
QUICK = {"scenarios": 4, "ticks": 4_000, "repeats": {"reference": 1, "fastpar": 2}}


def _table(study: gb.GilBenchmark) -> tuple[list[str], list[list[str]]]:
    headers = ["implementation", "mode", "time", "speed-up", "efficiency", "ticks/s per thread",
               "identical"]
    rows = [[r.implementation, r.mode, f"{r.seconds:.3f} s", f"{r.speedup:.2f}x", f"{r.efficiency:.0%}",
             f"{r.ticks_per_second_per_thread:,.0f}", "yes" if r.identical else "**NO**"]
            for r in study.rows]
    return headers, rows


def _criteria(study: gb.GilBenchmark) -> list[list[str]]:
    out = []
    for c in study.criteria:
        out.append([c.source, c.subject, c.text, gb._fmt(c), gb._met(c.met), c.note])
    return out


def _load_note(study: gb.GilBenchmark) -> list[str]:
    """What a set's artificial load leaves for threads and for the C kernel
    to gain; nothing for a set without heavy workers."""
    loads = study.scenario_load_seconds
    if not any(loads):
        return []
    seq = study.row("fastpar", "Sequential").seconds
    largest = max(loads)
    text = (f"The heavy workers' artificial load (busy work of `artificial_load_ms` on every tick, "
            f"which both implementations spend alike) is {sum(loads) * 1e3:,.0f} ms of this batch, "
            f"{sum(loads) / seq:.0%} of fastpar's sequential time; its largest scenario alone has "
            f"{largest * 1e3:,.0f} ms. One task per scenario cannot finish before that scenario "
            f"does, so fastpar can gain at most {seq / largest:.2f}x here on any number of threads")
    if "reference" in study.repeats:
        ref = study.row("reference", "Sequential").seconds
        text += (f", and its ticks per second on one thread can be at most {ref / sum(loads):.1f}x "
                 f"the reference's")
    return [text + "."]


def _chart(label: str, study) -> dict:
    """Speed-up over sequential per mode, the reference beside fastpar."""
    modes = [r.mode for r in study.rows if r.kind != "sequential" and r.implementation == "fastpar"]
    by = {(r.implementation, r.mode): r.speedup for r in study.rows}
    return {
        "name": "w4_" + "".join(ch if ch.isalnum() else "_" for ch in label).strip("_").lower(),
        "title": f"W4: scenario batch, {label}: speed-up over sequential",
        "ylabel": "speed-up over sequential",
        "labels": modes,
        "series": {"pure-Python reference" if impl == "reference" else impl:
                   [by.get((impl, m)) for m in modes] for impl in ("reference", "fastpar")},
        "goal": (gb.GOAL_THREAD_SPEEDUP, f"goal {gb.GOAL_THREAD_SPEEDUP}x for fastpar's threads"),
    }


def run(quick: bool = False, log=print) -> list[dict]:
    size = QUICK if quick else FULL
    sets = []
    for strategy in ("consensus", "trend"):
        data, scenarios = gb.balanced_scenarios(size["scenarios"], size["ticks"], strategy=strategy)
        sets.append((f"balanced, {strategy} ({size['scenarios']} × {size['ticks']:,} ticks)",
                     data, scenarios))
    data, scenarios = gb.sample_scenarios()
    sets.append(("sample scenario set", data, scenarios))

    sections = []
    for label, data, scenarios in sets:
        log(f"-- {label}")
        study = gb.run_benchmark(data, scenarios, label=label, repeats=size["repeats"], probe=True,
                                 log=lambda m: log("   " + m))
        headers, rows = _table(study)
        notes = [f"Reference and fastpar results agree (every count equal, amounts to 1e-9): "
                 f"{'yes' if study.agree else '**NO**'}. Largest scenario: {study.balance:.0%} of the "
                 f"batch's {study.total_ticks:,} ticks.",
                 f"fastpar's results keep each scenario's trades and orders as number tables and "
                 f"build their Python objects when first read (the batch orchestrator's statistics "
                 f"never read them). Reading every trade and order of this batch after a sequential "
                 f"run took {study.read_trades_seconds * 1e3:.1f} ms more "
                 f"({study.read_trades_seconds / study.row('fastpar', 'Sequential').seconds:.0%} of "
                 f"fastpar's sequential time), not included in the times above.",
                 *_load_note(study),
                 f"CPU probe (separate processes spinning at once against one alone; "
                 f"{study.build['usable_cpus']}.0 = every CPU free): {study.capacity[0]:.2f} before "
                 f"this set, {study.capacity[1]:.2f} after it. No speed-up can exceed it."]
        sections.append({
            "title": f"{label}: table",
            "intro": (f"{study.n_scenarios} scenarios, one task each. Speed-up: the implementation's "
                      "sequential time over this time; efficiency: speed-up / workers; ticks/s per "
                      "thread: ticks of the batch / time / workers. Times include starting and "
                      "stopping the pool; each is the best of "
                      f"{study.repeats.get('reference', 1)} (reference) and "
                      f"{study.repeats.get('fastpar', 1)} (fastpar) rounds."),
            "headers": headers,
            "rows": rows,
            "notes": notes,
            "chart": _chart(label, study),
        })
        sections.append({
            "title": f"{label}: criteria",
            "intro": ("The batch orchestrator's GIL study's three criteria (all three met: the GIL is "
                      "the bottleneck), on each implementation, then fastpar's goals."),
            "headers": ["source", "on", "criterion", "measured", "met", "how"],
            "rows": _criteria(study),
        })
    return sections


if __name__ == "__main__":
    from run import render_sections

    print(render_sections(run(quick="--quick" in sys.argv[1:])))
