"""fastpar: GIL-free indicator kernels and a native thread pool for Python.

The kernels run in C over NumPy buffers with the GIL released, so a plain
``concurrent.futures.ThreadPoolExecutor`` scales across cores, and a 2-D
input (one series per row) runs on fastpar's own thread pool in one call.
Trading scenarios run the same way: :func:`run_scenario` on the calling
thread, :func:`run_scenarios` as one job on the pool. :func:`sweep` backtests
a strategy over a parameter grid, :func:`backtest` your own signal arrays,
both in C on the pool.
"""

from .indicators import (
    MAX_PERIOD,
    atr,
    bbands,
    ema,
    envelope,
    macd,
    rsi,
    sma,
    stddev,
    stoch,
    wma,
)
from .backtest import backtest
from .pool import get_num_threads, set_num_threads
from .scenarios import ScenarioError, run_scenario, run_scenarios
from .sweep import STRATEGIES, sweep

__version__ = "0.1.0"

__all__ = [
    "MAX_PERIOD",
    "STRATEGIES",
    "ScenarioError",
    "atr",
    "backtest",
    "bbands",
    "ema",
    "envelope",
    "get_num_threads",
    "macd",
    "rsi",
    "run_scenario",
    "run_scenarios",
    "set_num_threads",
    "sma",
    "stddev",
    "stoch",
    "sweep",
    "wma",
]
