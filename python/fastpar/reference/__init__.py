"""Slow, readable pure-Python versions of fastpar's C kernels.

Each C kernel is tested against the function of the same name here: the
definition, written for clarity rather than speed. The indicators take
fastpar's parameter names and TA-Lib's defaults (fastpar.<name>'s).
``backtest`` (of ``fastpar.backtest``) runs each column through the sweeps'
reference simulator, :func:`fastpar.reference.strategies.simulate`.
"""

from ._common import ma
from .momentum import (adx, adxr, apo, aroon, aroonosc, bop, cci, cmo, dx, mfi, minus_di,
                       minus_dm, mom, plus_di, plus_dm, ppo, roc, rocp, rocr, stochf, stochrsi,
                       trix, ultosc, willr)
from .overlap import dema, kama, midpoint, midprice, sar, t3, tema, trima
from .statistic import (ad, adosc, avgprice, beta, correl, linearreg, linearreg_angle,
                        linearreg_intercept, linearreg_slope, max, medprice, min, natr, obv, sum,
                        trange, tsf, typprice, var, wclprice)
from .indicators import (atr, bbands, ema, envelope, macd, rsi, rsi_simple, sma, stddev, stoch,
                         wma)
from .strategies import backtest

__all__ = ["sma", "ema", "wma", "rsi", "stddev", "bbands", "envelope", "macd", "atr", "stoch",
           "rsi_simple", "ma", "dema", "tema", "trima", "kama", "t3", "sar", "midpoint",
           "midprice", "stochf", "stochrsi", "plus_dm", "minus_dm", "plus_di", "minus_di", "dx",
           "adx", "adxr", "apo", "ppo", "aroon", "aroonosc", "bop", "cci", "cmo", "mfi", "mom",
           "roc", "rocp", "rocr", "trix", "ultosc", "willr", "ad", "adosc", "obv", "natr", "trange",
           "avgprice", "medprice", "typprice", "wclprice", "var", "linearreg", "linearreg_slope",
           "linearreg_angle", "linearreg_intercept", "tsf", "correl", "beta", "max", "min", "sum", "backtest"]
