"""Tick data for scenarios: validated NumPy arrays, file loading, and the
deterministic synthetic FX ticks that are fastpar's embedded default data.

A scenario reads four arrays of equal length, shared read-only by every
scenario that uses the symbol:

- ``timestamp``: int64 nanoseconds since the Unix epoch, UTC, non-decreasing;
- ``bid``, ``ask``: float64, positive, ``bid <= ask``;
- ``volume``: float64, finite, ``>= 0``.

``mid = (bid + ask) / 2`` is computed where it is needed, never stored.
"""

from __future__ import annotations

import csv
import math
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from .bars import Picklable

__all__ = [
    "DataValidationError",
    "TickArrays",
    "TickArraysData",
    "TickDataLoader",
    "Window",
    "iso_utc",
    "load_file",
    "prepare_window",
    "sample_data",
    "synthetic_ticks",
    "to_ns",
    "validate_ticks",
]

NS_PER_SECOND = 1_000_000_000
NS_PER_MINUTE = 60 * NS_PER_SECOND
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# ---------------------------------------------------------------------------
# Time helpers: the whole package works in int64 ns UTC
# ---------------------------------------------------------------------------


def to_ns(value) -> int:
    """Nanoseconds since the epoch (UTC) of an ISO string, a datetime, a
    NumPy datetime64 or an integer (taken as ns already).

    Naive strings and datetimes are read as UTC, as the tick files are.
    """
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, np.datetime64):
        return int(value.astype("datetime64[ns]").astype(np.int64))
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("Z"):  # fromisoformat accepts "Z" only from 3.11 on
            text = text[:-1] + "+00:00"
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"not an ISO 8601 date/time: {value!r}") from None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        delta = value - _EPOCH
        # Integer arithmetic: no float rounding of the microseconds.
        return (delta.days * 86_400 + delta.seconds) * NS_PER_SECOND + delta.microseconds * 1000
    raise TypeError(f"cannot read a timestamp from {type(value).__name__}")


def iso_utc(ns: int) -> str:
    """ISO 8601 string (UTC, microsecond precision) of an ns timestamp."""
    seconds, rest = divmod(int(ns), NS_PER_SECOND)
    dt = datetime.fromtimestamp(seconds, tz=UTC)
    return dt.replace(microsecond=rest // 1000).isoformat()


# ---------------------------------------------------------------------------
# The arrays and their validation
# ---------------------------------------------------------------------------


def validate_ticks(timestamp, bid, ask, volume=None, *, source="ticks"):
    """Checked, read-only copies of the four tick arrays.

    Raises ValueError naming ``source`` and the first offending row for:
    unequal lengths, NaN or inf, non-positive prices, bid > ask, negative
    volume, or timestamps that go backwards.
    """
    ts = np.asarray(timestamp)
    if ts.dtype.kind == "M":
        ts = ts.astype("datetime64[ns]").astype(np.int64)
    elif ts.dtype.kind in "iu":
        ts = ts.astype(np.int64)
    else:
        raise ValueError(f"{source}: timestamp must be int64 ns or datetime64, got {ts.dtype}")
    bid = np.asarray(bid, dtype=np.float64)
    ask = np.asarray(ask, dtype=np.float64)
    vol = np.zeros(len(ts)) if volume is None else np.asarray(volume, dtype=np.float64)

    arrays = {"timestamp": ts, "bid": bid, "ask": ask, "volume": vol}
    for name, a in arrays.items():
        if a.ndim != 1:
            raise ValueError(f"{source}: column {name!r} must be 1-D")
        if len(a) != len(ts):
            raise ValueError(
                f"{source}: column {name!r} has {len(a)} rows, timestamp has {len(ts)}"
            )

    def first_bad(mask):
        return int(np.flatnonzero(mask)[0])

    for name in ("bid", "ask", "volume"):
        a = arrays[name]
        if not np.isfinite(a).all():
            raise ValueError(
                f"{source}: column {name!r} has NaN or inf at row {first_bad(~np.isfinite(a))}"
            )
    for name in ("bid", "ask"):
        a = arrays[name]
        if (a <= 0).any():
            raise ValueError(
                f"{source}: column {name!r} must be positive, row {first_bad(a <= 0)} is {a[a <= 0][0]}"
            )
    if (bid > ask).any():
        row = first_bad(bid > ask)
        raise ValueError(f"{source}: bid > ask at row {row} (bid={bid[row]}, ask={ask[row]})")
    if (vol < 0).any():
        raise ValueError(f"{source}: column 'volume' is negative at row {first_bad(vol < 0)}")
    if len(ts) > 1 and (np.diff(ts) < 0).any():
        row = first_bad(np.diff(ts) < 0) + 1
        raise ValueError(
            f"{source}: timestamps not sorted, row {row} is earlier than row {row - 1}"
        )

    out = []
    for a in (ts, bid, ask, vol):
        a = np.array(a, copy=True)
        a.flags.writeable = False
        out.append(a)
    return tuple(out)


def frame_timestamps(df) -> np.ndarray:
    """int64 ns UTC timestamps of a tick DataFrame: its ``timestamp`` column
    (datetimes, with or without a time zone, integers in ns, or text) or
    its DatetimeIndex."""
    import pandas as pd

    if "timestamp" in df.columns:
        ts = df["timestamp"]
    elif isinstance(df.index, pd.DatetimeIndex):
        ts = pd.Series(df.index)
    else:
        raise ValueError(
            f"tick data has no 'timestamp' column or DatetimeIndex; columns: {list(df.columns)}"
        )
    if ts.dtype.kind == "M":
        if getattr(ts.dt, "tz", None) is not None:
            ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
        return ts.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    if ts.dtype.kind in "iu":
        return ts.to_numpy(dtype=np.int64)
    return np.array([to_ns(str(t)) for t in ts], dtype=np.int64)


@dataclass(frozen=True, eq=False)
class TickArrays:
    """One symbol's ticks: four equal-length read-only arrays."""

    symbol: str
    timestamp: np.ndarray
    bid: np.ndarray
    ask: np.ndarray
    volume: np.ndarray

    @classmethod
    def from_arrays(cls, symbol, timestamp, bid, ask, volume=None, *, source=None):
        ts, b, a, v = validate_ticks(timestamp, bid, ask, volume, source=source or symbol)
        return cls(symbol, ts, b, a, v)

    def __len__(self):
        return len(self.timestamp)

    def to_dataframe(self):
        """A pandas DataFrame (timestamp as tz-aware UTC datetime64)."""
        import pandas as pd

        return pd.DataFrame(
            {
                "timestamp": pd.to_datetime(self.timestamp, unit="ns", utc=True),
                "bid": self.bid,
                "ask": self.ask,
                "volume": self.volume,
            }
        )


# ---------------------------------------------------------------------------
# Single tick files
# ---------------------------------------------------------------------------

_REQUIRED_COLUMNS = ("timestamp", "bid", "ask")


def _read_parquet(path: Path):
    import pandas as pd

    try:
        df = pd.read_parquet(path)
    except ImportError as e:
        raise ImportError(
            f"{path}: reading parquet needs pandas with pyarrow or fastparquet ({e})"
        ) from e
    except Exception as e:  # noqa: BLE001 - pyarrow raises its own types
        raise ValueError(f"{path}: not a readable parquet file: {e}") from None
    missing = [c for c in _REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}; found {list(df.columns)}")
    try:
        ts = frame_timestamps(df)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{path}: column 'timestamp': {e}") from None
    volume = df["volume"].to_numpy() if "volume" in df.columns else None
    return ts, df["bid"].to_numpy(), df["ask"].to_numpy(), volume


def _read_csv(path: Path):
    """CSV with a header row; timestamp is ISO 8601 text or integer ns."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise ValueError(f"{path}: not a readable CSV file: {e}") from None
    if not rows:
        raise ValueError(f"{path}: empty file")
    header = [h.strip() for h in rows[0]]
    missing = [c for c in _REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}; found {header}")
    col = {name: header.index(name) for name in header}
    ts, bid, ask, vol = [], [], [], []
    for line_no, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        try:
            t = row[col["timestamp"]].strip()
            ts.append(int(t) if t.lstrip("-").isdigit() else to_ns(t))
            bid.append(float(row[col["bid"]]))
            ask.append(float(row[col["ask"]]))
            vol.append(float(row[col["volume"]]) if "volume" in col else 0.0)
        except (ValueError, IndexError, TypeError) as e:
            raise ValueError(f"{path}: line {line_no}: {e}") from None
    return np.array(ts, dtype=np.int64), bid, ask, vol


def _symbol_from_filename(path: Path) -> str:
    # "EURUSD_20250901_ticks.parquet" -> "EURUSD"
    return path.stem.split("_")[0].upper()


def load_file(path, symbol=None) -> TickArrays:
    """Read and validate one parquet or CSV tick file (columns timestamp,
    bid, ask, optional volume)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"tick file not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        ts, bid, ask, vol = _read_parquet(path)
    elif suffix == ".csv":
        ts, bid, ask, vol = _read_csv(path)
    else:
        raise ValueError(f"{path}: unsupported tick file type {suffix!r} (use .parquet or .csv)")
    symbol = symbol or _symbol_from_filename(path)
    return TickArrays.from_arrays(symbol, ts, bid, ask, vol, source=str(path))


# ---------------------------------------------------------------------------
# The data layer's errors
# ---------------------------------------------------------------------------


class DataValidationError(ValueError):
    """A scenario's window cannot be cut from the data."""


class NoDataAvailableError(DataValidationError):
    pass


class InsufficientTickDataError(DataValidationError):
    pass


class NoTicksInTimespanError(DataValidationError):
    pass


class CriticalGapError(DataValidationError):
    pass


class InsufficientHistoricalDataError(DataValidationError):
    """No tick at the scenario's start second: the API's data preparation
    requires the first tick it loads to be at the start, not after it."""


class DuplicateDataError(DataValidationError):
    """Two tick files imported from the same source file."""


# ---------------------------------------------------------------------------
# The data layer: tick files by symbol and date range
# ---------------------------------------------------------------------------

VALID_DATA_MODES = ("raw", "realistic", "clean")


@dataclass(frozen=True)
class TickFile:
    """One tick file of the index: its first and last tick times (naive, as
    the files store them) and the source file it was imported from."""

    path: Path
    symbol: str
    start_time: datetime
    end_time: datetime
    tick_count: int
    source_file: str


@dataclass(frozen=True)
class Gap:
    file1: TickFile
    file2: TickFile
    gap_seconds: float


@dataclass(frozen=True)
class CoverageReport:
    symbol: str
    files: tuple
    gaps: tuple  # between consecutive files, by start time


class TickIndex:
    """The tick files under a data directory, as the API indexes them:
    every ``*/ticks/**/*.parquet``, the symbol being the file name's part
    before its first ``_``, ordered by their first tick."""

    def __init__(self, data_dir: Path):
        import pyarrow.parquet as pq

        self.data_dir = data_dir
        self.index: dict[str, list[TickFile]] = {}
        for path in data_dir.glob("*/ticks/**/*.parquet"):
            try:
                pf = pq.ParquetFile(path)
                first = pf.read_row_group(0, columns=["timestamp"])["timestamp"][0].as_py()
                last = pf.read_row_group(pf.num_row_groups - 1, columns=["timestamp"])
                last = last["timestamp"][-1].as_py()
                meta = pf.metadata.metadata or {}
            except Exception as e:  # noqa: BLE001 - pyarrow raises its own types
                raise DataValidationError(f"{path}: not a readable tick file: {e}") from None
            entry = TickFile(path, path.name.split("_")[0], first, last, pf.metadata.num_rows,
                             meta.get(b"source_file", b"unknown").decode())
            self.index.setdefault(entry.symbol, []).append(entry)
        for files in self.index.values():
            files.sort(key=lambda f: f.start_time.isoformat())

    def list_symbols(self) -> list[str]:
        return sorted(self.index)

    def get_relevant_files(self, symbol: str, start, end) -> list[Path]:
        """Files of ``symbol`` overlapping [start, end] (tz-aware)."""
        import pandas as pd

        out = []
        for f in self.index.get(symbol, []):
            if pd.Timestamp(f.start_time).tz_localize("UTC") <= end and (
                    pd.Timestamp(f.end_time).tz_localize("UTC") >= start):
                out.append(f.path)
        return out

    def get_coverage_report(self, symbol: str) -> CoverageReport:
        files = tuple(sorted(self.index.get(symbol, []), key=lambda f: f.start_time))
        gaps = tuple(
            Gap(a, b, (b.start_time - a.end_time).total_seconds()) for a, b in zip(files, files[1:])
        )
        return CoverageReport(symbol, files, gaps)


class TickDataLoader(Picklable):
    """Tick data from the batch_orchestrator API's data layout:
    ``<data_dir>/<collector>/ticks/<SYMBOL>/<SYMBOL>_*.parquet`` (as its
    importer writes them), and warm-up bars from the bar files beside them
    (:class:`fastpar.bars.BarFiles`).

    :meth:`load_symbol_data` loads a date range exactly as the API's loader
    does, so that ticks come out in the same order: the files overlapping
    the range, concatenated in index order, sorted by timestamp (pandas'
    default sort, so ticks within one second keep that sort's order),
    duplicates (same ``time_msc``, bid and ask) removed but for the last
    unless ``data_mode`` is "raw", then cut to the range. Results are
    cached per range and files read once; thread-safe.
    """

    def __init__(self, data_dir="./data/processed/"):
        from .bars import BarFiles

        self.data_dir = Path(data_dir)
        if not self.data_dir.is_dir():
            raise FileNotFoundError(f"Data directory not found: {data_dir}")
        self.index_manager = TickIndex(self.data_dir)
        self.bar_source = BarFiles(self.data_dir)
        self._lock = threading.Lock()
        self._cache: dict[str, object] = {}
        self._files: dict[Path, tuple[float, object]] = {}

    def list_available_symbols(self) -> list[str]:
        return self.index_manager.list_symbols()

    def _read(self, path: Path):
        import pandas as pd

        mtime = path.stat().st_mtime
        with self._lock:
            cached = self._files.get(path)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        try:
            frame = pd.read_parquet(path)
        except Exception as e:  # noqa: BLE001 - pyarrow raises its own types
            raise DataValidationError(f"{path}: not a readable tick file: {e}") from None
        with self._lock:
            self._files[path] = (mtime, frame)
        return frame

    def _check_duplicates(self, files) -> None:
        import pyarrow.parquet as pq

        seen = {}
        for path in files:
            meta = pq.ParquetFile(path).metadata.metadata or {}
            source = meta.get(b"source_file", b"").decode()
            if source in seen:
                raise DuplicateDataError(
                    f"{seen[source]} and {path} were both imported from {source!r}"
                )
            seen[source] = path

    def load_symbol_data(self, symbol, start_date=None, end_date=None, data_mode="realistic",
                         use_cache=True, detect_artificial_duplicates=True):
        """A DataFrame of ``symbol``'s ticks with start_date <= timestamp <=
        end_date (tz-aware UTC timestamps); empty if no file covers it."""
        import pandas as pd

        if data_mode not in VALID_DATA_MODES:
            raise DataValidationError(
                f"Invalid data_mode: {data_mode!r}. Must be one of: {', '.join(VALID_DATA_MODES)}"
            )
        key = f"{symbol}_{start_date}_{end_date}_{data_mode}"
        with self._lock:
            cached = self._cache.get(key) if use_cache else None
        if cached is not None:
            return cached.copy()
        if start_date and end_date:
            try:
                files = self.index_manager.get_relevant_files(
                    symbol, pd.to_datetime(start_date), pd.to_datetime(end_date))
            except TypeError:
                raise DataValidationError(
                    f"{symbol}: start {start_date} and end {end_date} must have a time zone "
                    "(the tick files' times are UTC): write them as ...+00:00"
                ) from None
        else:
            files = sorted(self.data_dir.glob(f"*/ticks/{symbol}/{symbol}_*.parquet"))
        if not files:
            return pd.DataFrame()
        if detect_artificial_duplicates:
            self._check_duplicates(files)
        frame = pd.concat([self._read(f) for f in files], ignore_index=True)
        frame = frame.sort_values("timestamp").reset_index(drop=True)
        if data_mode in ("realistic", "clean"):
            key_columns = ["time_msc" if "time_msc" in frame.columns else "timestamp", "bid",
                           "ask"]
            frame = frame.drop_duplicates(subset=key_columns, keep="last")
        if frame["timestamp"].dt.tz is None:
            frame["timestamp"] = frame["timestamp"].dt.tz_localize("UTC")
        if start_date:
            frame = frame[frame["timestamp"] >= pd.to_datetime(start_date, utc=True)]
        if end_date:
            frame = frame[frame["timestamp"] <= pd.to_datetime(end_date, utc=True)]
        if use_cache:
            with self._lock:
                self._cache[key] = frame.copy()
        return frame

    def load_arrays(self, symbol, start_date=None, end_date=None, data_mode="realistic",
                    use_cache=True, detect_artificial_duplicates=True):
        """:meth:`load_symbol_data`'s ticks as arrays (see
        :func:`prepare_window`), kept per range; None if there are none."""
        key = ("arrays", symbol, start_date, end_date, data_mode)
        with self._lock:
            cached = self._cache.get(key)
        if cached is None:
            cached = _frame_arrays(self.load_symbol_data(
                symbol, start_date, end_date, data_mode, use_cache,
                detect_artificial_duplicates))
            if cached is not None:
                for a in cached:
                    a.flags.writeable = False
            with self._lock:
                self._cache[key] = cached
        return cached

    def get_ticks(self, symbol: str) -> TickArrays:
        """The whole tick history of ``symbol`` as validated arrays."""
        frame = self.load_symbol_data(symbol)
        if frame.empty:
            raise FileNotFoundError(f"no tick files for {symbol} under {self.data_dir}")
        volume = frame["volume"].to_numpy() if "volume" in frame.columns else None
        return TickArrays.from_arrays(symbol, frame_timestamps(frame), frame["bid"].to_numpy(),
                                      frame["ask"].to_numpy(), volume,
                                      source=f"{symbol} under {self.data_dir}")


class TickArraysData(Picklable):
    """A data worker over ticks in memory (one symbol's TickArrays, or
    several): ranges are cut from the arrays as they are (no duplicates
    removed), and warm-up bars are rendered from them by the importer's
    rules (:func:`fastpar.bars.render_bars`), once per timeframe."""

    def __init__(self, *ticks: TickArrays):
        self.ticks = {t.symbol: t for t in ticks}
        self.index_manager = self  # one contiguous "file" per symbol: no gaps
        self.bar_source = self
        self._lock = threading.Lock()
        self._bars: dict[tuple[str, str], np.ndarray] = {}

    def list_available_symbols(self) -> list[str]:
        return sorted(self.ticks)

    def get_coverage_report(self, symbol: str) -> CoverageReport:
        return CoverageReport(symbol, (), ())

    def load_symbol_data(self, symbol, start_date=None, end_date=None, data_mode="realistic",
                         use_cache=True, detect_artificial_duplicates=True):
        import pandas as pd

        ticks = self.ticks.get(symbol)
        if ticks is None:
            return pd.DataFrame()
        lo, hi = 0, len(ticks)
        try:
            if start_date:
                lo = int(np.searchsorted(ticks.timestamp, to_ns(start_date), "left"))
            if end_date:
                hi = int(np.searchsorted(ticks.timestamp, to_ns(end_date), "right"))
        except (TypeError, ValueError) as e:
            raise DataValidationError(f"{symbol}: {e}") from None
        hi = max(lo, hi)
        return pd.DataFrame({
            "timestamp": pd.to_datetime(ticks.timestamp[lo:hi], unit="ns", utc=True),
            "bid": ticks.bid[lo:hi],
            "ask": ticks.ask[lo:hi],
            "volume": ticks.volume[lo:hi],
        })

    def load_arrays(self, symbol, start_date=None, end_date=None, data_mode="realistic",
                    use_cache=True, detect_artificial_duplicates=True):
        """The range as views of the arrays (see :func:`prepare_window`)."""
        ticks = self.ticks.get(symbol)
        if ticks is None:
            return None
        lo, hi = 0, len(ticks)
        try:
            if start_date:
                lo = int(np.searchsorted(ticks.timestamp, to_ns(start_date), "left"))
            if end_date:
                hi = int(np.searchsorted(ticks.timestamp, to_ns(end_date), "right"))
        except (TypeError, ValueError) as e:
            raise DataValidationError(f"{symbol}: {e}") from None
        if hi <= lo:
            return None
        return (ticks.timestamp[lo:hi], ticks.bid[lo:hi], ticks.ask[lo:hi], ticks.volume[lo:hi])

    def bars(self, symbol: str, timeframe: str) -> np.ndarray:
        from .bars import InsufficientWarmupDataError, render_bars

        ticks = self.ticks.get(symbol)
        if ticks is None:
            raise InsufficientWarmupDataError(f"no ticks for {symbol} to render bars from")
        key = (symbol, timeframe)
        with self._lock:
            bars = self._bars.get(key)
        if bars is None:
            bars = render_bars(ticks.timestamp, ticks.bid, ticks.ask, ticks.volume, timeframe)
            bars.flags.writeable = False
            with self._lock:
                self._bars[key] = bars
        return bars


@dataclass(frozen=True)
class Window:
    """A scenario's ticks, ready for the engine: int64 ns (UTC), float64."""

    timestamp: np.ndarray
    bid: np.ndarray
    ask: np.ndarray
    volume: np.ndarray

    def __len__(self):
        return len(self.timestamp)

    def arrays(self) -> tuple:
        return (self.timestamp, self.bid, self.ask, self.volume)


def prepare_window(data_worker, symbol, start_date, end_date, max_ticks=None,
                   data_mode="realistic", warmup_requirements=None, scenario_name=None) -> Window:
    """A scenario's window, cut as the API's data preparation cuts it.

    The data worker's ``load_symbol_data`` is called as the API calls it:
    from the start to the end date, or, with ``max_ticks``, to a year after
    the start; its first tick must lie at or before the start (else
    :class:`InsufficientHistoricalDataError`). Then the first ``max_ticks``
    ticks from the start (fewer is an error), or every tick from start to
    end (none is an error, and so is a gap between two tick files inside
    the window longer than a minute and than the smallest timeframe the
    workers warm up). Start and end compare as the wall time written in the
    scenario, in UTC.

    fastpar's own data workers answer ``load_arrays`` instead, with the same
    ticks as arrays they keep: the window is then a slice of them, cut
    without copying a DataFrame while the GIL is held.
    """
    import pandas as pd

    where = f"scenario {scenario_name!r}: {symbol}"
    test_start = datetime.fromisoformat(start_date)
    test_end = datetime.fromisoformat(end_date)
    if max_ticks is not None and (isinstance(max_ticks, bool) or not isinstance(max_ticks, int)
                                  or max_ticks < 0):
        raise DataValidationError(f"{where}: max_ticks must be a positive integer or null, "
                                  f"got {max_ticks!r}")
    load_end = test_start + timedelta(days=365) if max_ticks else test_end
    request = {"symbol": symbol, "start_date": test_start.isoformat(),
               "end_date": load_end.isoformat(), "use_cache": True, "data_mode": data_mode}
    load_arrays = getattr(data_worker, "load_arrays", None)
    loaded = (load_arrays(**request) if callable(load_arrays)
              else _frame_arrays(data_worker.load_symbol_data(**request)))
    if loaded is None:
        raise NoDataAvailableError(
            f"{where}: no tick data from {test_start.isoformat()} to {load_end.isoformat()}")
    ts, bid, ask, volume = loaded
    start = test_start.replace(tzinfo=None)
    end = test_end.replace(tzinfo=None)
    start_ns, end_ns = pd.Timestamp(start).value, pd.Timestamp(end).value
    if ts[0] > start_ns:
        raise InsufficientHistoricalDataError(
            f"{where}: no tick at the start {start.isoformat()}; the data starts at "
            f"{pd.Timestamp(int(ts[0])).isoformat()} (move start_date to a tick)")
    ordered = len(ts) < 2 or bool((ts[1:] >= ts[:-1]).all())
    if max_ticks:
        if ordered:
            lo = int(np.searchsorted(ts, start_ns, "left"))
            selected = slice(lo, min(len(ts), lo + max_ticks))
            found = selected.stop - lo
        else:
            selected = np.flatnonzero(ts >= start_ns)[:max_ticks]
            found = len(selected)
        if found < max_ticks:
            raise InsufficientTickDataError(
                f"{where}: max_ticks asks for {max_ticks:,} ticks from {start.isoformat()}, "
                f"the data has {found:,}")
    else:
        if ordered:
            selected = slice(int(np.searchsorted(ts, start_ns, "left")),
                             int(np.searchsorted(ts, end_ns, "right")))
            found = max(0, selected.stop - selected.start)
        else:
            selected = np.flatnonzero((ts >= start_ns) & (ts <= end_ns))
            found = len(selected)
        if found == 0:
            raise NoTicksInTimespanError(
                f"{where}: no tick between {start.isoformat()} and {end.isoformat()}")
        _check_gaps(data_worker, symbol, start, end, warmup_requirements or {}, where)
    return Window(ts[selected], bid[selected], ask[selected], volume[selected])


def _frame_arrays(frame):
    """A loader's DataFrame as (timestamp int64 ns, naive UTC wall time;
    bid, ask, volume float64), or None when it is empty."""
    import pandas as pd

    if frame.empty:
        return None
    ts = pd.to_datetime(frame["timestamp"])
    if ts.dt.tz is not None:
        ts = ts.dt.tz_localize(None)
    n = len(frame)
    return (
        ts.to_numpy(dtype="datetime64[ns]").astype(np.int64),
        frame["bid"].to_numpy(dtype=np.float64),
        frame["ask"].to_numpy(dtype=np.float64),
        frame["volume"].to_numpy(dtype=np.float64) if "volume" in frame.columns else np.zeros(n),
    )


def _check_gaps(data_worker, symbol, start, end, warmup_requirements, where) -> None:
    from .scenario_config import timeframe_minutes

    if not warmup_requirements:
        raise DataValidationError(
            f"{where}: no worker asks for warm-up bars, so the gap check of a timespan window "
            "has no smallest timeframe (give max_ticks, or a worker a warm-up)")
    smallest = min(warmup_requirements, key=timeframe_minutes)
    min_bar_seconds = timeframe_minutes(smallest) * 60
    coverage = data_worker.index_manager.get_coverage_report(symbol)
    critical = [
        g for g in coverage.gaps
        if g.gap_seconds > min_bar_seconds and g.gap_seconds > 60
        and g.file1.end_time.replace(tzinfo=None) >= start
        and g.file2.start_time.replace(tzinfo=None) <= end
    ]
    if critical:
        listed = "; ".join(
            f"{g.file1.end_time.isoformat()} -> {g.file2.start_time.isoformat()}" for g in critical)
        raise CriticalGapError(
            f"{where}: gaps between tick files inside the window ({listed}), longer than the "
            f"smallest timeframe {smallest}")


def sample_data(days: int = 14) -> TickArraysData:
    """fastpar's embedded default data: :func:`synthetic_ticks` of EURUSD
    from 2025-09-01, as a data worker (what ``make demo`` and the shipped
    ``sample_scenarios.json`` run on)."""
    return TickArraysData(synthetic_ticks("EURUSD", days=days))


# ---------------------------------------------------------------------------
# Synthetic FX ticks
# ---------------------------------------------------------------------------

# Base price and digits per symbol; unknown symbols get 1.0 / 5 digits.
_SYMBOL_DEFAULTS = {
    "EURUSD": (1.1700, 5),
    "GBPUSD": (1.3450, 5),
    "AUDUSD": (0.6600, 5),
    "USDCHF": (0.7950, 5),
    "USDJPY": (147.50, 3),
    "EURJPY": (172.80, 3),
}

# Mean ticks per minute by UTC hour: quiet Asian session, busy London,
# busiest London/New York overlap, then New York and a thin late session.
_TICKS_PER_MINUTE_BY_HOUR = np.array(
    [3, 3, 3, 3, 3, 3, 4, 9, 12, 12, 12, 12, 20, 20, 20, 20, 10, 10, 10, 10, 6, 2, 2, 2],
    dtype=np.float64,
)
# Hours whose spread widens (the thin late and early-Asian hours).
_QUIET_HOURS = {21, 22, 23, 0, 1}

# Volatility regimes: per-tick volatility multiplier and hourly Markov
# transition probabilities (rows: from calm / normal / volatile).
_REGIME_SCALE = np.array([0.6, 1.0, 1.9])
_REGIME_TRANSITIONS = np.array(
    [
        [0.90, 0.09, 0.01],
        [0.06, 0.88, 0.06],
        [0.05, 0.25, 0.70],
    ]
)
_DAILY_VOLATILITY = 0.004  # ~0.4% a day, typical of EURUSD


def _market_open(minute_ns: np.ndarray) -> np.ndarray:
    """FX trades from Sunday 22:00 UTC to Friday 22:00 UTC."""
    minutes = minute_ns // NS_PER_MINUTE
    weekday = ((minutes // 1440) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    hour = (minutes % 1440) // 60
    closed = (weekday == 5) | ((weekday == 4) & (hour >= 22)) | ((weekday == 6) & (hour < 22))
    return ~closed


def synthetic_ticks(
    symbol: str = "EURUSD",
    start="2025-09-01",
    days: int = 14,
    seed: int = 42,
    *,
    base_price: float | None = None,
    digits: int | None = None,
) -> TickArrays:
    """Deterministic synthetic FX ticks: a pure function of its arguments.

    - Sessions: ticks per minute follow the UTC hour (few in Asian hours,
      most in the London/New York overlap), at least one per minute, the
      first on the minute; none from Friday 22:00 to Sunday 22:00 UTC.
    - Prices: a log random walk of the mid whose per-tick volatility
      follows hourly volatility regimes (calm / normal / volatile), scaled
      so a day moves about 0.4%.
    - Spread: 1-2 points in active hours, 2-5 points in quiet hours;
      bid and ask lie on the symbol's price grid (``digits``).
    - Volume: small positive integers, as float64.
    """
    if days < 1:
        raise ValueError(f"days must be >= 1, got {days}")
    default_price, default_digits = _SYMBOL_DEFAULTS.get(symbol.upper(), (1.0, 5))
    base_price = default_price if base_price is None else float(base_price)
    digits = default_digits if digits is None else int(digits)
    point = 10.0**-digits
    rng = np.random.default_rng(seed)

    start_ns = to_ns(start)
    start_ns -= start_ns % NS_PER_MINUTE
    n_minutes = days * 1440
    minute_ns = start_ns + np.arange(n_minutes, dtype=np.int64) * NS_PER_MINUTE
    hour = ((minute_ns // NS_PER_MINUTE) % 1440) // 60

    # Regime per hour, a Markov chain.
    n_hours = math.ceil(n_minutes / 60)
    regimes = np.empty(n_hours, dtype=np.int64)
    regimes[0] = 1
    draws = rng.random(n_hours)
    for h in range(1, n_hours):
        regimes[h] = np.searchsorted(
            np.cumsum(_REGIME_TRANSITIONS[regimes[h - 1]]), draws[h], side="right"
        )
    regimes = np.minimum(regimes, 2)
    regime_of_minute = np.repeat(regimes, 60)[:n_minutes]

    # Ticks per minute: Poisson around the session's rate, more when
    # volatile, at least one per open minute.
    rate = _TICKS_PER_MINUTE_BY_HOUR[hour] * (0.7 + 0.3 * _REGIME_SCALE[regime_of_minute])
    counts = np.maximum(rng.poisson(rate), 1) * _market_open(minute_ns)
    n = int(counts.sum())

    # Tick times: uniform millisecond offsets inside each minute, sorted;
    # each minute's first tick on the minute, so that a scenario may start
    # at any whole minute of open market (the API requires a tick at a
    # window's start).
    minute_of_tick = np.repeat(np.arange(n_minutes), counts)
    offsets_ms = rng.integers(0, 60_000, size=n)
    offsets_ms[np.concatenate(([0], np.cumsum(counts[counts > 0])[:-1]))] = 0
    order = np.lexsort((offsets_ms, minute_of_tick))
    timestamp = minute_ns[minute_of_tick] + offsets_ms[order].astype(np.int64) * 1_000_000

    # Mid path. Per-tick volatility keeps the daily volatility near the
    # target whatever the tick rate (~13k ticks on an open day).
    sigma = (
        _DAILY_VOLATILITY / math.sqrt(13_000.0) * _REGIME_SCALE[regime_of_minute[minute_of_tick]]
    )
    log_mid = math.log(base_price) + np.cumsum(rng.normal(0.0, 1.0, size=n) * sigma)
    mid = np.exp(log_mid)

    quiet = np.isin(hour[minute_of_tick], list(_QUIET_HOURS))
    spread_points = np.where(quiet, rng.integers(2, 6, size=n), rng.integers(1, 3, size=n))
    bid = np.round(mid - spread_points * point / 2.0, digits)
    ask = np.round(bid + spread_points * point, digits)
    volume = rng.integers(1, 6, size=n).astype(np.float64)
    return TickArrays.from_arrays(symbol, timestamp, bid, ask, volume, source=f"synthetic {symbol}")
