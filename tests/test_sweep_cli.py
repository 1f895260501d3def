"""The ``fastpar sweep`` command line: its grid syntax, and clear errors
for every malformed grid item (never another exception type)."""

import pytest
from fastpar.cli import MAX_GRID_VALUES, parse_grid


def test_grid_syntax():
    grid = parse_grid(["period=2:50", "low=20,25,30", "kind=sma,ema", "k=0.5:2:0.5",
                       "nbdev=2", "step=10:40:10"])
    assert grid == {
        "period": list(range(2, 51)),
        "low": [20, 25, 30],
        "kind": ["sma", "ema"],
        "k": [0.5, 1.0, 1.5, 2.0],
        "nbdev": [2],
        "step": [10, 20, 30, 40],
    }
    assert parse_grid(["d=0.01:0.03:0.01"]) == {"d": [0.01, 0.02, 0.03]}


@pytest.mark.parametrize(
    "items, message",
    [
        (["period"], "expected NAME=VALUES"),
        (["=2:5"], "expected NAME=VALUES"),
        (["period="], "expected NAME=VALUES"),
        (["1x=2"], "expected NAME=VALUES"),
        (["period=2:"], "START:STOP"),
        (["period=2:5:1:1"], "START:STOP"),
        (["period=a:5"], "finite numbers"),
        (["period=nan:5"], "finite numbers"),
        (["period=1:inf"], "finite numbers"),
        (["period=5:2"], "STOP is below START"),
        (["period=2:5:0"], "step must be > 0"),
        (["period=2:5:-1"], "step must be > 0"),
        (["low=20,,30"], "empty value"),
        (["low=20,"], "empty value"),
        (["low=20", "low=30"], "given twice"),
        ([], "at least one"),
        ([f"period=1:{MAX_GRID_VALUES + 1}"], "more than"),
        (["k=0:1:1e-9"], "more than"),
    ],
)
def test_malformed_grid_items_are_value_errors(items, message):
    with pytest.raises(ValueError, match=message):
        parse_grid(items)
