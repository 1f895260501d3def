# Types of the private extension module; use the fastpar package instead.
# Inputs are C-contiguous float64 arrays of one shape (1-D, or 2-D with one
# series per row); `threads` is None (the pool's size) or >= 1.
from typing import Callable

import numpy as np
import numpy.typing as npt

_F64 = npt.NDArray[np.float64]

MAX_PERIOD: int
MAX_THREADS: int

# One entry point per indicator of the table, under fastpar's name and under
# TA-Lib's: f(*inputs, *params, threads), all positional, params in the
# table's order (indicator_table() describes them).
def indicator_table() -> tuple[dict, ...]: ...
def lookback(name: str, /, *params: float) -> int: ...

class Stream:
    """One indicator, one value (or bar) at a time: Stream(name, *params)."""

    def __init__(self, name: str, /, *params: float) -> None: ...
    def update(self, *values: float) -> float | tuple[float, ...]: ...
    def extend(self, *arrays: _F64) -> _F64 | tuple[_F64, ...]: ...
    def reset(self) -> None: ...
    @property
    def lookback(self) -> int: ...
    @property
    def name(self) -> str: ...

def __getattr__(name: str) -> Callable[..., _F64 | tuple[_F64, ...]]: ...
def get_num_threads() -> int: ...
def set_num_threads(n: int, /) -> None: ...
def _sleep_job(ntasks: int, task_us: int, threads: int | None, /) -> int: ...

# Scenario kernel (fastpar.scenarios builds the spec tuples and reads the
# result dicts). run_scenarios returns (status, result or None, message)
# per spec; progress is None or a writable int64 array of len(specs).
_I64 = npt.NDArray[np.int64]

def run_scenario(
    timestamps: _I64, bid: _F64, ask: _F64, volume: _F64, spec: tuple, /
) -> dict: ...
def run_scenarios(
    timestamps: _I64,
    bid: _F64,
    ask: _F64,
    volume: _F64,
    specs: list[tuple],
    threads: int | None,
    progress: _I64 | None,
    /,
) -> list[tuple[int, dict | None, str]]: ...

# Parameter sweeps (fastpar.sweep expands the grid and checks the data):
# strategy is the index in fastpar.STRATEGIES, params one row per set (kind
# as 0 = sma, 1 = ema), stops NaN = off, progress None or a writable int64
# array of length 1 counting the sets done. Returns (n_sets, 7) metrics.
def sweep(
    strategy: int,
    high: _F64 | None,
    low: _F64 | None,
    close: _F64,
    params: _F64,
    fees: float,
    slippage: float,
    spread: float,
    stop_loss: float,
    take_profit: float,
    longshort: bool,
    periods_per_year: float,
    threads: int | None,
    progress: _I64 | None,
    /,
) -> _F64: ...

# Backtests of signal arrays (fastpar.backtest checks and converts them):
# close float64, entries and exits bool, each 1-D (shared by every column)
# or 2-D (n_bars, n_cols) in any layout; stops NaN = off. Returns (n_cols,
# 7) metrics, the columns of fastpar.sweep.METRICS.
def backtest(
    close: _F64,
    entries: npt.NDArray[np.bool_],
    exits: npt.NDArray[np.bool_],
    fees: float,
    slippage: float,
    spread: float,
    stop_loss: float,
    take_profit: float,
    longshort: bool,
    periods_per_year: float,
    threads: int | None,
    /,
) -> _F64: ...
