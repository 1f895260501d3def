"""TA-Lib's function API, computed by fastpar.

    import fastpar.talib as talib

    upper, middle, lower = talib.BBANDS(close, timeperiod=20, nbdevup=2.0, nbdevdn=2.0)
    adx = talib.ADX(high, low, close)            # same names, positional inputs,
    k, d = talib.STOCH(high, low, close)         # parameters, defaults and outputs

Each function has TA-Lib's name, positional inputs, parameter names and
defaults (those of the ta-lib package 0.8), and returns what TA-Lib returns:
one array, or a tuple for several outputs, NaN over the lookback, leading
NaNs skipped. The numbers agree with TA-Lib's to 1e-9 (the test suite holds
every function to it; docs/indicators.md lists them with their speed).

Beyond TA-Lib: inputs may also be lists, any real dtype, and 2-D arrays (one
series per row, computed on fastpar's thread pool), and the GIL is released
throughout. Where TA-Lib would carry a NaN or an infinity found *after* the
leading NaNs into the following outputs, fastpar raises ValueError (fill or
drop missing values first).

A TA-Lib function that fastpar does not implement raises NotImplementedError
naming it, as soon as it is looked up (``talib.CDLDOJI``,
``from fastpar.talib import CDLDOJI``): never a silent fallback. TA-Lib is
never imported here. :func:`get_functions` lists what is implemented.
"""

from __future__ import annotations

from typing import Any

from ._functions import TABLE, make_function

_ROWS = {ind.ta_name: ind for ind in TABLE if ind.ta_name is not None}

globals().update({name: make_function(ind, True, __name__) for name, ind in _ROWS.items()})


class _MAType:
    """TA-Lib's ``MA_Type``: the codes of the ``matype`` parameters, and
    their names by code (``MA_Type[1]`` is ``"Exponential Moving Average"``)."""

    SMA, EMA, WMA, DEMA, TEMA, TRIMA, KAMA, MAMA, T3 = range(9)
    HMA, DISABLED, DEFAULT, ZLEMA, RMA = range(9, 14)

    _NAMES = (
        "Simple Moving Average", "Exponential Moving Average", "Weighted Moving Average",
        "Double Exponential Moving Average", "Triple Exponential Moving Average",
        "Triangular Moving Average", "Kaufman Adaptive Moving Average",
        "MESA Adaptive Moving Average", "Triple Generalized Double Exponential Moving Average",
        "Hull Moving Average", "No Moving Average (identity)",
        "The Function's Own Default Moving Average", "Zero-Lag Exponential Moving Average",
        "Wilder's Smoothed Moving Average",
    )

    def __getitem__(self, code: int) -> str:
        return self._NAMES[code]

    def __repr__(self) -> str:
        return "fastpar.talib.MA_Type"


MA_Type = _MAType()

# The moving averages fastpar computes for a matype; the others
# (MAMA, HMA, ZLEMA, RMA) raise NotImplementedError.
IMPLEMENTED_MA_TYPES = (0, 1, 2, 3, 4, 5, 6, 8, 10, 11)


def get_functions() -> list[str]:
    """The TA-Lib functions fastpar implements, by group."""
    return [name for names in get_function_groups().values() for name in names]


def get_function_groups() -> dict[str, list[str]]:
    """The TA-Lib functions fastpar implements, by TA-Lib's groups."""
    groups: dict[str, list[str]] = {}
    for name, ind in _ROWS.items():
        groups.setdefault(ind.group, []).append(name)
    return groups


# TA-Lib's global settings: fastpar computes with TA-Lib's defaults
# (no unstable period, the default compatibility), so setting those is a
# no-op and anything else is refused.


def set_unstable_period(func_id: str, period: int) -> None:
    if period != 0:
        raise NotImplementedError(
            f"fastpar.talib.set_unstable_period({func_id!r}, {period!r}): fastpar computes "
            "every function without an unstable period (TA-Lib's default, 0)")


def get_unstable_period(func_id: str) -> int:
    return 0


def set_compatibility(value: int) -> None:
    if value != 0:
        raise NotImplementedError(
            f"fastpar.talib.set_compatibility({value!r}): fastpar computes TA-Lib's default "
            "compatibility (0) only, not Metastock's (1)")


def get_compatibility() -> int:
    return 0


# Every function of TA-Lib 0.8 (talib.get_functions()), for the
# NotImplementedError of those fastpar does not implement.
_TALIB_FUNCTIONS = frozenset((
    "HT_DCPERIOD", "HT_DCPHASE", "HT_PHASOR", "HT_SINE", "HT_TRENDMODE", "ADD", "CUMSUM", "DIV",
    "MAX", "MAXINDEX", "MIN", "MININDEX", "MINMAX", "MINMAXINDEX", "MULT", "SUB", "SUM", "ACOS",
    "ASIN", "ATAN", "CEIL", "COS", "COSH", "EXP", "FLOOR", "LN", "LOG10", "SIN", "SINH", "SQRT",
    "TAN", "TANH", "AC", "ADX", "ADXR", "AO", "APO", "AROON", "AROONOSC", "BOP", "CCI", "CMO",
    "CMOU", "COPPOCK", "DPO", "DX", "ER", "ERI", "FOSC", "FRACTAL", "IMI", "KDJ", "MACD",
    "MACDEXT", "MACDFIX", "MFI", "MINUS_DI", "MINUS_DM", "MOM", "PLUS_DI", "PLUS_DM", "PPO",
    "QSTICK", "ROC", "ROCP", "ROCR", "ROCR100", "RSI", "SMI", "STOCH", "STOCHF", "STOCHRSI",
    "TRIX", "TSI", "ULTOSC", "VHF", "VORTEX", "WAD", "WILLR", "ACCBANDS", "BBANDS", "DEMA",
    "DONCHIAN", "EMA", "HMA", "HT_TRENDLINE", "KAMA", "KC", "MA", "MAMA", "MAVP", "MIDPOINT",
    "MIDPRICE", "RMA", "SAR", "SAREXT", "SMA", "SUPERTREND", "T3", "TEMA", "TRIMA", "VWMA",
    "WMA", "ZLEMA", "CDL2CROWS", "CDL3BLACKCROWS", "CDL3INSIDE", "CDL3LINESTRIKE",
    "CDL3OUTSIDE", "CDL3STARSINSOUTH", "CDL3WHITESOLDIERS", "CDLABANDONEDBABY",
    "CDLADVANCEBLOCK", "CDLBELTHOLD", "CDLBREAKAWAY", "CDLCLOSINGMARUBOZU",
    "CDLCONCEALBABYSWALL", "CDLCOUNTERATTACK", "CDLDARKCLOUDCOVER", "CDLDOJI", "CDLDOJISTAR",
    "CDLDRAGONFLYDOJI", "CDLENGULFING", "CDLEVENINGDOJISTAR", "CDLEVENINGSTAR",
    "CDLGAPSIDESIDEWHITE", "CDLGRAVESTONEDOJI", "CDLHAMMER", "CDLHANGINGMAN", "CDLHARAMI",
    "CDLHARAMICROSS", "CDLHIGHWAVE", "CDLHIKKAKE", "CDLHIKKAKEMOD", "CDLHOMINGPIGEON",
    "CDLIDENTICAL3CROWS", "CDLINNECK", "CDLINVERTEDHAMMER", "CDLKICKING", "CDLKICKINGBYLENGTH",
    "CDLLADDERBOTTOM", "CDLLONGLEGGEDDOJI", "CDLLONGLINE", "CDLMARUBOZU", "CDLMATCHINGLOW",
    "CDLMATHOLD", "CDLMORNINGDOJISTAR", "CDLMORNINGSTAR", "CDLONNECK", "CDLPIERCING",
    "CDLRICKSHAWMAN", "CDLRISEFALL3METHODS", "CDLSEPARATINGLINES", "CDLSHOOTINGSTAR",
    "CDLSHORTLINE", "CDLSPINNINGTOP", "CDLSTALLEDPATTERN", "CDLSTICKSANDWICH", "CDLTAKURI",
    "CDLTASUKIGAP", "CDLTHRUSTING", "CDLTRISTAR", "CDLUNIQUE3RIVER", "CDLUPSIDEGAP2CROWS",
    "CDLXSIDEGAP3METHODS", "AVGDEV", "AVGPRICE", "HA", "MEDPRICE", "TYPPRICE", "WCLPRICE",
    "BETA", "CORREL", "LINEARREG", "LINEARREG_ANGLE", "LINEARREG_INTERCEPT", "LINEARREG_SLOPE",
    "PERCENTILE", "PERCENTRANK", "STDDEV", "TSF", "VAR", "ADR", "ATR", "CVI", "MASSI", "NATR",
    "RVI", "TRANGE", "AD", "ADOSC", "CMF", "EFI", "MARKETFI", "NVI", "OBV", "PVI", "PVO", "PVT",
    "RVOL", "VWAP",
))

_NOT_FUNCTIONS = {
    "abstract": "TA-Lib's abstract API",
    "stream": "TA-Lib's stream API (fastpar's own streams are fastpar.stream)",
}


def __getattr__(name: str) -> Any:
    if name in _TALIB_FUNCTIONS:
        raise NotImplementedError(
            f"fastpar.talib.{name}: TA-Lib's {name} is not implemented in fastpar "
            f"(fastpar.talib.get_functions() lists the {len(_ROWS)} that are; fastpar never "
            "falls back to TA-Lib)")
    if name in _NOT_FUNCTIONS:
        raise NotImplementedError(
            f"fastpar.talib.{name}: {_NOT_FUNCTIONS[name]} is not implemented in fastpar; "
            "fastpar.talib has TA-Lib's function API")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["MA_Type", "get_functions", "get_function_groups", "set_unstable_period",
           "get_unstable_period", "set_compatibility", "get_compatibility", *_ROWS]
