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
