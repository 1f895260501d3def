"""fastpar: GIL-free indicator kernels and a native thread pool for Python.

The kernels run in C over NumPy buffers with the GIL released, so a plain
``concurrent.futures.ThreadPoolExecutor`` scales across cores, and a 2-D
input (one series per row) runs on fastpar's own thread pool in one call.
The indicators are also under TA-Lib's names (:mod:`fastpar.talib`) and one
value at a time (:mod:`fastpar.stream`). Trading scenarios run the same way:
:func:`run_scenario` on the calling thread, :func:`run_scenarios` as one job
on the pool. :func:`sweep` backtests a strategy over a parameter grid,
:func:`backtest` your own signal arrays, both in C on the pool; a
:func:`strategy` of your own, written with fastpar's functions, sweeps in
C too.
"""

from . import stream
from .indicators import *  # noqa: F403  (the indicator functions, fastpar.FUNCTIONS)
from .indicators import FUNCTIONS, MAX_PERIOD, MAType
from .indicators import max, min, sum  # noqa: A004  (fastpar.max etc.; not in __all__)
from .backtest import backtest
from .pool import get_num_threads, set_num_threads
from .scenarios import ScenarioError, run_scenario, run_scenarios
from .language import (Strategy, bars_since, crossed_above, crossed_below, maximum, minimum,
                       rolling_max, rolling_mean, rolling_min, rolling_sum, shift, strategy,
                       where)
from .sweep import STRATEGIES, sweep

__version__ = "0.1.0"

__all__ = [
    "FUNCTIONS",
    "MAX_PERIOD",
    "MAType",
    "STRATEGIES",
    "ScenarioError",
    "Strategy",
    "bars_since",
    "crossed_above",
    "crossed_below",
    "maximum",
    "minimum",
    "rolling_max",
    "rolling_mean",
    "rolling_min",
    "rolling_sum",
    "shift",
    "strategy",
    "where",
    "backtest",
    "get_num_threads",
    "run_scenario",
    "run_scenarios",
    "set_num_threads",
    "stream",
    "sweep",
    *(f for f in FUNCTIONS if f not in ("max", "min", "sum")),
]
