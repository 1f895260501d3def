"""Run every fastpar benchmark and write docs/benchmarks.md.

    python benchmarks/run.py                    # full run (what `make bench` does)
    python benchmarks/run.py --quick --out b.md # smoke run: small sizes, a few seconds

Every ``bench_*.py`` beside this file is a benchmark: a module with a
``TITLE`` and a ``run(quick, log)`` that returns a list of sections (a dict
with ``title``, ``intro``, ``headers``, ``rows`` and ``notes``, and an
optional ``chart``, drawn as a PNG under ``figures/`` beside the page). This script
runs them in name order, adds what machine and software they ran on, and
renders everything as Markdown. A full run rewrites docs/benchmarks.md
(or ``--out PATH``); a ``--quick`` run writes a file only when given
``--out``, and prints the page otherwise.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import os
import platform
import re
import resource
import shlex
import sys
import sysconfig
import time
import traceback
from pathlib import Path
from typing import Any, Iterable, Sequence

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_OUT = ROOT / "docs" / "benchmarks.md"

Section = dict  # title, intro, headers, rows, notes


# --------------------------------------------------------------------------
# Markdown


def render_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A GitHub Markdown table; cells are str()-ed, numeric-looking ones right-aligned."""
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
        padded = [c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right)]
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(("-" * (w + 1) + ":") if r else ("-" * (w + 2)) for w, r in zip(widths, right)) + "|"
    return "\n".join([line(headers), rule] + [line(r) for r in rows])


def render_sections(sections: Sequence[Section], level: int = 3,
                    figures: Path | None = None) -> str:
    """Markdown of the sections; a section's ``chart`` is drawn into
    ``figures`` (a directory beside the page) and linked, when given."""
    parts = []
    for s in sections:
        parts.append(f"{'#' * level} {s['title']}")
        if s.get("intro"):
            parts.append(s["intro"].strip())
        if s.get("headers"):
            parts.append(render_table(s["headers"], s["rows"]))
        if s.get("chart") and figures is not None:
            link = draw_chart(s["chart"], figures)
            if link:
                parts.append(link)
        for note in s.get("notes", []):
            parts.append(note.strip())
    return "\n\n".join(parts)


# --------------------------------------------------------------------------
# Charts


def draw_chart(chart: dict, figures: Path) -> str | None:
    """A grouped bar chart as ``figures/<name>.png``; returns its Markdown
    link (relative to the page), or None without matplotlib.

    ``chart``: ``name`` (file stem), ``title``, ``ylabel``, ``labels`` (the
    groups on the x axis), ``series`` ({legend: one value per label, None
    for a gap}), optional ``goal`` (a dashed horizontal line: (value,
    text)) and ``log`` (a logarithmic y axis)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    labels, series = chart["labels"], chart["series"]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * len(labels) * max(1, len(series)) / 2 + 3), 4))
    width = 0.8 / max(1, len(series))
    for k, (legend, values) in enumerate(series.items()):
        xs = [i + (k - (len(series) - 1) / 2) * width for i in range(len(labels))]
        pairs = [(x, v) for x, v in zip(xs, values) if v is not None]
        ax.bar([x for x, _ in pairs], [v for _, v in pairs], width, label=legend)
    if chart.get("goal"):
        value, text = chart["goal"]
        ax.axhline(value, color="black", linestyle="--", linewidth=1)
        ax.annotate(text, (len(labels) - 0.5, value), ha="right", va="bottom", fontsize=8)
    if chart.get("log"):
        ax.set_yscale("log")
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=20 if max(map(len, labels)) > 8 else 0, ha="right"
                       if max(map(len, labels)) > 8 else "center", fontsize=8)
    ax.set_ylabel(chart.get("ylabel", ""))
    ax.set_title(chart["title"], fontsize=10)
    if len(series) > 1:
        ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    figures.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^a-z0-9]+", "_", chart["name"].lower()).strip("_")
    path = figures / f"{stem}.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return f"![{chart['title']}]({figures.name}/{path.name})"


# --------------------------------------------------------------------------
# The allocator


def steady_malloc() -> str | None:
    """Make glibc keep freed memory, so repeated calls reuse warm pages.

    Timings then measure the kernels and the threads, not page faults on
    freshly mapped output memory, which otherwise hit some configurations
    and not others (glibc trims the main arena and maps big blocks afresh).
    Idempotent. Returns a sentence for the report, or None where glibc's
    mallopt is not available.
    """
    from fastpar.allocator import keep_freed_memory

    if not keep_freed_memory():
        return None
    return ("Allocator: glibc is told to keep freed memory (fastpar.allocator.keep_freed_memory: M_TRIM_THRESHOLD = 1 GiB, "
            "M_MMAP_MAX = 0, one arena), so every configuration reuses warm pages: the times are steady-state "
            "ones, without the page faults of a first touch of fresh memory.")


# --------------------------------------------------------------------------
# The machine


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Model", "cpu model") and value.strip():
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def python_build() -> str:
    free_threaded = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    gil_on = getattr(sys, "_is_gil_enabled", lambda: True)()
    build = "free-threaded build" if free_threaded else "default (GIL) build"
    return (f"{platform.python_implementation()} {platform.python_version()}, {build}, "
            f"GIL {'enabled' if gil_on else 'disabled'}, {platform.python_compiler()}")


def machine_info() -> list[tuple[str, str]]:
    import numpy
    import fastpar

    try:
        import talib

        c_lib = getattr(talib, "__ta_version__", "?")
        if isinstance(c_lib, bytes):
            c_lib = c_lib.decode("ascii", "replace")
        ta = f"{talib.__version__} (C library {c_lib.rstrip(chr(0)).strip()})"
    except ImportError:
        ta = "not installed: TA-Lib columns are empty"
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 1
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return [
        ("CPU", cpu_model()),
        ("cores", f"{os.cpu_count()} logical CPUs ({usable} usable by this process)"),
        ("OS", platform.platform()),
        ("Python", python_build()),
        ("NumPy", numpy.__version__),
        ("TA-Lib", ta),
        ("fastpar", f"{fastpar.__version__} (native pool: {fastpar.get_num_threads()} threads)"),
        ("date", datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
        ("load average at start", " / ".join(f"{v:.2f}" for v in load) + " (1 / 5 / 15 min)" if load else "n/a"),
    ]


# --------------------------------------------------------------------------
# Other load on the machine


def _cpu_seconds() -> tuple[float, float] | None:
    """(busy CPU seconds of the whole machine, CPU seconds of this process and
    its children), or None where /proc/stat is not readable."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    busy = sum(fields[:8]) - idle  # user .. steal (guest time is inside user)
    own = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        r = resource.getrusage(who)
        own += r.ru_utime + r.ru_stime
    return busy / os.sysconf("SC_CLK_TCK"), own


def other_load(start: tuple[float, float] | None, seconds: float) -> str:
    """Average number of CPUs kept busy by other processes since `start`."""
    end = _cpu_seconds()
    if start is None or end is None or seconds <= 0:
        return "n/a"
    others = max(0.0, (end[0] - start[0]) - (end[1] - start[1])) / seconds
    return f"{others:.2f} CPUs"


# --------------------------------------------------------------------------
# The page

INTRO = """\
# Benchmarks

This page is generated: `benchmarks/run.py` runs every benchmark in
`benchmarks/` and rewrites it, so what you read here is one complete run on
the machine described below.

**W1, single thread** (`bench_indicators.py`) times each fastpar kernel
against its TA-Lib twin, one call at a time on the calling thread, for
series of {w1_sizes} prices. Both libraries are called through their
public Python functions on the same pre-allocated input, so the cost of a
call around the computation (argument checks, allocating the output) is
included; at 1,000 prices it is a large part of the time, and a table
measures it. A time is nanoseconds per input element: the fastest of
several repeats of a timed loop (timeit-style), divided by the series
length. The ratio is TA-Lib's time over fastpar's: above 1 means fastpar is
faster. Kernels without a TA-Lib twin (the envelope, the simple RSI) show
their own time only.

**W2, scaling** (`bench_scaling.py`) is the headline: a batch of 64 series
goes through a `concurrent.futures.ThreadPoolExecutor` with 1 to {cores}
threads, one RSI(14) call per series, once with fastpar, once with TA-Lib
and once with a plain-Python Wilder RSI (a loop over a list, written in the
benchmark, on a smaller batch so that it finishes in seconds). The same
batch also goes through fastpar as one 2-D call, computed on fastpar's
native thread pool with `threads=1..{cores}`. A speed-up is the time of the
plain sequential loop (`[rsi(s) for s in batch]`) over the time of the
threaded run: {cores}.0x on {cores} cores is perfect scaling, 1.0x no gain at all.
Around each batch a probe reads how many CPUs' worth of work the machine
gave (separate processes spinning at once against one alone): on this
virtual machine that moves with the host's load, and it bounds what any
speed-up can reach.

Any other `bench_*.py` in `benchmarks/` follows, with its own introduction.

**Steady state.** Before any benchmark runs, glibc is told to keep freed
memory instead of giving it back to the OS, so every repeat reuses warm
pages. Without that, whether an output lands on fresh pages (a page fault
per 4 kB) depends on its size and on the thread that allocates it, which
shifted some ratios by 2x for reasons that have nothing to do with the
kernels. A one-off call on fresh memory pays that first-touch cost on top.

**Reading the numbers.** The machine is shared and noisy: absolute times
move by tens of percent from one run to the next. What counts are the
ratios measured within one run: the two sides of a ratio are timed
alternately, repeat by repeat, so a burst of load hits both, and each time
is the minimum over the repeats. Compare runs by their ratios, not by their
nanoseconds.

**Reproducing.** `make bench` (it installs fastpar with its `bench` extras,
TA-Lib included, into `.venv`) or, in an environment that has them,
`python benchmarks/run.py`. A smoke run with small sizes, as the test suite
does: `python benchmarks/run.py --quick --out /tmp/benchmarks.md`.
"""


# W1 and W2 first, then any other benchmark in name order.
FIRST = ("bench_indicators", "bench_scaling")


def discover() -> list[str]:
    names = sorted(p.stem for p in HERE.glob("bench_*.py"))
    return [n for n in FIRST if n in names] + [n for n in names if n not in FIRST]


def command_line(argv: Sequence[str]) -> str:
    script = Path(sys.argv[0]).resolve()
    try:
        shown = str(script.relative_to(ROOT))
    except ValueError:
        shown = str(script)
    return " ".join(["python", shlex.quote(shown), *map(shlex.quote, argv)])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run with small sizes; writes a file only with --out")
    parser.add_argument("--out", type=Path, default=None,
                        help=f"where to write the Markdown (default: {DEFAULT_OUT.relative_to(ROOT)}, "
                             "or stdout for --quick)")
    args = parser.parse_args(argv)
    argv = list(sys.argv[1:] if argv is None else argv)

    out = args.out if args.out is not None else (None if args.quick else DEFAULT_OUT)
    sys.path.insert(0, str(HERE))

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    malloc = steady_malloc()
    info = machine_info()
    info.append(("allocator", "glibc, freed memory kept (mallopt M_TRIM_THRESHOLD = 1 GiB, M_MMAP_MAX = 0, M_ARENA_MAX = 1: fastpar.allocator.keep_freed_memory): "
                              "steady-state times" if malloc else "as it is (glibc's mallopt not available)"))
    log(f"fastpar benchmarks{' (quick)' if args.quick else ''}: " + "; ".join(f"{k}: {v}" for k, v in info[:7]))

    started = time.perf_counter()
    body, failed = [], []
    w1_sizes = "?"
    run_cpu = _cpu_seconds()
    for name in discover():
        t0, cpu0 = time.perf_counter(), _cpu_seconds()
        title = name
        try:
            module = importlib.import_module(name)
            title = module.TITLE
            log(f"== {name}: {title}")
            figures = out.parent / "figures" if out is not None else None
            text = render_sections(module.run(quick=args.quick, log=log), figures=figures)
            if hasattr(module, "SIZES_TEXT"):
                w1_sizes = module.SIZES_TEXT(args.quick)
        except Exception:  # report it, run the others, fail at the end
            failed.append(name)
            log(traceback.format_exc())
            text = f"**This benchmark failed**: `{traceback.format_exc().strip().splitlines()[-1]}`"
        elapsed = time.perf_counter() - t0
        others = other_load(cpu0, elapsed)
        log(f"== {name} {'FAILED' if name in failed else 'done'} in {elapsed:.1f} s "
            f"(other processes: {others} busy on average)")
        body.append(f"## {title}\n\n{text}\n\n_`{name}.py` ran in {elapsed:.0f} s; other processes "
                    f"kept {others} busy on average meanwhile._")
    total = time.perf_counter() - started

    load_end = os.getloadavg() if hasattr(os, "getloadavg") else None
    info.append(("load average at end", " / ".join(f"{v:.2f}" for v in load_end) if load_end else "n/a"))
    info.append(("total run time", f"{total:.0f} s"))
    info.append(("other load during the run", (f"{other_load(run_cpu, total)} busy on average, "
                                                "from /proc/stat less this process and its children")))

    page = [INTRO.format(w1_sizes=w1_sizes, cores=os.cpu_count() or 1).rstrip()]
    if args.quick:
        page.append("> **Smoke run (`--quick`)**: small sizes and few repeats; "
                    "these numbers only show that the benchmarks run.")
    page.append("## How this run was made\n\n"
                f"Command (from the repository root): `{command_line(argv)}`\n\n"
                + render_table(["", "this run"], [(f"**{k}**", v) for k, v in info]))
    page.extend(body)
    text = "\n\n".join(page) + "\n"

    if out is None:
        sys.stdout.write(text)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        log(f"wrote {out} ({total:.0f} s in all)")
    if failed:
        log("failed: " + ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
