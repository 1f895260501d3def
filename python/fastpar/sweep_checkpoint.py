"""Checkpoints of parameter sweeps in a SQLite file.

``fastpar.sweep(..., checkpoint="run.sqlite")`` stores each finished chunk
of parameter sets as it comes; a rerun of the same sweep (same data,
strategy, costs and grid) computes only the sets not stored yet, then
assembles the whole table from the file.

The file holds two tables:

- ``meta(key, value)``: ``format`` = ``fastpar-sweep-checkpoint``,
  ``version``, ``strategy`` and ``fingerprint``, a SHA-256 over the
  strategy, the costs, the parameter sets in order, the asset names and the
  bars' bytes;
- ``results(asset, set_index, <metrics>)``: one row per finished set.

A file with another fingerprint is a ValueError (a different sweep), and
so is a file that is not a fastpar checkpoint.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3

import numpy as np

from .sweep import METRICS, _ProgressBar, run_sets, to_frame

FORMAT = "fastpar-sweep-checkpoint"
VERSION = "1"
#: Sets per stored chunk: small enough that an interruption loses little,
#: large enough that each chunk keeps the pool busy.
CHUNK = 256


def fingerprint(assets, strategy, sets, costs):
    """SHA-256 (hex) of everything the results depend on."""
    h = hashlib.sha256()
    h.update(json.dumps([strategy, sorted((k, repr(v)) for k, v in costs.items()),
                         [list(map(repr, s)) for s in sets]]).encode())
    for name, bars in assets:
        h.update(repr(name).encode())
        for key in ("high", "low", "close"):
            a = bars[key]
            h.update(key.encode())
            if a is not None:
                h.update(len(a).to_bytes(8, "little"))
                h.update(np.ascontiguousarray(a, dtype="<f8").tobytes())
    return h.hexdigest()


def _open(path, strategy, digest):
    """A connection to a new or matching checkpoint file."""
    path = os.fspath(path)
    fresh = not os.path.exists(path) or os.path.getsize(path) == 0
    con = sqlite3.connect(path)
    try:
        if fresh:
            with con:
                con.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
                cols = ", ".join(f"{m} REAL" for m in METRICS)
                con.execute(f"CREATE TABLE results (asset INTEGER, set_index INTEGER, {cols}, "
                            "PRIMARY KEY (asset, set_index))")
                con.executemany("INSERT INTO meta VALUES (?, ?)", [
                    ("format", FORMAT), ("version", VERSION), ("strategy", strategy),
                    ("fingerprint", digest)])
            return con
        try:
            meta = dict(con.execute("SELECT key, value FROM meta"))
        except sqlite3.DatabaseError:
            meta = {}
        if meta.get("format") != FORMAT:
            raise ValueError(f"{path} is not a fastpar sweep checkpoint")
        if meta.get("version") != VERSION:
            raise ValueError(f"{path}: checkpoint version {meta.get('version')!r}, "
                             f"this fastpar writes {VERSION!r}")
        if meta.get("fingerprint") != digest:
            raise ValueError(
                f"{path} holds a different sweep (strategy {meta.get('strategy')!r}; data, "
                "costs or grid differ): use another checkpoint file or delete this one")
        return con
    except BaseException:
        con.close()
        raise


def _checkpointed(path, assets, strategy, sets, skipped, costs, threads=None, progress=True):
    """fastpar.sweep with a checkpoint file: the same DataFrame."""
    con = _open(path, strategy, fingerprint(assets, strategy, sets, costs))
    try:
        done = [set() for _ in assets]
        for a, i in con.execute("SELECT asset, set_index FROM results"):
            done[a].add(i)
        todo = [[i for i in range(len(sets)) if i not in done[a]] for a in range(len(assets))]
        bar = None
        if progress:
            bar = _ProgressBar(len(sets) * len(assets), f"sweep {strategy}")
            bar.advance(sum(len(d) for d in done))
        try:
            marks = ", ".join("?" * (2 + len(METRICS)))
            for a, (_, bars) in enumerate(assets):
                for start in range(0, len(todo[a]), CHUNK):
                    idx = todo[a][start : start + CHUNK]
                    out = run_sets(bars, strategy, [sets[i] for i in idx], costs, threads, bar)
                    with con:
                        con.executemany(f"INSERT INTO results VALUES ({marks})",
                                        [(a, i, *map(float, row)) for i, row in zip(idx, out)])
        finally:
            if bar is not None:
                bar.close()
        results = []
        for a in range(len(assets)):
            rows = con.execute(f"SELECT {', '.join(METRICS)} FROM results WHERE asset = ? "
                               "ORDER BY set_index", (a,)).fetchall()
            results.append(np.array(rows, dtype=np.float64).reshape(len(sets), len(METRICS)))
    finally:
        con.close()
    names = None if assets[0][0] is None else [n for n, _ in assets]
    return to_frame(strategy, sets, results, names, skipped)
