"""Technical indicators computed in C with the GIL released.

Every function here is made from one row of fastpar's indicator table
(``fastpar._functions``): TA-Lib's definitions and defaults under
fastpar's parameter names, for example ``sma(x, period=30)``,
``bbands(x, period=20, nbdev_up=2.0, nbdev_dn=2.0, matype=0)`` or
``adx(high, low, close, period=14)``. The same functions under TA-Lib's
names are in :mod:`fastpar.talib`, and one value at a time in
:mod:`fastpar.stream`.

Each function takes anything NumPy converts to numbers (lists, int or float
arrays of any layout, pandas Series) and returns float64 arrays as long as
its input, with TA-Lib's conventions:

* NaN for the first ``lookback`` values;
* leading NaNs are skipped: the indicator starts at the first value that is
  not NaN (for several inputs, the first index where none of them is NaN);
* an input shorter than the lookback gives all NaN.

A NaN or an infinity *after* the leading NaNs is an error (ValueError),
never a silently propagated hole: clean or fill your data first. So is a
masked array with masked values (the mask would be ignored).

A 2-D array holds one series per row; its rows are computed on fastpar's
native thread pool (``threads=None``: the pool's size, see
:func:`fastpar.set_num_threads`; ``threads=1``: the calling thread only).
A pandas Series gives a Series with the same index and name.

``out=`` (NumPy's convention) takes the caller's float64 buffer, or a tuple
of buffers for several outputs, of the inputs' shape, C-contiguous and
writable, sharing no memory with the inputs; the function writes into it
and returns it. A loop that reuses its buffers skips the page faults that
fresh output memory costs on every call.

The GIL is released for the whole computation, so plain Python threads
calling these functions run in parallel.
"""

from __future__ import annotations

import enum
from typing import Any

import numpy as np

from . import _fastpar
from ._functions import TABLE, Indicator, as_array, call, make_function

#: The longest period any indicator accepts.
MAX_PERIOD: int = _fastpar.MAX_PERIOD


class MAType(enum.IntEnum):
    """TA-Lib's moving-average types, for the ``matype`` parameters."""

    SMA = 0
    EMA = 1
    WMA = 2
    DEMA = 3
    TEMA = 4
    TRIMA = 5
    KAMA = 6
    MAMA = 7  # not implemented: NotImplementedError
    T3 = 8


def _public(ind: Indicator) -> bool:
    # rsi_simple is fastpar.rsi(x, period, method="simple").
    return ind.name != "rsi_simple"


FUNCTIONS: tuple[str, ...] = tuple(ind.name for ind in TABLE if _public(ind))

globals().update({ind.name: make_function(ind, False, __name__) for ind in TABLE if _public(ind)})

_RSI_METHODS = {"wilder": _fastpar.rsi, "simple": _fastpar.rsi_simple}
_ndarray = np.ndarray


def rsi(
    x: Any, period: int = 14, method: str = "wilder", *, threads: int | None = None,
    out: Any = None,
) -> Any:
    """Relative strength index, in [0, 100]. Lookback: period.

    ``method="wilder"`` (default) is TA-Lib's RSI: average gain and loss
    seeded with their mean over the first ``period`` changes, then smoothed
    as (prev * (period - 1) + change) / period; 0 when nothing moved.
    ``method="simple"`` is the batch_orchestrator CORE/rsi worker's: plain
    means of gains and losses over the last ``period`` changes, 100 when
    there is no loss.

    ``out``: a float64 buffer of x's shape to write into and return (see
    the other functions' ``out``).

    Raises TypeError for non-numeric input or a non-integer period, and
    ValueError for empty or >2-D input, a period outside [1, MAX_PERIOD], NaN
    or inf after the leading NaNs, or an unknown ``method``.
    """
    kernel = _RSI_METHODS.get(method) if isinstance(method, str) else None
    if kernel is None:
        raise ValueError(f"method must be one of {sorted(_RSI_METHODS)}, got {method!r}")
    if type(x) is _ndarray:
        return kernel(x, period, threads, out)
    return call(kernel, ("x",), (x,), (period,), threads, out)

# fastpar.max, fastpar.min and fastpar.sum (TA-Lib's MAX, MIN, SUM) are
# attributes, but not exported by `import *`, which would hide the builtins.
_SHADOWING = {"max", "min", "sum"}

__all__ = ["MAX_PERIOD", "MAType", "FUNCTIONS", "as_array",
           *(f for f in FUNCTIONS if f not in _SHADOWING)]
