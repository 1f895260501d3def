"""Bars and cost settings the vectorbt parity tests share (sweeps,
backtests, strategies): seeded random walks, harder bars (flat stretches,
tick grids, jumps), and the cost modes with their vectorbt spelling.
Importing this needs neither vectorbt nor TA-Lib."""

import numpy as np


def walk(n, seed):
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.015, n)))
    high = close * (1.0 + rng.uniform(0.0, 0.02, n))
    low = close * (1.0 - rng.uniform(0.0, 0.02, n))
    return {"close": close, "high": high, "low": low}


MODES = {
    "long": ({"fees": 0.001, "slippage": 0.0005}, {"fees": 0.001, "slippage": 0.0005}),
    "long_nofees": ({}, {}),
    "longshort": (
        {"fees": 0.002, "slippage": 0.001, "direction": "longshort"},
        {"fees": 0.002, "slippage": 0.001, "direction": "both"},
    ),
    "stops": (
        {"fees": 0.001, "stop_loss": 0.03, "take_profit": 0.05},
        {"fees": 0.001, "sl_stop": 0.03, "tp_stop": 0.05},
    ),
    "longshort_stops": (
        {"fees": 0.001, "slippage": 0.0005, "stop_loss": 0.04, "take_profit": 0.06,
         "direction": "longshort"},
        {"fees": 0.001, "slippage": 0.0005, "sl_stop": 0.04, "tp_stop": 0.06,
         "direction": "both"},
    ),
}


def hard_bars(level, seed, n=1500):
    """A walk around `level` with jumps of -15% and +20%, six flat
    stretches of 10 to 60 equal closes, and every price on a tick grid
    (cents from 1 up, 1/100 of the level below)."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(0.0, 0.01, n)
    jumps = rng.random(n) < 0.005
    steps[jumps] = rng.choice([-0.15, 0.2], jumps.sum())
    close = level * np.exp(np.cumsum(steps))
    for start in rng.integers(50, n - 80, 6):
        close[start:start + rng.integers(10, 60)] = close[start]
    tick = 0.01 if level >= 1 else level / 100

    def on_grid(x):
        return np.maximum(np.round(x / tick), 1.0) * tick

    close = on_grid(close)
    high = np.maximum(on_grid(close * (1 + rng.uniform(0, 0.01, n))), close)
    low = np.minimum(on_grid(close * (1 - rng.uniform(0, 0.01, n))), close)
    return {"close": close, "high": high, "low": low}
