"""fastpar.sweep(checkpoint=...) end to end: the same table as without a
checkpoint, a rerun after an interruption runs only what is missing, and a
file of another sweep or of something else is refused. (The file format
itself: tests/test_sweep_checkpoint.py.)"""

import sqlite3
import sys

import numpy as np
import pytest

import fastpar
from fastpar.sweep import METRICS

# The module, not the function fastpar.sweep that shares its name.
sweep_module = sys.modules["fastpar.sweep"]

pd = pytest.importorskip("pandas")

GRID = {"period": range(2, 12), "low": [20, 30], "high": [70, 80]}  # 40 sets


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(12)
    return {"close": 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.015, 1500)))}


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(sweep_module, "CHECKPOINT_CHUNK", 8)


def count_sets(monkeypatch, fail_on_call=None):
    """Make the sweep's run_sets count the sets it runs (and raise
    KeyboardInterrupt on call number `fail_on_call`)."""
    calls = []
    real = sweep_module.run_sets
    total = [0]

    def counting(bars, strategy, sets, *args, **kw):
        calls.append(len(sets))
        total[0] += 1
        if total[0] == fail_on_call:
            raise KeyboardInterrupt
        return real(bars, strategy, sets, *args, **kw)

    monkeypatch.setattr(sweep_module, "run_sets", counting)
    return calls


def test_same_table_as_without(tmp_path, data, small_chunks):
    plain = fastpar.sweep(data, "rsi_threshold", GRID, fees=0.001, progress=False)
    path = tmp_path / "run.sqlite"
    kept = fastpar.sweep(data, "rsi_threshold", GRID, fees=0.001, progress=False,
                         checkpoint=path)
    pd.testing.assert_frame_equal(plain, kept)
    assert kept.attrs == plain.attrs
    with sqlite3.connect(path) as con:
        assert con.execute("SELECT COUNT(*) FROM results").fetchone()[0] == 40
    again = fastpar.sweep(data, "rsi_threshold", GRID, fees=0.001, progress=False,
                          checkpoint=str(path))
    pd.testing.assert_frame_equal(plain, again)


def test_rerun_after_interruption_runs_only_the_rest(tmp_path, data, small_chunks,
                                                     monkeypatch):
    path = tmp_path / "run.sqlite"
    calls = count_sets(monkeypatch, fail_on_call=3)
    with pytest.raises(KeyboardInterrupt):
        fastpar.sweep(data, "rsi_threshold", GRID, progress=False, checkpoint=path)
    assert calls == [8, 8, 8]
    calls.clear()
    resumed = fastpar.sweep(data, "rsi_threshold", GRID, progress=False, checkpoint=path)
    assert sum(calls) == 40 - 16  # the two chunks stored before the interruption are kept
    plain = fastpar.sweep(data, "rsi_threshold", GRID, progress=False)
    pd.testing.assert_frame_equal(plain, resumed)
    calls.clear()
    fastpar.sweep(data, "rsi_threshold", GRID, progress=True, checkpoint=path)
    assert calls == []


def test_several_assets(tmp_path, data):
    two = {"a": data, "b": {"close": data["close"][::-1].copy()}}
    plain = fastpar.sweep(two, "rsi_threshold", GRID, progress=False)
    kept = fastpar.sweep(two, "rsi_threshold", GRID, progress=False,
                         checkpoint=tmp_path / "two.sqlite")
    pd.testing.assert_frame_equal(plain, kept)
    assert list(kept.columns) == ["asset", "period", "low", "high", *METRICS]


@pytest.mark.parametrize("change", [
    {"grid": {"period": range(2, 13), "low": [20, 30], "high": [70, 80]}},
    {"strategy": "envelope", "grid": {"period": [5], "deviation": [0.01]}},
    {"fees": 0.002},
    {"direction": "longshort"},
    {"data": "other"},
])
def test_another_sweep_in_the_same_file_is_refused(tmp_path, data, change):
    path = tmp_path / "run.sqlite"
    fastpar.sweep(data, "rsi_threshold", GRID, fees=0.001, progress=False, checkpoint=path)
    args = {"data": data, "strategy": "rsi_threshold", "grid": GRID, "fees": 0.001}
    args.update(change)
    if isinstance(args["data"], str):
        args["data"] = {"close": data["close"] * 1.0001}
    with pytest.raises(ValueError, match="belongs to another sweep"):
        fastpar.sweep(args.pop("data"), args.pop("strategy"), args.pop("grid"),
                      progress=False, checkpoint=path, **args)


def test_a_file_that_is_not_a_checkpoint_is_refused(tmp_path, data):
    text = tmp_path / "notes.sqlite"
    text.write_text("just some text, not a database\n" * 20)
    with pytest.raises(ValueError, match="is not a fastpar sweep checkpoint"):
        fastpar.sweep(data, "rsi_threshold", GRID, progress=False, checkpoint=text)
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as con:
        con.execute("CREATE TABLE t (x)")
    with pytest.raises(ValueError, match="not a fastpar sweep checkpoint"):
        fastpar.sweep(data, "rsi_threshold", GRID, progress=False, checkpoint=other)
    assert text.read_text().startswith("just some text")


def test_a_negative_row_number_is_refused_not_used(tmp_path, data):
    """A row number below 0 once wrote its stored values into the last row
    and left that set out of the rerun: the result held numbers the sweep
    never computed. Now it is a ValueError naming the file."""
    path = tmp_path / "run.sqlite"
    fastpar.sweep(data, "rsi_threshold", GRID, progress=False, checkpoint=path)
    with sqlite3.connect(path) as con:
        con.execute("DELETE FROM results WHERE row = 39")
        con.execute("UPDATE results SET row = -1, m0 = 123.0 WHERE row = 0")
    with pytest.raises(ValueError, match=f"checkpoint {path} is damaged: row number -1"):
        fastpar.sweep(data, "rsi_threshold", GRID, progress=False, checkpoint=path)
