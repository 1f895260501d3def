"""The ``fastpar`` command line.

- ``fastpar demo``: the GIL problem and its fix on an indicator batch.
- ``fastpar run-scenarios SET.json [--ticks FILE_OR_DATA_DIR] [--broker FILE]
  [--threads N] [--native] [--sequential] [--no-progress]``: run a scenario
  set through :class:`~fastpar.batch_orchestrator.BatchOrchestrator` and
  print one row per scenario. SET.json is a path or the name of a shipped
  set (e.g. ``sample_scenarios.json``). ``--ticks`` is where the ticks come
  from: a data directory in the batch_orchestrator API's layout
  (``<DIR>/<collector>/ticks/<SYMBOL>/*.parquet`` and the bar files beside
  them, read by :class:`fastpar.ticks.TickDataLoader`), or one parquet/CSV
  tick file (read as the set's symbol when the set has only one, else as
  the symbol its name starts with; warm-up bars rendered from it). Without
  it, fastpar's embedded sample data (:func:`fastpar.ticks.sample_data`)
  is used, and the output says so. ``--broker`` replaces every scenario's
  ``trade_simulator_config.broker_config_path``. Exit status: 0 if every
  scenario ran, 1 if any failed, 2 for unusable input.
"""

from __future__ import annotations

import argparse
import re
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
    p.add_argument("--ticks", metavar="FILE_OR_DATA_DIR",
                   help="a data directory (<DIR>/<collector>/ticks/<SYMBOL>/*.parquet and bar "
                        "files) or one tick file (.parquet/.csv); default: fastpar's embedded "
                        "sample data (synthetic EURUSD, 14 days from 2025-09-01)")
    p.add_argument("--broker", metavar="FILE",
                   help="broker file for every scenario, instead of each scenario's "
                        "trade_simulator_config.broker_config_path")
    p.add_argument("--threads", type=int, metavar="N",
                   help="scenarios run at once (default: the shipped app_config.json's value)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--native", action="store_true",
                      help="run the batch as one job of fastpar's native pool")
    mode.add_argument("--sequential", action="store_true", help="one scenario at a time")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


SAMPLE_DATA_NOTE = ("data: fastpar's embedded sample data (synthetic EURUSD ticks, 14 days from "
                    "2025-09-01); --ticks FILE_OR_DATA_DIR runs on yours")


def _data_worker(ticks_path, scenarios):
    """The data worker the scenarios load their windows from."""
    from .ticks import TickArraysData, TickDataLoader, load_file, sample_data

    if ticks_path is None:
        return sample_data()
    path = Path(ticks_path)
    if path.is_dir():
        loader = TickDataLoader(path)
        if not loader.list_available_symbols():
            raise ValueError(f"--ticks {path}: no tick files in the data layout "
                             f"(<DIR>/<collector>/ticks/<SYMBOL>/<SYMBOL>_*.parquet)")
        return loader
    if not path.exists():
        raise FileNotFoundError(f"--ticks: no such file or directory: {path}")
    symbols = {s.symbol for s in scenarios}
    symbol = next(iter(symbols)) if len(symbols) == 1 else None
    return TickArraysData(load_file(path, symbol))


def _use_broker(scenarios, broker_path) -> None:
    """Every scenario's broker file becomes ``broker_path`` (checked here,
    so that a bad file is the command's error, not each scenario's)."""
    from .scenario_config import BrokerConfig

    path = Path(broker_path).resolve()
    BrokerConfig.from_json(path)
    for s in scenarios:
        s.trade_simulator_config = {**(s.trade_simulator_config or {}),
                                    "broker_config_path": str(path)}


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
        if args.broker is not None:
            _use_broker(scenarios, args.broker)
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
    if args.ticks is None:
        print(SAMPLE_DATA_NOTE, flush=True)
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


# ---------------------------------------------------------------------------
# fastpar sweep
# ---------------------------------------------------------------------------


# A guard against a typo such as period=2:5000000000 eating all memory.
MAX_GRID_VALUES = 1_000_000


# "2-50" or "0.5-2.5": a range written with a dash (a negative number
# alone, "-3", does not match).
_DASHED_RANGE = re.compile(r"-?\d+(\.\d*)?-\d+(\.\d*)?")


def _grid_value(text: str):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_grid(items: Sequence[str]) -> dict:
    """``["period=2:50", "low=20,25,30", "kind=sma,ema", "k=0.5:2:0.5"]`` ->
    ``{"period": range(2, 51), "low": [20, 25, 30], ...}``.

    ``a:b`` is every integer from a to b inclusive; ``a:b:step`` steps by
    ``step`` (integers or decimals, b included when reached); ``x,y,z`` is a
    list; a single value is a list of one. Numbers stay numbers, anything
    else is a string. Raises ValueError naming the item for anything else.
    """
    grid: dict = {}
    for item in items:
        name, sep, spec = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier() or not spec.strip():
            raise ValueError(f"--grid {item!r}: expected NAME=VALUES, e.g. period=2:50 or low=20,30")
        if name in grid:
            raise ValueError(f"--grid {item!r}: {name} is given twice")
        if ":" in spec:
            parts = spec.split(":")
            if len(parts) not in (2, 3) or not all(p.strip() for p in parts):
                raise ValueError(f"--grid {item!r}: a range is START:STOP or START:STOP:STEP")
            nums = [_grid_value(p.strip()) for p in parts]
            if any(isinstance(v, str) or v != v or v in (float("inf"), float("-inf"))
                   for v in nums):
                raise ValueError(f"--grid {item!r}: range bounds and step must be finite numbers")
            start, stop = nums[0], nums[1]
            step = nums[2] if len(nums) == 3 else 1
            if step <= 0:
                raise ValueError(f"--grid {item!r}: the step must be > 0")
            if stop < start:
                raise ValueError(f"--grid {item!r}: STOP is below START")
            count = int((stop - start) / step + 1e-9) + 1
            if count > MAX_GRID_VALUES:
                raise ValueError(f"--grid {item!r}: more than {MAX_GRID_VALUES:,} values")
            if all(isinstance(v, int) for v in (start, stop, step)):
                values = list(range(start, stop + 1, step))
            else:
                values = [round(start + i * step, 12) for i in range(count)]
        else:
            parts = [p.strip() for p in spec.split(",")]
            if not all(parts):
                raise ValueError(f"--grid {item!r}: empty value in the list")
            for part in parts:
                if _DASHED_RANGE.fullmatch(part):
                    start, stop = part.rsplit("-", 1)
                    raise ValueError(f"--grid {item!r}: ranges are written START:STOP, "
                                     f"e.g. {name}={start}:{stop}")
            values = [_grid_value(p) for p in parts]
        grid[name] = values
    if not grid:
        raise ValueError("--grid: give at least one NAME=VALUES")
    return grid


#: Column names (any case) read as the bars' times: checked to be dates or
#: integer nanoseconds in time order, per asset.
_TIME_COLUMNS = ("timestamp", "datetime", "date", "time")


def _read_bars(path: Path):
    """A bar file as one DataFrame, or {asset: DataFrame} when it has a
    ``symbol`` or ``asset`` column. Every problem with the file is a
    ValueError (or FileNotFoundError) naming it."""
    import numpy as np
    import pandas as pd

    if not path.is_file():
        raise FileNotFoundError(f"--data: no such file: {path}")
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise ValueError(f"--data {path}: unsupported file type {suffix!r} (use .csv or .parquet)")
    try:
        frame = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
    except (ValueError, OSError, ImportError) as e:  # decoding, parsing, Arrow errors
        kind = "a CSV file" if suffix == ".csv" else "a Parquet file"
        raise ValueError(f"--data {path}: cannot read it as {kind} ({type(e).__name__}: "
                         f"{e})") from None
    if frame.empty:
        raise ValueError(f"--data {path}: no bars in the file")
    time_column = next((c for c in frame.columns if str(c).lower() in _TIME_COLUMNS), None)
    if time_column is not None:
        frame[time_column] = _times(frame[time_column], f"--data {path}: column "
                                                        f"{time_column!r}")
    for key in ("symbol", "asset"):
        column = next((c for c in frame.columns if str(c).lower() == key), None)
        if column is not None:
            assets = {str(name): part.drop(columns=column).reset_index(drop=True)
                      for name, part in frame.groupby(column, sort=False)}
            break
    else:
        column, assets = None, {None: frame}
    for name, part in assets.items():
        if time_column is not None:
            times = part[time_column].to_numpy().view("int64")
            back = np.flatnonzero(times[1:] < times[:-1])
            if back.size:
                which = "" if name is None else f" of {column} {name!r}"
                raise ValueError(f"--data {path}: the times{which} go back at its bar "
                                 f"{back[0] + 1} ({part[time_column].iloc[back[0] + 1]} after "
                                 f"{part[time_column].iloc[back[0]]}); sort the file by time")
    return assets if column is not None else frame


def _times(column, label):
    """A time column as datetime64[ns]: dates, date strings or integer
    nanoseconds; a ValueError for anything else (float timestamps are
    ambiguous: seconds or nanoseconds, and rounded)."""
    import pandas as pd

    kind = column.dtype.kind
    if kind == "M":
        return column
    if kind in "iu":
        return pd.to_datetime(column, unit="ns")
    if kind == "O":
        try:
            return pd.to_datetime(column)
        except (ValueError, TypeError) as e:
            raise ValueError(f"{label} does not read as dates ({e})") from None
    raise ValueError(f"{label} holds {column.dtype} timestamps; give dates (2024-01-02, "
                     "2024-01-02 09:30) or integer nanoseconds")


#: Bars of the embedded synthetic series, when --synthetic is given alone.
SYNTHETIC_BARS = 10_000


def _sweep_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="fastpar sweep",
        description="Backtest a strategy over a parameter grid on fastpar's native pool.",
    )
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", metavar="FILE",
                        help="bars (.csv or .parquet) with open/high/low/close columns, a symbol "
                             "column for several assets, a timestamp/date column (optional) "
                             "checked to be in time order")
    source.add_argument("--synthetic", nargs="?", type=int, const=SYNTHETIC_BARS, metavar="BARS",
                        help=f"run on embedded synthetic bars instead (default "
                             f"{SYNTHETIC_BARS:,}, seed 42): for trying the command out")
    rule = p.add_mutually_exclusive_group(required=True)
    rule.add_argument("--strategy", metavar="NAME_OR_FILE.py",
                      help="a built-in strategy, or a Python file defining one with "
                           "fastpar.strategy (docs/strategies.md)")
    rule.add_argument("--entry", metavar="EXPR",
                      help="your own strategy's entry, e.g. \"rsi(b.close, p.period) < p.low\"")
    p.add_argument("--exit", metavar="EXPR",
                   help="with --entry: the exit, e.g. \"rsi(b.close, p.period) > p.high\"")
    p.add_argument("--grid", nargs="+", required=True, metavar="NAME=VALUES",
                   help="e.g. period=2:50 low=20,25,30 high=70,75,80")
    p.add_argument("--threads", type=int, metavar="N", help="default: the pool's size")
    p.add_argument("--checkpoint", metavar="FILE.sqlite",
                   help="store results as they come; a rerun skips what is done")
    p.add_argument("--out", metavar="FILE", help="write every result (.csv or .parquet)")
    p.add_argument("--fees", type=float, default=0.0, help="proportional, per fill (0.001 = 0.1%%)")
    p.add_argument("--slippage", type=float, default=0.0, help="proportional, per fill")
    p.add_argument("--spread", type=float, default=0.0, metavar="PRICE",
                   help="absolute, half paid on each fill")
    p.add_argument("--stop-loss", type=float, metavar="FRACTION",
                   help="of the entry close, e.g. 0.05 (default: none)")
    p.add_argument("--take-profit", type=float, metavar="FRACTION",
                   help="of the entry close, e.g. 0.1 (default: none)")
    p.add_argument("--direction", choices=("long", "longshort"), default="long")
    p.add_argument("--periods-per-year", type=float, default=252.0, metavar="N",
                   help="bars per year, for the Sharpe ratio (default 252: daily bars)")
    p.add_argument("--top", type=int, default=10, metavar="N", help="best sets printed")
    p.add_argument("--sort-by", default="total_return", metavar="COLUMN",
                   help="a metric or parameter; the best are the largest")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def _strategy_of(args):
    """The strategy the arguments name: a built-in's name, or a Strategy
    from --entry/--exit or a Python file."""
    from .language import from_file, from_text
    from .sweep import STRATEGIES

    if args.entry is not None:
        return from_text(args.entry, args.exit, name="command line")
    if args.exit is not None:
        raise ValueError("--exit goes with --entry")
    if args.strategy not in STRATEGIES and args.strategy.endswith(".py"):
        path = Path(args.strategy)
        if not path.is_file():
            raise FileNotFoundError(f"--strategy {args.strategy}: no such file")
        return from_file(path)
    return args.strategy


def _check_sweep_args(args) -> None:
    """What can be checked before the data is read and the sweep runs."""
    from .sweep import METRICS, _check_strategy, _names

    _check_strategy(args.strategy)
    columns = ["asset", *_names(args.strategy), *METRICS]
    if args.sort_by not in columns:
        raise ValueError(f"--sort-by {args.sort_by!r}: not a result column; choose from "
                         f"{columns}")
    if args.top < 1:
        raise ValueError(f"--top must be >= 1, got {args.top}")
    if args.synthetic is not None and args.synthetic < 1:
        raise ValueError(f"--synthetic must be >= 1 bars, got {args.synthetic}")
    if args.out and not Path(args.out).parent.is_dir():
        raise FileNotFoundError(f"--out {args.out}: no such directory: {Path(args.out).parent}")


def sweep_main(argv: Sequence[str]) -> int:
    """``fastpar sweep (--data FILE | --synthetic [BARS]) (--strategy NAME |
    --strategy FILE.py | --entry EXPR [--exit EXPR]) --grid NAME=VALUES ...``:
    a parameter sweep of a bar file (or, asked for
    explicitly, of embedded synthetic bars); prints the best sets, writes all
    of them with ``--out``. Exit status: 0, or 2 for unusable input,
    reported before the sweep starts (docs/sweeps.md, Command line)."""
    import time

    import pandas  # noqa: F401 - imported here so that the timing below is the sweep's alone

    import fastpar
    from .sweep import _assets, expand_grid

    args = _sweep_parser().parse_args(argv)
    try:
        args.strategy = _strategy_of(args)
        _check_sweep_args(args)
        grid = parse_grid(args.grid)
        expand_grid(args.strategy, grid)  # a bad grid is reported before the data is read
        if args.data is None:
            from .synthetic import random_walk_ohlc

            bars = random_walk_ohlc(1, args.synthetic, seed=42)
            data = {k: v[0] for k, v in bars.items()}
            source = f"{args.synthetic:,} synthetic bars (seed 42)"
        else:
            data = _read_bars(Path(args.data))
            try:
                assets = _assets(data, args.strategy)
            except (ValueError, TypeError) as e:
                raise ValueError(f"--data {args.data}: {e}") from None
            source = args.data
        if args.sort_by == "asset" and (args.data is None or assets[0][0] is None):
            raise ValueError("--sort-by asset: the data holds one asset (no symbol column)")
        started = time.perf_counter()
        result = fastpar.sweep(
            data, args.strategy, grid, threads=args.threads, progress=not args.no_progress,
            checkpoint=args.checkpoint, fees=args.fees, slippage=args.slippage,
            spread=args.spread, stop_loss=args.stop_loss, take_profit=args.take_profit,
            direction=args.direction, periods_per_year=args.periods_per_year,
        )
        elapsed = time.perf_counter() - started
    except (OSError, ValueError, TypeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    best = result.sort_values(args.sort_by, ascending=False, kind="stable").head(args.top)
    print(best.to_string(index=False))
    skipped = result.attrs.get("skipped", 0)
    rate = len(result) / elapsed if elapsed > 0 else float("inf")
    print(f"\n{len(result):,} backtests on {source} in {elapsed:.2f} s ({rate:,.0f}/s)"
          + (f"; {skipped:,} impossible parameter sets skipped" if skipped else ""))
    if args.out:
        out = Path(args.out)
        if out.suffix.lower() == ".parquet":
            result.to_parquet(out, index=False)
        else:
            result.to_csv(out, index=False)
        print(f"all results: {out}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fastpar", description="GIL-free kernels for Python batches")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="the GIL problem and its fix on an indicator batch",
                        add_help=False)
    commands.add_parser("run-scenarios", help="run a scenario set on the C kernel",
                        add_help=False)
    commands.add_parser("sweep", help="backtest a strategy over a parameter grid",
                        add_help=False)
    args, rest = parser.parse_known_args(argv)
    if args.command == "demo":
        from . import demo

        return demo.main(rest)
    if args.command == "run-scenarios":
        return run_scenarios_main(rest)
    if args.command == "sweep":
        return sweep_main(rest)
    parser.error(f"unknown command {args.command!r}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
