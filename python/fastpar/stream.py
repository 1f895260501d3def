"""Indicators one value (or one bar) at a time, computed in C.

    from fastpar import stream

    rsi = stream.RSI(timeperiod=14)
    for price in live_prices:
        value = rsi.update(price)             # NaN until the lookback is over

    adx = stream.ADX(timeperiod=14)
    adx.update(high, low, close)              # one value per input: one bar
    values = adx.extend(highs, lows, closes)  # many bars at once, as arrays

Each class is one indicator under its TA-Lib name, with TA-Lib's parameter
names and defaults (as :mod:`fastpar.talib`). After n values a stream gives
what the batch function gives at index n - 1 of the same series: the same
numbers, NaN over the lookback, leading NaNs skipped. A NaN or an infinity
after the start is a ValueError and leaves the stream unchanged.

The state is allocated once, when the stream is made; an update allocates
nothing in C. ``update`` returns a float, or a tuple of floats for several
outputs; ``extend`` takes arrays and returns arrays (a tuple of them),
looping in C without the GIL; ``reset()`` starts afresh; ``lookback`` is the
number of values before the first output.

A stream is for one thread at a time: updating one stream from two threads
at once raises RuntimeError (give each thread its own stream).
"""

from __future__ import annotations

from typing import Any

from . import _fastpar
from ._functions import TABLE, Indicator

Stream = _fastpar.Stream

_TEMPLATE = '''\
class {cls}(_Stream):
    def __init__(self, {signature}):
        _Stream.__init__(self, {name!r}, {params})
        self.params = {{{pairs}}}
'''


def _make_stream(ind: Indicator) -> type:
    cls = ind.stream_name
    # TA-Lib's parameter names, or fastpar's for indicators TA-Lib lacks
    names = [p.ta_name if ind.ta_name else p.name for p in ind.params]
    source = _TEMPLATE.format(
        cls=cls, name=ind.name,
        signature=", ".join(f"{n}={p.default_value!r}" for n, p in zip(names, ind.params)),
        params=", ".join(names), pairs=", ".join(f"{n!r}: {n}" for n in names))
    if not ind.params:
        source = source.replace("(self, ):", "(self):").replace(f"{ind.name!r}, )", f"{ind.name!r})")
    namespace: dict[str, Any] = {"__name__": __name__, "_Stream": Stream}
    exec(compile(source, f"<fastpar stream {cls}>", "exec"), namespace)
    klass = namespace[cls]
    klass.inputs = ind.ta_inputs
    klass.outputs = ind.outputs
    klass.__repr__ = lambda self: (
        f"fastpar.stream.{cls}(" + ", ".join(f"{k}={v!r}" for k, v in self.params.items()) + ")")
    inputs = ", ".join(ind.ta_inputs)
    klass.__doc__ = (
        f"{ind.summary}, one {'value' if len(ind.inputs) == 1 else 'bar'} at a time: "
        f"update({inputs}) -> " + (
            "float" if len(ind.outputs) == 1 else "(" + ", ".join(ind.outputs) + ")")
        + f". Batch twin: fastpar.{ind.name}.")
    return klass


globals().update({ind.stream_name: _make_stream(ind) for ind in TABLE})

__all__ = ["Stream", *(ind.stream_name for ind in TABLE)]
