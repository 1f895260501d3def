"""fastpar.sweep_checkpoint: results survive a reopen, another sweep or a
foreign file is refused with a clear ValueError, and a chunk is stored
whole or not at all."""

import math
import sqlite3

import numpy as np
import pytest
from fastpar.sweep_checkpoint import SweepCheckpoint, data_fingerprint

METRICS = ["total_return", "sharpe", "n_trades"]


def sweep(path, **change):
    desc = dict(
        strategy="rsi_threshold",
        data=data_fingerprint({"close": np.linspace(1.0, 2.0, 50)}),
        costs={"fees": 0.001},
        sets=[(p, lo, 70) for p in range(2, 6) for lo in (20, 30)],
        metrics=METRICS,
    )
    desc.update(change)
    return SweepCheckpoint(path, **desc)


def test_stored_rows_come_back_after_reopening(tmp_path):
    path = tmp_path / "cp.sqlite"
    with sweep(path) as cp:
        rows, values = cp.done()
        assert rows.size == 0 and values.shape == (0, 3)
        cp.store([3, 1], np.array([[0.5, math.nan, 4], [-0.25, 1.5, 2]]))
        cp.store([5], np.array([[math.inf, -1.0, 0]]))
    with sweep(path) as cp:
        rows, values = cp.done()
    assert rows.tolist() == [1, 3, 5]
    np.testing.assert_array_equal(values, [[-0.25, 1.5, 2], [0.5, math.nan, 4], [math.inf, -1, 0]])


@pytest.mark.parametrize(
    "change, what",
    [
        ({"strategy": "ma_cross"}, "strategy"),
        ({"data": data_fingerprint({"close": np.linspace(1.0, 2.0, 51)})}, "data"),
        ({"costs": {"fees": 0.002}}, "costs"),
        ({"sets": [(p, 20, 70) for p in range(2, 10)]}, "parameter grid"),
        ({"metrics": METRICS[:2]}, "result columns"),
    ],
)
def test_another_sweep_in_the_same_file_is_refused(tmp_path, change, what):
    path = tmp_path / "cp.sqlite"
    with sweep(path) as cp:
        cp.store([0], np.array([[1.0, 2.0, 3.0]]))
    with pytest.raises(ValueError, match=f"belongs to another sweep: .*{what}"):
        sweep(path, **change)
    with sweep(path) as cp:  # the file is untouched
        assert cp.done()[0].tolist() == [0]


def test_data_fingerprint_sees_values_names_and_dtypes():
    a = np.arange(10.0)
    base = data_fingerprint({"close": a})
    assert data_fingerprint({"close": a.copy()}) == base
    assert data_fingerprint({"close": a + 1e-12}) != base
    assert data_fingerprint({"open": a}) != base
    assert data_fingerprint({"close": a.astype(np.float32)}) != base


def test_a_file_that_is_not_sqlite_is_refused(tmp_path):
    path = tmp_path / "notes.sqlite"
    path.write_text("these are my notes, not a database\n" * 100)
    with pytest.raises(ValueError, match="not a fastpar sweep checkpoint"):
        sweep(path)
    assert path.read_text().startswith("these are my notes")


def test_another_programs_database_is_refused(tmp_path):
    path = tmp_path / "other.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE trades (id INTEGER, price REAL)")
    db.commit()
    db.close()
    with pytest.raises(ValueError, match="SQLite database but not a fastpar sweep checkpoint"):
        sweep(path)


def test_a_directory_or_an_unreachable_path_is_refused(tmp_path):
    with pytest.raises(ValueError, match="directory"):
        sweep(tmp_path)
    with pytest.raises(ValueError, match="cannot open"):
        sweep(tmp_path / "no" / "such" / "dir" / "cp.sqlite")


def test_a_chunk_is_stored_whole_or_not_at_all(tmp_path):
    path = tmp_path / "cp.sqlite"
    with sweep(path) as cp:
        cp.store([0], np.array([[1.0, 2.0, 3.0]]))
        # The third row fails after two were written: the transaction
        # rolls back, as when Ctrl-C interrupts a write.
        with pytest.raises(ValueError):
            cp.store([1, 2, "not a row number"], np.zeros((3, 3)))
        with pytest.raises(ValueError, match="shape"):
            cp.store([1, 2], np.zeros((3, 3)))
        assert cp.done()[0].tolist() == [0]


def test_an_interrupted_creation_leaves_a_usable_file(tmp_path, monkeypatch):
    """Ctrl-C while the file is being set up leaves nothing half-made: the
    next run starts afresh instead of refusing the file."""
    path = tmp_path / "cp.sqlite"
    real = SweepCheckpoint._create

    class Exploding(dict):
        def items(self):  # read after the tables are made, before COMMIT
            raise KeyboardInterrupt

    def interrupted(self):
        self._meta = Exploding(self._meta)
        real(self)

    monkeypatch.setattr(SweepCheckpoint, "_create", interrupted)
    with pytest.raises(KeyboardInterrupt):
        sweep(path)
    monkeypatch.undo()
    with sweep(path) as cp:
        cp.store([0], np.array([[1.0, 2.0, 3.0]]))
    with sweep(path) as cp:
        assert cp.done()[0].tolist() == [0]


def damage(path, *statements):
    db = sqlite3.connect(path)
    for sql in statements:
        db.execute(sql)
    db.commit()
    db.close()


@pytest.mark.parametrize("statements, what", [
    (["UPDATE results SET row = 8 WHERE row = 1"], r"row number 8 is outside the sweep's rows "
                                                     r"\(0 to 7\)"),
    (["UPDATE results SET row = -1 WHERE row = 1"], "row number -1 is outside"),
    (["ALTER TABLE results DROP COLUMN m2"], r"its results table has the columns \['row', 'm0', "
                                             r"'m1'\], not \['row', 'm0', 'm1', 'm2'\]"),
    (["UPDATE results SET m1 = 'seven' WHERE row = 1"], "row 1: sharpe holds 'seven', not a "
                                                        "number"),
    (["UPDATE results SET m0 = x'00ff' WHERE row = 0"], "row 0: total_return holds b"),
    (["ALTER TABLE results RENAME TO old",
      "CREATE TABLE results (row INTEGER, m0 REAL, m1 REAL, m2 REAL)",
      "INSERT INTO results SELECT * FROM old", "INSERT INTO results SELECT * FROM old"],
     "row 0 is stored twice"),
    (["ALTER TABLE results RENAME TO old",
      "CREATE TABLE results (row REAL, m0 REAL, m1 REAL, m2 REAL)",
      "INSERT INTO results SELECT row + 0.5, m0, m1, m2 FROM old"],
     "row number 0.5 is outside"),
    (["DROP TABLE results", "CREATE VIEW results AS SELECT 1 AS row"], "it has no results table"),
])
def test_a_damaged_file_is_refused_naming_it(tmp_path, statements, what):
    """Every damage to the stored results is a ValueError naming the file:
    resuming from it would put values into the table that the sweep never
    computed (a negative row number used to overwrite the last row)."""
    path = tmp_path / "cp.sqlite"
    with sweep(path) as cp:
        cp.store([0, 1], np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
    damage(path, *statements)
    with pytest.raises(ValueError, match=f"checkpoint {path} is damaged: {what}"):
        with sweep(path) as cp:
            cp.done()


def test_a_damaged_description_is_refused_naming_it(tmp_path):
    path = tmp_path / "cp.sqlite"
    with sweep(path) as cp:
        cp.store([0], np.array([[1.0, 2.0, 3.0]]))
    damage(path, "ALTER TABLE meta DROP COLUMN value")
    with pytest.raises(ValueError, match=f"checkpoint {path} cannot be used .*no such column"):
        sweep(path)


def test_rows_of_several_assets_are_in_range(tmp_path):
    """With `rows` (a sweep of several assets), row numbers go up to rows - 1."""
    path = tmp_path / "cp.sqlite"
    with sweep(path, rows=16) as cp:
        cp.store([15], np.array([[1.0, 2.0, 3.0]]))
        assert cp.done()[0].tolist() == [15]
    damage(path, "UPDATE results SET row = 16")
    with sweep(path, rows=16) as cp, pytest.raises(ValueError, match="row number 16"):
        cp.done()
