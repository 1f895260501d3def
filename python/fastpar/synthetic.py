"""Deterministic synthetic market data: fastpar's embedded default data.

Everything here is a pure function of its arguments and seed, so demos,
tests and benchmarks see the same numbers on every machine.
"""

from __future__ import annotations

import numpy as np

__all__ = ["random_walk", "random_walk_ohlc"]


def random_walk(
    n_series: int, length: int, *, seed: int = 42, start: float = 100.0, vol: float = 0.01
) -> np.ndarray:
    """Price paths, shape (n_series, length): a geometric random walk with
    per-step log-return volatility ``vol``, starting at ``start``."""
    if n_series < 1 or length < 1:
        raise ValueError(f"need n_series >= 1 and length >= 1, got {n_series}, {length}")
    rng = np.random.default_rng(seed)
    steps = rng.normal(0.0, vol, size=(n_series, length))
    steps[:, 0] = 0.0
    return start * np.exp(np.cumsum(steps, axis=1))


def random_walk_ohlc(
    n_series: int, length: int, *, seed: int = 42, start: float = 100.0, vol: float = 0.01
) -> dict[str, np.ndarray]:
    """Bars with ``open, high, low, close`` arrays of shape (n_series, length),
    high >= max(open, close) and low <= min(open, close)."""
    close = random_walk(n_series, length, seed=seed, start=start, vol=vol)
    rng = np.random.default_rng(seed + 1)
    open_ = np.concatenate([close[:, :1], close[:, :-1]], axis=1)
    body_hi = np.maximum(open_, close)
    body_lo = np.minimum(open_, close)
    high = body_hi * (1.0 + np.abs(rng.normal(0.0, vol / 2, size=close.shape)))
    low = body_lo * (1.0 - np.abs(rng.normal(0.0, vol / 2, size=close.shape)))
    return {"open": open_, "high": high, "low": low, "close": close}
