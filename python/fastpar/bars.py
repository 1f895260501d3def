"""Warm-up bars: the completed bars a scenario starts from.

The batch_orchestrator API does not build its warm-up bars from ticks: it
reads them from the data layer's pre-rendered bar files,
``<data_dir>/<collector>/bars/<SYMBOL>/<SYMBOL>_<TF>_BARS.parquet``, which
its importer writes once from all of a symbol's ticks: OHLC of the mid
``(bid + ask) / 2`` computed in the ticks' own precision (float32 in the
tick files) and stored as float32, and a synthetic bar (open = high = low
= close = the last close, no ticks) for every bar start without ticks
between the first and the last (weekends, gaps). A scenario's warm-up is
the last ``n`` bars that start before its start time, ``n`` the largest
warm-up its workers ask for on that timeframe; fewer is an error.

:class:`BarFiles` finds and reads those files; :func:`render_bars` renders
the same bars from ticks in memory, for scenarios run on arrays.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from .scenario_config import TIMEFRAME_MINUTES

__all__ = ["BAR_DTYPE", "BarFiles", "InsufficientWarmupDataError", "render_bars", "warmup_bars"]

# One bar as the scenario engine reads it (scenario.h's fp_bar).
BAR_DTYPE = np.dtype(
    [
        ("start_ns", "<i8"),
        ("open", "<f8"),
        ("high", "<f8"),
        ("low", "<f8"),
        ("close", "<f8"),
        ("volume", "<f8"),
        ("tick_count", "<i8"),
    ]
)

# The importer's pandas resample rule of each timeframe.
_RULES = {"M1": "1min", "M5": "5min", "M15": "15min", "M30": "30min", "H1": "1h", "H4": "4h",
          "D1": "1D"}


class InsufficientWarmupDataError(ValueError):
    """No bar file for a timeframe, or fewer bars before the start than the
    warm-up asks for."""


_BAR_COLUMNS = ("timestamp", "open", "high", "low", "close", "volume", "tick_count")


def _read_bar_file(path) -> np.ndarray:
    """A bar file's bars as a BAR_DTYPE array: only the numeric columns are
    read (the string columns cost more than the rest), straight from Arrow;
    prices widened exactly from float32, times as int64 ns UTC (a naive
    timestamp column is UTC already)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=list(_BAR_COLUMNS))
    if any(table.column(name).null_count for name in _BAR_COLUMNS):
        raise ValueError("missing values")
    ts = table.column("timestamp")
    if not pa.types.is_timestamp(ts.type):
        raise ValueError(f"timestamp column is {ts.type}, not a timestamp")
    out = np.empty(table.num_rows, dtype=BAR_DTYPE)
    out["start_ns"] = ts.cast(pa.timestamp("ns", tz=ts.type.tz)).cast(pa.int64()).to_numpy()
    for name in ("open", "high", "low", "close", "volume"):
        out[name] = table.column(name).to_numpy().astype(np.float64)
    out["tick_count"] = table.column("tick_count").to_numpy().astype(np.int64)
    return out


def warmup_bars(bars: np.ndarray, start, needed: int, *, symbol: str, timeframe: str):
    """The last ``needed`` bars starting before ``start`` (a tz-aware
    datetime) of a BAR_DTYPE array sorted by start."""
    if start.tzinfo is None:
        raise InsufficientWarmupDataError(
            f"{symbol} {timeframe}: the scenario's start {start.isoformat()} has no time zone; "
            "bar times are UTC (write the start as ...+00:00)"
        )
    import pandas as pd

    start_ns = int(pd.Timestamp(start).tz_convert("UTC").value)
    before = int(np.searchsorted(bars["start_ns"], start_ns, side="left"))
    if before < needed:
        last = (pd.Timestamp(int(bars["start_ns"][before - 1]), tz="UTC").isoformat()
                if before else None)
        raise InsufficientWarmupDataError(
            f"{symbol} {timeframe}: warm-up needs {needed} bars before {start.isoformat()}, "
            f"the bar data has {before}" + (f" (last bar {last})" if last else "")
        )
    return bars[before - needed:before] if needed > 0 else bars[:0]


class Picklable:
    """A reader whose lock guards a cache pickles without the lock (a fresh
    one after unpickling) and with what it has read: it ships to another
    process as it is."""

    def __getstate__(self):
        state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.Lock()


class BarFiles(Picklable):
    """The bar files under a data directory, as the API's bar index finds
    them: every ``*/bars/**/*_BARS.parquet``, keyed by the symbol and
    timeframe in its parquet metadata. Files are read once and shared;
    thread-safe."""

    def __init__(self, data_dir):
        self.data_dir = Path(data_dir)
        self._lock = threading.Lock()
        self._index: dict[tuple[str, str], Path] | None = None
        self._read: dict[Path, tuple[float, np.ndarray]] = {}

    def _build_index(self) -> dict[tuple[str, str], Path]:
        import pyarrow.parquet as pq

        index = {}
        for path in self.data_dir.glob("*/bars/**/*_BARS.parquet"):
            try:
                meta = pq.ParquetFile(path).metadata.metadata or {}
            except Exception as e:  # noqa: BLE001 - the API skips unreadable files too
                raise InsufficientWarmupDataError(f"{path}: not a readable bar file: {e}") from None
            symbol = meta.get(b"symbol", b"UNKNOWN").decode()
            timeframe = meta.get(b"timeframe", b"UNKNOWN").decode()
            index[(symbol, timeframe)] = path
        return index

    def path(self, symbol: str, timeframe: str) -> Path | None:
        with self._lock:
            if self._index is None:
                self._index = self._build_index()
            return self._index.get((symbol, timeframe))

    def bars(self, symbol: str, timeframe: str) -> np.ndarray:
        """All bars of a symbol's timeframe, a BAR_DTYPE array."""
        path = self.path(symbol, timeframe)
        if path is None:
            raise InsufficientWarmupDataError(
                f"no bar file for {symbol} {timeframe} under {self.data_dir} "
                f"(looked for */bars/**/*_BARS.parquet)"
            )
        mtime = path.stat().st_mtime
        with self._lock:
            cached = self._read.get(path)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        import pyarrow as pa

        try:
            bars = _read_bar_file(path)
        except (KeyError, ValueError, OSError, pa.ArrowException) as e:
            raise InsufficientWarmupDataError(f"{path}: not a bar file: {e}") from None
        bars.flags.writeable = False
        with self._lock:
            self._read[path] = (mtime, bars)
        return bars


def render_bars(timestamp, bid, ask, volume, timeframe: str) -> np.ndarray:
    """The bars the API's importer would write for these ticks (all of a
    symbol's ticks, sorted): a BAR_DTYPE array. ``bid`` and ``ask`` keep
    their dtype for the mid, as the importer computes it in the tick
    files' precision."""
    import pandas as pd

    if timeframe not in _RULES:
        raise InsufficientWarmupDataError(
            f"unknown timeframe {timeframe!r}; known: {sorted(TIMEFRAME_MINUTES)}"
        )
    if len(timestamp) == 0:
        return np.empty(0, dtype=BAR_DTYPE)
    index = pd.DatetimeIndex(pd.to_datetime(np.asarray(timestamp), unit="ns", utc=True))
    frame = pd.DataFrame({"bid": np.asarray(bid), "ask": np.asarray(ask)}, index=index)
    frame["mid"] = (frame["bid"] + frame["ask"]) / 2.0
    agg = {"mid": ["first", "max", "min", "last"], "bid": "count"}
    if volume is not None:
        frame["volume"] = np.asarray(volume)
        agg["volume"] = "sum"
    bars = frame.resample(_RULES[timeframe]).agg(agg)
    bars.columns = ["open", "high", "low", "close", "tick_count"] + (
        ["volume"] if volume is not None else [])
    if volume is None:
        bars["volume"] = 0.0
    # Bins without ticks become synthetic bars at the last close.
    real = bars["open"].notna().to_numpy()
    out = np.empty(len(bars), dtype=BAR_DTYPE)
    out["start_ns"] = bars.index.tz_convert("UTC").tz_localize(None).to_numpy(
        dtype="datetime64[ns]").astype(np.int64)
    close = bars["close"].to_numpy(dtype=np.float64).astype(np.float32)
    filled = pd.Series(close).ffill().to_numpy()
    for name in ("open", "high", "low", "close"):
        col = bars[name].to_numpy(dtype=np.float64).astype(np.float32)
        out[name] = np.where(real, col, filled)
    out["volume"] = np.where(real, bars["volume"].to_numpy(dtype=np.float64).astype(np.float32),
                             0.0)
    out["tick_count"] = np.where(real, bars["tick_count"].to_numpy(), 0)
    return out
