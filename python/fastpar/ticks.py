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
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

__all__ = [
    "TickArrays",
    "TickDataLoader",
    "iso_utc",
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
# Files
# ---------------------------------------------------------------------------

_REQUIRED_COLUMNS = ("timestamp", "bid", "ask")


def _read_parquet(path: Path):
    try:
        import pandas as pd

        df = pd.read_parquet(path)
    except ImportError as e:
        raise ImportError(
            f"{path}: reading parquet needs pandas with pyarrow or fastparquet ({e})"
        ) from e
    missing = [c for c in _REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}; found {list(df.columns)}")
    ts = df["timestamp"]
    if ts.dtype.kind == "M":
        if getattr(ts.dt, "tz", None) is not None:
            ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
        ts = ts.to_numpy(dtype="datetime64[ns]")
    elif ts.dtype.kind in "iu":
        ts = ts.to_numpy(dtype=np.int64)
    else:
        ts = np.array([to_ns(str(t)) for t in ts], dtype=np.int64)
    volume = df["volume"].to_numpy() if "volume" in df.columns else None
    return ts, df["bid"].to_numpy(), df["ask"].to_numpy(), volume


def _read_csv(path: Path):
    """CSV with a header row; timestamp is ISO 8601 text or integer ns."""
    with open(path, newline="") as f:
        reader = csv.reader(f)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise ValueError(f"{path}: empty file") from None
        missing = [c for c in _REQUIRED_COLUMNS if c not in header]
        if missing:
            raise ValueError(f"{path}: missing column(s) {missing}; found {header}")
        col = {name: header.index(name) for name in header}
        ts, bid, ask, vol = [], [], [], []
        for line_no, row in enumerate(reader, start=2):
            if not row:
                continue
            try:
                t = row[col["timestamp"]].strip()
                ts.append(int(t) if t.lstrip("-").isdigit() else to_ns(t))
                bid.append(float(row[col["bid"]]))
                ask.append(float(row[col["ask"]]))
                vol.append(float(row[col["volume"]]) if "volume" in col else 0.0)
            except (ValueError, IndexError) as e:
                raise ValueError(f"{path}: line {line_no}: {e}") from None
    return np.array(ts, dtype=np.int64), bid, ask, vol


def _symbol_from_filename(path: Path) -> str:
    # "EURUSD_20250901_ticks.parquet" -> "EURUSD"
    return path.stem.split("_")[0].upper()


class TickDataLoader:
    """Gives each scenario the tick arrays of its symbol.

    Sources, in order: arrays added with :meth:`add_ticks`; files
    ``<SYMBOL>*.parquet`` / ``<SYMBOL>*.csv`` under ``data_dir`` (all of a
    symbol's files are concatenated and must not overlap); and, if
    ``synthetic_fallback`` is true, :func:`synthetic_ticks` for the symbol.
    Loaded arrays are cached and shared read-only; the loader may be used
    from several threads.
    """

    def __init__(self, data_dir=None, *, synthetic_fallback=True, synthetic_days=14):
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self.synthetic_fallback = synthetic_fallback
        self.synthetic_days = synthetic_days
        self._cache: dict[str, TickArrays] = {}
        self._lock = threading.Lock()

    def add_ticks(self, ticks: TickArrays) -> None:
        with self._lock:
            self._cache[ticks.symbol] = ticks

    @staticmethod
    def load_file(path, symbol=None) -> TickArrays:
        """Read and validate one parquet or CSV tick file."""
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"tick file not found: {path}")
        suffix = path.suffix.lower()
        if suffix == ".parquet":
            ts, bid, ask, vol = _read_parquet(path)
        elif suffix == ".csv":
            ts, bid, ask, vol = _read_csv(path)
        else:
            raise ValueError(
                f"{path}: unsupported tick file type {suffix!r} (use .parquet or .csv)"
            )
        symbol = symbol or _symbol_from_filename(path)
        return TickArrays.from_arrays(symbol, ts, bid, ask, vol, source=str(path))

    def _files_for(self, symbol):
        if self.data_dir is None or not self.data_dir.is_dir():
            return []
        files = []
        for pattern in (f"{symbol}*.parquet", f"{symbol}*.csv"):
            files.extend(self.data_dir.rglob(pattern))
        return sorted(files)

    def _load(self, symbol) -> TickArrays:
        files = self._files_for(symbol)
        if files:
            parts = sorted(
                (self.load_file(f, symbol) for f in files),
                key=lambda t: int(t.timestamp[0]) if len(t) else 0,
            )
            cat = [
                np.concatenate([getattr(p, name) for p in parts])
                for name in ("timestamp", "bid", "ask", "volume")
            ]
            return TickArrays.from_arrays(
                symbol, *cat, source=f"{symbol} files under {self.data_dir}"
            )
        if self.synthetic_fallback:
            return synthetic_ticks(symbol, days=self.synthetic_days)
        where = f"under {self.data_dir}" if self.data_dir else "(no data_dir given)"
        raise FileNotFoundError(f"no tick data for {symbol} {where}")

    def get_ticks(self, symbol: str) -> TickArrays:
        """The whole tick history of ``symbol`` (cached)."""
        with self._lock:
            ticks = self._cache.get(symbol)
            if ticks is None:
                ticks = self._load(symbol)
                self._cache[symbol] = ticks
            return ticks

    def load_symbol_data(self, symbol, start_date=None, end_date=None, **_ignored):
        """The batch_orchestrator API's loader call: a pandas DataFrame of
        the ticks with ``start_date <= timestamp <= end_date``."""
        ticks = self.get_ticks(symbol)
        lo = (
            0
            if start_date is None
            else int(np.searchsorted(ticks.timestamp, to_ns(start_date), "left"))
        )
        hi = (
            len(ticks)
            if end_date is None
            else int(np.searchsorted(ticks.timestamp, to_ns(end_date), "right"))
        )
        return TickArrays(
            symbol, *(getattr(ticks, n)[lo:hi] for n in ("timestamp", "bid", "ask", "volume"))
        ).to_dataframe()


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
      most in the London/New York overlap); none from Friday 22:00 to
      Sunday 22:00 UTC.
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

    # Ticks per minute: Poisson around the session's rate, more when volatile.
    rate = _TICKS_PER_MINUTE_BY_HOUR[hour] * (0.7 + 0.3 * _REGIME_SCALE[regime_of_minute])
    counts = rng.poisson(rate) * _market_open(minute_ns)
    n = int(counts.sum())

    # Tick times: uniform millisecond offsets inside each minute, sorted.
    minute_of_tick = np.repeat(np.arange(n_minutes), counts)
    offsets_ms = rng.integers(0, 60_000, size=n)
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
