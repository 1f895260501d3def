"""The one test of "a finite number" for user input: configuration files,
scenario parameters, sweep grids, costs and strategy constants."""

from __future__ import annotations

import math
import numbers


def finite_real(v) -> bool:
    """A real number a double holds: not a bool, NaN or an infinity, nor an
    integer beyond the doubles' range (Python and JSON integers have any
    size, and ``float()`` of one raises OverflowError)."""
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        return False
    try:
        return math.isfinite(v)
    except OverflowError:
        return False
