"""W7: the whole indicator table against TA-Lib, and out= under threads.

1. Every function with a TA-Lib twin, 1e6 prices, one thread: the best of
   REPEATS calls of fastpar.talib.<NAME> and talib.<NAME> with TA-Lib's
   defaults; the ratio TA-Lib / fastpar, and the geometric mean (goal
   >= 1.5, none below 1).
2. 2-D: 64 series x 100k on 2 threads vs 1 (goal >= 1.8x), for a few rows.
3. Streams: ns per update() of fastpar.stream.<NAME> over 100k values
   (Python call included), and per value of extend() (C loop).
4. out=: ThreadPoolExecutor(2) over 32 x fastpar.rsi(1e6 prices), each
   worker writing into its own reused buffer, vs the same 32 calls in a
   sequential loop (goal >= 1.8x); and the plain call's cost over out=.

Run alone: python benchmarks/bench_talib.py [--quick]
"""

from __future__ import annotations

import math
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import fastpar
import fastpar.talib as ftalib
from fastpar import stream
from fastpar._functions import TABLE
from fastpar.synthetic import random_walk_ohlc

import talib

REPEATS = 5


def best(f, repeats=REPEATS):
    t = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        t = min(t, time.perf_counter() - t0)
    return t


def data(rows, n, seed=1):
    bars = random_walk_ohlc(rows, n, seed=seed, start=100.0, vol=0.002)
    d = {k: bars[k] for k in ("open", "high", "low", "close")}
    rng = np.random.default_rng(seed)
    d["volume"] = 1000.0 * (1.0 + np.abs(rng.normal(0.0, 1.0, (rows, n))))
    d["real1"] = 0.5 * d["close"] + np.cumsum(rng.normal(0.0, 0.1, (rows, n)), axis=1)
    if rows == 1:
        d = {k: np.ascontiguousarray(v[0]) for k, v in d.items()}
    return d


ROLE = {"real": "close", "real0": "close", "real1": "real1"}


def inputs_of(ind, d):
    return [d[ROLE.get(name, name)] for name in ind.ta_inputs]


def main(quick: bool) -> None:
    n = 100_000 if quick else 1_000_000
    d = data(1, n)
    ratios = []
    print(f"1. one thread, {n:,} prices: ms fastpar, ms TA-Lib, ratio")
    for ind in TABLE:
        if not ind.ta_name:
            continue
        args = inputs_of(ind, d)
        f, g = getattr(ftalib, ind.ta_name), getattr(talib, ind.ta_name)
        tf = best(lambda: f(*args))
        tg = best(lambda: g(*args))
        ratios.append(tg / tf)
        print(f"   {ind.ta_name:20s} {tf * 1e3:8.2f} {tg * 1e3:8.2f} {tg / tf:6.2f}")
    geo = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
    print(f"   geometric mean {geo:.2f}x over {len(ratios)} functions; "
          f"min {min(ratios):.2f}x")

    rows, m = (16, 20_000) if quick else (64, 100_000)
    d2 = data(rows, m)
    print(f"2. 2-D {rows} x {m:,}: ms threads=1, ms threads=2, speed-up")
    for name in ("sma", "rsi", "bbands", "atr", "adx", "linearreg", "correl", "obv"):
        ind = next(i for i in TABLE if i.name == name)
        args = inputs_of(ind, d2)
        f = getattr(fastpar, name)
        t1 = best(lambda: f(*args, threads=1), 3)
        t2 = best(lambda: f(*args, threads=2), 3)
        print(f"   {name:12s} {t1 * 1e3:8.1f} {t2 * 1e3:8.1f} {t1 / t2:5.2f}x")

    k = 100_000
    print(f"3. streams over {k:,} values: ns per update(), ns per value in extend()")
    for name in ("SMA", "EMA", "RSI", "OBV", "ATR", "MAX", "SUM", "LINEARREG", "ADX"):
        ind = next(i for i in TABLE if i.ta_name == name)
        args = [a[:k] for a in inputs_of(ind, d)]
        s = getattr(stream, name)()
        if len(args) == 1:
            values = args[0].tolist()
            upd = s.update
            tu = best(lambda: [upd(v) for v in values], 3)
        else:
            bars = list(zip(*(a.tolist() for a in args)))
            upd = s.update
            tu = best(lambda: [upd(*b) for b in bars], 3)
        s.reset()
        te = best(lambda: (s.reset(), s.extend(*args)), 3)
        print(f"   {name:10s} {tu / k * 1e9:7.1f} {te / k * 1e9:7.1f}")

    calls = 8 if quick else 32
    x = d["close"]
    print(f"4. {calls} x fastpar.rsi({n:,}): sequential vs ThreadPoolExecutor(2), out= buffers")
    bufs = [np.empty(n) for _ in range(2)]
    fastpar.rsi(x, out=bufs[0])

    def seq():
        for _ in range(calls):
            fastpar.rsi(x, out=bufs[0])

    def par():
        with ThreadPoolExecutor(2) as ex:
            list(ex.map(lambda i: fastpar.rsi(x, out=bufs[i % 2]), range(calls)))

    ts, tp = best(seq, 3), best(par, 3)
    print(f"   sequential {ts * 1e3:.1f} ms, 2 threads {tp * 1e3:.1f} ms: {ts / tp:.2f}x")
    plain = best(lambda: fastpar.rsi(x), 10)
    reused = best(lambda: fastpar.rsi(x, out=bufs[0]), 10)
    print(f"   one call: fresh output {plain * 1e3:.2f} ms, out= {reused * 1e3:.2f} ms "
          f"(the fresh {n * 8 / 1e6:.0f} MB output's page faults: {(plain - reused) * 1e3:.2f} ms)")


if __name__ == "__main__":
    main("--quick" in sys.argv)
