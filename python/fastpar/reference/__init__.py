"""Slow, readable pure-Python versions of fastpar's C kernels.

Each C kernel is tested against the function of the same name here: the
definition, written for clarity rather than speed. ``backtest`` (of
``fastpar.backtest``) runs each column through the sweeps' reference
simulator, :func:`fastpar.reference.strategies.simulate`.
"""

from .indicators import atr, bbands, ema, envelope, macd, rsi, sma, stddev, stoch, wma
from .strategies import backtest

__all__ = ["sma", "ema", "wma", "rsi", "stddev", "bbands", "envelope", "macd", "atr", "stoch",
           "backtest"]
