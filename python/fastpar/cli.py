"""The ``fastpar`` command line.

- ``fastpar demo``: the GIL problem and its fix on an indicator batch.
- ``fastpar run-scenarios SET.json [--ticks PATH] [--threads N] [--native]
  [--sequential] [--no-progress]``: run a scenario set through
  :class:`~fastpar.batch_orchestrator.BatchOrchestrator` and print one row
  per scenario. SET.json is a path or the name of a shipped set (e.g.
  ``sample_scenarios.json``). Without ``--ticks`` the embedded synthetic
  ticks are used; ``--ticks`` takes a directory of ``<SYMBOL>*.parquet`` /
  ``.csv`` files, or one such file (read as the set's symbol when the set
  has only one, else as the symbol its name starts with). Exit status: 0
  if every scenario ran, 1 if any failed, 2 for unusable input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence


def _run_scenarios_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="fastpar run-scenarios",
        description="Run a scenario set on fastpar's C kernel and print a summary per scenario.",
    )
    p.add_argument("scenario_set", metavar="SET.json",
                   help="scenario-set file, or the name of a shipped set (sample_scenarios.json)")
    p.add_argument("--ticks", metavar="PATH",
                   help="tick file (.parquet/.csv) or directory; default: embedded synthetic ticks")
    p.add_argument("--threads", type=int, metavar="N",
                   help="scenarios run at once (default: the shipped app_config.json's value)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--native", action="store_true",
                      help="run the batch as one job of fastpar's native pool")
    mode.add_argument("--sequential", action="store_true", help="one scenario at a time")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def _data_worker(ticks_path, scenarios):
    from .ticks import TickDataLoader

    if ticks_path is None:
        return TickDataLoader()
    path = Path(ticks_path)
    if path.is_dir():
        return TickDataLoader(path, synthetic_fallback=False)
    if not path.exists():
        raise FileNotFoundError(f"--ticks: no such file or directory: {path}")
    symbols = {s.symbol for s in scenarios}
    symbol = next(iter(symbols)) if len(symbols) == 1 else None
    loader = TickDataLoader(synthetic_fallback=False)
    loader.add_ticks(TickDataLoader.load_file(path, symbol))
    return loader


def _fmt_rate(ticks, seconds):
    return f"{ticks / seconds:,.0f}" if seconds > 0 else "-"


def _print_table(results, stats_by_name, native, execution_time, out):
    headers = ("scenario", "trades", "P&L", "win rate", "max DD", "ticks/s")
    rows = []
    for entry in results:
        if "error" in entry:
            rows.append((entry["scenario"], "-", "-", "-", "-", "FAILED"))
            continue
        s = stats_by_name[entry["scenario_name"]]
        p = s.portfolio_stats
        pnl = s.portfolio_value - s.initial_balance
        rows.append((
            s.scenario_name,
            str(p.total_trades),
            f"{pnl:+,.2f}",
            f"{p.win_rate * 100:.1f}%",
            f"{p.max_drawdown:,.2f}",
            _fmt_rate(s.ticks_processed, s.elapsed_time),
        ))
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]

    def line(cells):
        first = cells[0].ljust(widths[0])
        rest = (c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))
        return "  ".join((first, *rest))

    print(line(headers), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for r in rows:
        print(line(r), file=out)
    failed = [e for e in results if "error" in e]
    for e in failed:
        print(f"error: scenario {e['scenario']!r}: {e['error']}", file=out)
    ok = len(results) - len(failed)
    note = " (native: ticks/s over the whole job's time)" if native else ""
    print(f"\n{ok}/{len(results)} scenarios ran in {execution_time:.3f} s{note}", file=out)


def run_scenarios_main(argv: Sequence[str]) -> int:
    args = _run_scenarios_parser().parse_args(argv)
    from .batch_orchestrator import BatchOrchestrator
    from .performance import ScenarioSetPerformanceManager
    from .scenario_config import AppConfigLoader, ScenarioConfigLoader

    if args.threads is not None and args.threads < 1:
        print("error: --threads must be >= 1", file=sys.stderr)
        return 2
    try:
        scenarios = ScenarioConfigLoader().load_config(args.scenario_set)
        data_worker = _data_worker(args.ticks, scenarios)
        shipped = AppConfigLoader()
    except (OSError, ValueError) as e:  # ConfigError is a ValueError
        print(f"error: {e}", file=sys.stderr)
        return 2
    if not scenarios:
        print(f"error: {args.scenario_set}: no enabled scenario", file=sys.stderr)
        return 2
    execution = dict(shipped.get_execution_config())
    execution["default_parallel_scenarios"] = not args.sequential
    if args.threads is not None:
        execution["default_max_parallel_scenarios"] = args.threads
    app_config = AppConfigLoader.from_dict({"execution": execution}, source="command line")
    log = ScenarioSetPerformanceManager()
    orchestrator = BatchOrchestrator(
        scenarios, data_worker, app_config, log,
        native=args.native, progress=not args.no_progress,
    )
    summary = orchestrator.run()
    stats_by_name = {s.scenario_name: s for s in log.get_all_scenarios()}
    _print_table(summary["scenario_results"], stats_by_name, args.native,
                 summary["execution_time"], sys.stdout)
    return 1 if any("error" in e for e in summary["scenario_results"]) else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fastpar", description="GIL-free kernels for Python batches")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="the GIL problem and its fix on an indicator batch",
                        add_help=False)
    commands.add_parser("run-scenarios", help="run a scenario set on the C kernel",
                        add_help=False)
    args, rest = parser.parse_known_args(argv)
    if args.command == "demo":
        from . import demo

        return demo.main(rest)
    if args.command == "run-scenarios":
        return run_scenarios_main(rest)
    parser.error(f"unknown command {args.command!r}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
