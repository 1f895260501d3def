"""Sweep checkpoints: finished results stored in SQLite as they come.

A checkpoint file belongs to one sweep: the same data, strategy, costs and
parameter sets. Its ``meta`` table records a fingerprint of those; a rerun
with the same fingerprint reads back what is done and runs only the rest,
while a different sweep pointed at the same file is an error rather than a
silent mix of two sweeps' rows. Results are keyed by their row number in
the sweep's result table, and each chunk is committed in one transaction,
so an interrupted sweep leaves every finished chunk and nothing partial.

The file is marked as fastpar's with SQLite's ``application_id``; any other
file (not SQLite, or another program's database) is refused. So is a
damaged one (a results table with other columns, a row number outside the
sweep, a stored value that is not a number): resuming from it would put
values into the result that the sweep never computed.
"""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

__all__ = ["SweepCheckpoint", "data_fingerprint"]

# "fpsw" in ASCII: marks the file as a fastpar sweep checkpoint.
APPLICATION_ID = 0x66707377
FORMAT_VERSION = 1


def data_fingerprint(columns: Mapping[str, np.ndarray]) -> str:
    """SHA-256 over the names, dtypes, shapes and bytes of ``columns``
    (e.g. ``{"AAPL/close": array, ...}``), in sorted name order."""
    h = hashlib.sha256()
    for name in sorted(columns):
        a = np.ascontiguousarray(columns[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _sets_fingerprint(sets: Iterable[Sequence]) -> str:
    h = hashlib.sha256()
    for s in sets:
        h.update(json.dumps(list(s), default=str).encode())
        h.update(b"\n")
    return h.hexdigest()


class SweepCheckpoint:
    """One sweep's results on disk.

    ``sweep`` describes the sweep: ``strategy``, ``data`` (a
    :func:`data_fingerprint`), ``costs`` (a dict), ``sets`` (the parameter
    sets, in row order; only their fingerprint is stored) and ``metrics``
    (the names of the stored result columns). ``rows``: the number of
    result rows (row numbers are 0 to rows - 1); by default one per set,
    more for a sweep of several assets.

    Raises ValueError if ``path`` is not a fastpar sweep checkpoint, or
    holds another sweep's results; :meth:`done` raises ValueError if the
    file is damaged.
    """

    def __init__(self, path, *, strategy: str, data: str, costs: Mapping, sets: Sequence,
                 metrics: Sequence[str], rows: int | None = None):
        self.path = Path(path)
        self.metrics = list(metrics)
        self.n_rows = len(sets) if rows is None else rows
        self._meta = {
            "format": FORMAT_VERSION,
            "strategy": strategy,
            "data": data,
            "costs": json.dumps(dict(costs), sort_keys=True, default=str),
            "sets": _sets_fingerprint(sets),
            "rows": len(sets),
            "metrics": json.dumps(self.metrics),
        }
        if self.path.is_dir():
            raise ValueError(f"checkpoint {self.path} is a directory, not a file")
        try:
            self._db = sqlite3.connect(self.path)
        except sqlite3.Error as e:
            raise ValueError(f"checkpoint {self.path}: cannot open it ({e})") from None
        try:
            self._open()
        except sqlite3.OperationalError as e:  # an SQLite file, unreadable as ours
            self._db.close()
            raise ValueError(f"checkpoint {self.path} cannot be used ({e})") from None
        except sqlite3.DatabaseError as e:
            self._db.close()
            raise ValueError(
                f"{self.path} is not a fastpar sweep checkpoint (not an SQLite database: {e})"
            ) from None
        except BaseException:
            self._db.close()
            raise

    def _open(self) -> None:
        db = self._db
        (app_id,) = db.execute("PRAGMA application_id").fetchone()
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if app_id == 0 and not tables:
            self._create()
            return
        if app_id != APPLICATION_ID:
            raise ValueError(
                f"{self.path} is an SQLite database but not a fastpar sweep checkpoint"
            )
        missing = sorted({"meta", "results"} - tables)
        if missing:
            raise self._damaged(f"it has no {' and no '.join(missing)} table")
        stored = dict(db.execute("SELECT key, value FROM meta").fetchall())
        differs = [k for k, v in self._meta.items() if stored.get(k) != str(v)]
        if differs:
            what = {"data": "the data", "sets": "the parameter grid", "costs": "the costs",
                    "strategy": "the strategy", "rows": "the number of parameter sets",
                    "metrics": "the result columns", "format": "the file format version"}
            raise ValueError(
                f"checkpoint {self.path} belongs to another sweep: "
                + ", ".join(what[k] for k in differs)
                + " differ; use another file, or delete this one to start over"
            )

    def _create(self) -> None:
        cols = ", ".join(f"m{i} REAL" for i in range(len(self.metrics)))
        db = self._db
        # One explicit transaction: Python's sqlite3 would otherwise commit
        # each CREATE at once, and an interruption in between would leave a
        # file with tables but no description, refused by every rerun.
        db.isolation_level = None
        try:
            db.execute("BEGIN")
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            db.execute(f"CREATE TABLE results (row INTEGER PRIMARY KEY, {cols})")
            db.executemany("INSERT INTO meta VALUES (?, ?)",
                           [(k, str(v)) for k, v in self._meta.items()])
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        finally:
            db.isolation_level = ""

    def done(self) -> tuple[np.ndarray, np.ndarray]:
        """(row numbers, metric values of shape (rows, len(metrics))) of the
        results already stored, in row order.

        Raises ValueError naming the file if it is damaged: a results table
        with other columns, a row number that is not an integer in [0, rows)
        or appears twice, a value that is not a number."""
        names = ["row"] + [f"m{i}" for i in range(len(self.metrics))]
        try:
            columns = [r[1] for r in self._db.execute("PRAGMA table_info(results)")]
            if columns != names:
                raise self._damaged(f"its results table has the columns {columns}, "
                                    f"not {names}")
            rows = self._db.execute(
                f"SELECT {', '.join(names)} FROM results ORDER BY row").fetchall()
        except sqlite3.Error as e:
            raise self._damaged(f"its results cannot be read ({e})") from None
        last = None
        for r in rows:
            row = r[0]
            if not isinstance(row, int) or not 0 <= row < self.n_rows:
                raise self._damaged(f"row number {row!r} is outside the sweep's rows "
                                    f"(0 to {self.n_rows - 1})")
            if row == last:
                raise self._damaged(f"row {row} is stored twice")
            last = row
            for name, v in zip(self.metrics, r[1:]):
                # SQLite stores NaN as NULL; a REAL column keeps numbers as float
                if v is not None and type(v) not in (float, int):
                    raise self._damaged(f"row {row}: {name} holds {v!r}, not a number")
        index = np.array([r[0] for r in rows], dtype=np.int64)
        values = np.array([[math.nan if v is None else v for v in r[1:]] for r in rows],
                          dtype=np.float64).reshape(len(rows), len(self.metrics))
        return index, values

    def _damaged(self, what: str) -> ValueError:
        return ValueError(
            f"checkpoint {self.path} is damaged: {what}; delete it to start the sweep over"
        )

    def store(self, rows: Sequence[int], values: np.ndarray) -> None:
        """Store results (one row of metric values per row number) in one
        transaction."""
        values = np.asarray(values, dtype=np.float64)
        if values.shape != (len(rows), len(self.metrics)):
            raise ValueError(f"expected values of shape {(len(rows), len(self.metrics))}, "
                             f"got {values.shape}")
        marks = ", ".join("?" * (len(self.metrics) + 1))
        with self._db:
            self._db.executemany(
                f"INSERT OR REPLACE INTO results VALUES ({marks})",
                ((int(r), *map(float, v)) for r, v in zip(rows, values)),
            )

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "SweepCheckpoint":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
