#!/usr/bin/env python3
"""Synthetic MQL5 TickCollector exports for the FiniexTestingIDE oracle.

What it writes
--------------
One JSON file per symbol per chunk of a few days, named
``<SYMBOL>_<YYYYMMDD>_<HHMMSS>_ticks.json`` (the time is the chunk's first
tick), in the layout of the TickCollector's exports that the real
``TickDataImporter`` (python/data_worker/importer/tick_importer.py of
FiniexTestingIDE) reads: a ``metadata`` block (symbol, broker, server,
broker_utc_offset_hours, start_time "YYYY.MM.DD HH:MM:SS", data_format_version,
data_collector "mt5", symbol_info {digits, point_value, tick_size, tick_value},
...), a ``ticks`` list (timestamp, time_msc, bid, ask, last, tick_volume,
real_volume, chart_tick_volume, spread_points, spread_pct, tick_flags,
session, server_time) and the ``errors`` and ``summary`` blocks.

Symbols EURUSD, GBPUSD, AUDUSD (5 digits) and USDJPY (3 digits); times are
UTC (broker offset 0) from 2025-09-12 00:00 to 2025-10-10 21:00.

Why it looks the way it does
----------------------------
* At most ONE distinct tick per (symbol, second). The importer keeps only the
  second of the timestamp, and both the importer and the loader sort with
  pandas' default (non-stable) sort on that column: two different ticks in
  one second would come out in an order that can differ between machines.
* Exact duplicate rows (all fields equal, so also time_msc, bid and ask) are
  emitted now and then, right after the original. The loader drops them in
  data_mode "realistic"/"clean" and keeps them in "raw"; being identical,
  their order does not matter.
* The market is closed from Friday 21:00 to Sunday 21:00 (no ticks), so the
  bar importer inserts synthetic bars over each weekend; a few weekday
  stretches of several hours have no data either (DATA_GAPS).
* Intensity varies so that the processed parquet stays small: "background"
  (a tick every 90-360 s), "sparse" (every 20-60 s, some hours before and
  after each dense stretch) and "dense" (every 1-3 s, around the scenario
  windows of tests/finiex/sets and the windows of the sets that ship with
  FiniexTestingIDE).
* The real code refuses a window whose start second holds no tick, so every
  window start used by the sets is in REQUIRED (a tick exactly then), and
  FORBIDDEN lists seconds that must stay empty (refusal tests).
* Prices: a random walk with trending regimes, mean reversion towards a
  slowly moving anchor, rare jumps, flat stretches (identical bid/ask over
  many ticks, FLAT) and a varying spread (wider around the 21:00-22:00
  rollover). Prices are rounded to the symbol's digits.
* The chunk boundaries (Sunday open and Wednesday 00:00 of each week) are
  seamless: a tick a few seconds before and one exactly at the boundary, so
  that only the weekend shows up as a gap between files.

Deterministic: only Python's ``random.Random`` (seeded per symbol from
--seed and the symbol name) is used, whose output is stable across Python
versions; no third-party package is needed.

Usage: python tests/finiex/generate.py OUTDIR [--seed N] [--symbols EURUSD ...]
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import zlib
from datetime import datetime, timedelta, timezone

DEFAULT_SEED = 20251012

DATA_START = datetime(2025, 9, 12, 0, 0, 0)
DATA_END = datetime(2025, 10, 10, 21, 0, 0)

SYMBOLS = {
    # base price, digits, tick_value (account EUR), typical spread in points,
    # volatility in points per sqrt(second)
    "EURUSD": dict(base=1.17250, digits=5, tick_value=0.85155, spread=12, vol=1.6),
    "GBPUSD": dict(base=1.35120, digits=5, tick_value=0.85155, spread=16, vol=2.0),
    "AUDUSD": dict(base=0.65870, digits=5, tick_value=0.85155, spread=10, vol=1.3),
    "USDJPY": dict(base=147.420, digits=3, tick_value=0.57860, spread=14, vol=1.8),
}


def T(s: str) -> datetime:
    """'MM-DD HH:MM:SS' (year 2025) or a full ISO time -> naive UTC datetime."""
    if len(s) <= 14:
        s = "2025-" + s
    return datetime.fromisoformat(s)


def span(a: str, b: str):
    return (T(a), T(b))


# Window starts of the scenario sets: a tick exactly at each of these seconds.
# (tests/finiex/sets/*.json; the 13:00/14:00/16:00 ones are also the windows
# of the scenario sets that ship with FiniexTestingIDE f4145f3.)
REQUIRED = {
    "EURUSD": ["09-12 02:00:00", "09-17 13:00:00", "09-19 13:00:00",
               "09-23 13:00:00", "09-26 20:00:00", "09-28 21:05:00",
               "09-30 12:07:03", "10-01 08:00:00"],
    "GBPUSD": ["09-17 13:00:00", "09-18 08:30:00", "09-19 13:00:00",
               "09-23 13:00:00", "09-25 14:00:00", "09-25 16:00:00",
               "10-06 13:00:00", "10-07 09:15:00"],
    "AUDUSD": ["09-17 13:00:00", "09-19 13:00:00", "09-23 10:00:00",
               "09-23 13:00:00", "10-08 08:00:00", "10-10 18:00:00"],
    "USDJPY": ["09-24 12:00:00", "10-08 13:00:00"],
}

# Seconds that must hold no tick (a window starting there is refused).
FORBIDDEN = {
    "EURUSD": ["10-02 10:00:00"],
    "GBPUSD": [],
    "AUDUSD": [],
    "USDJPY": [],
}

# A tick every 1-3 s.
DENSE = {
    "EURUSD": [span("09-17 13:00:00", "09-17 15:00:00"),
               span("09-19 13:00:00", "09-19 13:30:00"),
               span("09-23 13:00:00", "09-23 13:30:00"),
               span("09-28 21:00:00", "09-28 21:45:00"),
               span("09-30 12:00:00", "09-30 13:00:00"),
               span("10-01 08:00:00", "10-01 10:00:00"),
               span("10-02 09:45:00", "10-02 10:15:00")],
    "GBPUSD": [span("09-17 13:00:00", "09-17 13:30:00"),
               span("09-18 08:30:00", "09-18 12:00:00"),
               span("09-19 13:00:00", "09-19 13:30:00"),
               span("09-23 13:00:00", "09-23 13:30:00"),
               span("09-25 14:00:00", "09-25 17:00:00"),
               span("10-06 13:00:00", "10-06 16:00:00"),
               span("10-07 09:15:00", "10-07 10:30:00")],
    "AUDUSD": [span("09-17 13:00:00", "09-17 13:30:00"),
               span("09-19 13:00:00", "09-19 13:30:00"),
               span("09-23 10:00:00", "09-23 14:00:00"),
               span("10-08 08:00:00", "10-08 11:00:00")],
    "USDJPY": [span("09-24 12:00:00", "09-24 18:00:00"),
               span("10-08 13:00:00", "10-08 16:00:00")],
}

# Weekday stretches without any data (besides the weekends).
DATA_GAPS = {
    "EURUSD": [span("09-16 02:00:00", "09-16 06:30:00"),
               span("10-07 03:10:00", "10-07 06:40:00")],
    "GBPUSD": [span("09-22 03:00:00", "09-22 07:00:00")],
    "AUDUSD": [span("10-03 11:00:00", "10-03 15:30:00")],
    "USDJPY": [span("09-25 02:00:00", "09-25 06:00:00"),
               span("09-30 01:00:00", "09-30 05:00:00")],
}

# Stretches where bid and ask do not move (every tick repeats the quote).
FLAT = {
    "EURUSD": [span("09-17 14:10:00", "09-17 14:25:00"),
               span("09-22 10:00:00", "09-22 12:00:00")],
    "GBPUSD": [span("09-18 10:00:00", "09-18 10:20:00"),
               span("10-06 14:30:00", "10-06 14:45:00")],
    "AUDUSD": [span("09-23 11:30:00", "09-23 12:45:00")],
    "USDJPY": [span("09-24 15:00:00", "09-24 15:20:00")],
}

# Price jumps (in points, signed) at given times, on top of random ones.
JUMPS = {
    "EURUSD": [("09-17 13:40:00", 45), ("10-01 09:00:00", -60)],
    "GBPUSD": [("09-18 11:00:00", -70), ("09-25 15:00:00", 55)],
    "AUDUSD": [("09-23 10:45:00", 40)],
    "USDJPY": [("09-24 13:30:00", -80), ("10-08 14:00:00", 65)],
}

SPARSE_BEFORE = timedelta(hours=4)   # sparse run-up before each dense stretch
SPARSE_AFTER = timedelta(hours=1)    # and sparse tail after it
DUP_RATE = 0.004                     # share of ticks followed by an exact duplicate


def is_weekend_closed(t: datetime) -> bool:
    """Closed Friday 21:00 to Sunday 21:00 (UTC)."""
    wd = t.weekday()  # Mon=0 ... Sun=6
    if wd == 4 and t.hour >= 21:
        return True
    if wd == 5:
        return True
    if wd == 6 and t.hour < 21:
        return True
    return False


def next_open(t: datetime) -> datetime:
    """First second >= t at which the market is open (weekend closures only)."""
    if not is_weekend_closed(t):
        return t
    d = t.date()
    while d.weekday() != 6:
        d += timedelta(days=1)
    return datetime(d.year, d.month, d.day, 21, 0, 0)


def chunk_starts(start: datetime, end: datetime):
    """Chunk boundaries: the data start, each Sunday 21:00 and each Wednesday 00:00."""
    out = [start]
    d = start.date()
    while True:
        d += timedelta(days=1)
        if d.weekday() == 6:
            b = datetime(d.year, d.month, d.day, 21, 0, 0)
        elif d.weekday() == 2:
            b = datetime(d.year, d.month, d.day, 0, 0, 0)
        else:
            continue
        if b >= end:
            break
        if b > start:
            out.append(b)
    return out


class Gen:
    """Per-symbol generator built only on random.Random.random()."""

    def __init__(self, seed: int, symbol: str):
        self.rng = random.Random((seed * 1000003) ^ zlib.crc32(symbol.encode()))

    def uniform(self, a, b):
        return a + (b - a) * self.rng.random()

    def randint(self, a, b):
        return a + min(int(self.rng.random() * (b - a + 1)), b - a)

    def normal(self):
        u1 = self.rng.random()
        u2 = self.rng.random()
        return math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2)


def in_spans(t, spans):
    for a, b in spans:
        if a <= t < b:
            return True
    return False


def tick_times(symbol: str, g: Gen):
    """Sorted list of the seconds that hold a tick."""
    dense = DENSE[symbol]
    sparse = [(a - SPARSE_BEFORE, b + SPARSE_AFTER) for a, b in dense]
    gaps = DATA_GAPS[symbol]
    forbidden = {T(s) for s in FORBIDDEN[symbol]}
    required = {T(s) for s in REQUIRED[symbol]}

    def closed(t):
        return is_weekend_closed(t) or in_spans(t, gaps)

    times = set()
    t = DATA_START
    while t < DATA_END:
        if is_weekend_closed(t):
            t = next_open(t) + timedelta(seconds=g.randint(0, 20))
            continue
        gap = next(((a, b) for a, b in gaps if a <= t < b), None)
        if gap:
            t = gap[1] + timedelta(seconds=g.randint(0, 20))
            continue
        times.add(t)
        if in_spans(t, dense):
            step = g.randint(1, 3)
        elif in_spans(t, sparse):
            step = g.randint(20, 60)
        else:
            step = g.randint(90, 360)
        t += timedelta(seconds=step)

    # seamless chunk boundaries
    for b in chunk_starts(DATA_START, DATA_END)[1:]:
        for c in (b - timedelta(seconds=7), b):
            if not closed(c):
                times.add(c)
    for r in required:
        if closed(r):
            raise SystemExit(f"{symbol}: required tick {r} lies in a closed period")
        times.add(r)
    for f in forbidden:
        if f in required:
            raise SystemExit(f"{symbol}: {f} both required and forbidden")
        times.discard(f)
    return sorted(x for x in times if DATA_START <= x < DATA_END)


def session_of(hour: int) -> str:
    if hour >= 22 or hour < 8:
        return "sydney_tokyo"
    if hour < 16:
        return "london"
    if hour < 21:
        return "new_york"
    return "transition"


def price_path(symbol: str, times, g: Gen):
    """(bid, ask, spread_points) per tick, in points (integers)."""
    spec = SYMBOLS[symbol]
    digits = spec["digits"]
    point = 10.0 ** -digits
    mid = spec["base"] / point          # in points, float
    anchor = mid
    drift = 0.0                          # points per second
    regime_left = 0.0
    flats = FLAT[symbol]
    jumps = {T(s): pts for s, pts in JUMPS[symbol]}
    out = []
    prev_t = None
    last_quote = None
    for t in times:
        dt = 1.0 if prev_t is None else (t - prev_t).total_seconds()
        prev_t = t
        if last_quote is not None and in_spans(t, flats):
            out.append(last_quote)
            continue
        # trend regimes of 20 min to 4 h
        regime_left -= dt
        if regime_left <= 0:
            regime_left = g.uniform(1200, 14400)
            drift = g.normal() * spec["vol"] * 0.02
        # the anchor wanders slowly; the price is pulled towards it
        anchor += g.normal() * spec["vol"] * 0.2 * math.sqrt(min(dt, 3600.0))
        kappa = 1.0 / 10800.0
        pull = (anchor - mid) * (1.0 - math.exp(-kappa * min(dt, 86400.0)))
        mid += drift * min(dt, 3600.0) + pull
        mid += g.normal() * spec["vol"] * math.sqrt(min(dt, 3600.0))
        if t in jumps:
            mid += jumps[t]
        elif g.rng.random() < 0.0004:
            mid += g.normal() * 40.0
        spread = spec["spread"] + g.randint(-3, 6)
        if t.hour == 21:
            spread *= 3
        elif g.rng.random() < 0.01:
            spread += g.randint(5, 25)
        spread = max(1, int(spread))
        bid = int(round(mid - spread / 2.0))
        quote = (bid, bid + spread, spread)
        last_quote = quote
        out.append(quote)
    return out


def fmt_time(t: datetime) -> str:
    return t.strftime("%Y.%m.%d %H:%M:%S")


def tick_records(symbol: str, times, quotes, g: Gen):
    """Ticks as (time, json-text) pairs, duplicates included."""
    spec = SYMBOLS[symbol]
    digits = spec["digits"]
    point = 10.0 ** -digits
    recs = []
    minute = None
    counter = 0
    prev = None
    for t, (b, a, sp) in zip(times, quotes):
        key = (t.year, t.month, t.day, t.hour, t.minute)
        counter = counter + 1 if key == minute else 1
        minute = key
        bid = round(b * point, digits)
        ask = round(a * point, digits)
        if prev is None or (prev[0] != b and prev[1] != a) or (prev[0] == b and prev[1] == a):
            flags = "BID ASK"
        elif prev[0] != b:
            flags = "BID"
        else:
            flags = "ASK"
        prev = (b, a)
        msc = int(t.replace(tzinfo=timezone.utc).timestamp()) * 1000 + g.randint(0, 999)
        ts = fmt_time(t)
        text = (
            "    {\n"
            f'      "timestamp": "{ts}",\n'
            f'      "time_msc": {msc},\n'
            f'      "bid": {bid:.{digits}f},\n'
            f'      "ask": {ask:.{digits}f},\n'
            f'      "last": {0:.{digits}f},\n'
            '      "tick_volume": 0,\n'
            '      "real_volume": 0.00,\n'
            f'      "chart_tick_volume": {counter},\n'
            f'      "spread_points": {sp},\n'
            f'      "spread_pct": {(ask - bid) / bid * 100.0:.6f},\n'
            f'      "tick_flags": "{flags}",\n'
            f'      "session": "{session_of(t.hour)}",\n'
            f'      "server_time": "{ts}"\n'
            "    }"
        )
        recs.append((t, text))
        if g.rng.random() < DUP_RATE:
            recs.append((t, text))
    return recs


def metadata_text(symbol: str, start: datetime) -> str:
    spec = SYMBOLS[symbol]
    digits = spec["digits"]
    point = 10.0 ** -digits
    unix = int(start.replace(tzinfo=timezone.utc).timestamp())
    return f"""  "metadata": {{
    "symbol": "{symbol}",
    "broker": "fastpar synthetic broker",
    "server": "fastpar-synthetic-demo",
    "broker_utc_offset_hours": 0,
    "local_device_time": "{fmt_time(start)}",
    "broker_server_time": "{fmt_time(start)}",
    "start_time": "{fmt_time(start)}",
    "start_time_unix": {unix},
    "timeframe": "TICK",
    "volume_timeframe": "PERIOD_M1",
    "volume_timeframe_minutes": 1,
    "data_format_version": "1.0.5",
    "data_collector": "mt5",
    "collection_purpose": "backtesting",
    "operator": "automated",
    "symbol_info": {{
      "point_value": {point:.8f},
      "digits": {digits},
      "tick_size": {point:.8f},
      "tick_value": {spec['tick_value']:.8f}
    }},
    "collection_settings": {{
      "max_ticks_per_file": 50000,
      "max_errors_per_file": 1000,
      "include_real_volume": true,
      "include_tick_flags": true,
      "stop_on_fatal_errors": false
    }},
    "error_tracking": {{
      "enabled": true,
      "log_negligible": true,
      "log_serious": true,
      "log_fatal": true,
      "max_spread_percent": 5.00,
      "max_price_jump_percent": 10.00,
      "max_data_gap_seconds": 300
    }}
  }}"""


def tail_text(n: int, first: datetime, last: datetime) -> str:
    minutes = max((last - first).total_seconds() / 60.0, 1e-9)
    return f"""  "errors": {{
    "by_severity": {{
      "negligible": 0,
      "serious": 0,
      "fatal": 0
    }},
    "details": [
    ]
  }},
  "summary": {{
    "total_ticks": {n},
    "total_errors": 0,
    "data_stream_status": "HEALTHY",
    "quality_metrics": {{
      "overall_quality_score": 1.000000,
      "data_integrity_score": 1.000000,
      "data_reliability_score": 1.000000,
      "negligible_error_rate": 0.000000,
      "serious_error_rate": 0.000000,
      "fatal_error_rate": 0.000000
    }},
    "timing": {{
      "end_time": "{fmt_time(last)}",
      "duration_minutes": {minutes:.1f},
      "avg_ticks_per_minute": {n / minutes:.1f}
    }},
    "recommendations": "Synthetic data (fastpar tests/finiex/generate.py)."
  }}"""


def write_symbol(outdir: str, symbol: str, seed: int):
    g = Gen(seed, symbol)
    times = tick_times(symbol, g)
    quotes = price_path(symbol, times, g)
    recs = tick_records(symbol, times, quotes, g)
    bounds = chunk_starts(DATA_START, DATA_END) + [DATA_END]
    files = []
    i = 0
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        chunk = []
        while i < len(recs) and recs[i][0] < hi:
            chunk.append(recs[i])
            i += 1
        if not chunk:
            continue
        first, last = chunk[0][0], chunk[-1][0]
        name = f"{symbol}_{first.strftime('%Y%m%d_%H%M%S')}_ticks.json"
        path = os.path.join(outdir, name)
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write("{\n")
            f.write(metadata_text(symbol, first))
            f.write(',\n  "ticks": [\n')
            f.write(",\n".join(text for _, text in chunk))
            f.write("\n  ],\n")
            f.write(tail_text(len(chunk), first, last))
            f.write("\n}\n")
        files.append((name, len(chunk)))
    return files, len(times), len(recs) - len(times)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--symbols", nargs="+", default=list(SYMBOLS))
    args = ap.parse_args(argv)
    os.makedirs(args.outdir, exist_ok=True)
    for sym in args.symbols:
        if sym not in SYMBOLS:
            ap.error(f"unknown symbol {sym}; known: {', '.join(SYMBOLS)}")
        files, n, dups = write_symbol(args.outdir, sym, args.seed)
        print(f"{sym}: {n} ticks + {dups} duplicates in {len(files)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
