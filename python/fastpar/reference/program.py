"""Readable definition of a fastpar.strategy: its expression evaluated node
by node, in Python, then traded by the sweeps' reference simulator.

``run(strat, bars, params, **costs)`` is what ``fastpar.sweep`` computes
for one parameter set (in C, src/_fastpar/program.c). Values are NumPy
arrays of floats, one per bar; a condition is an array of bools. Nodes
that read the trade's state are evaluated bar by bar while the simulator
runs, from the position before the bar.
"""

import math

import numpy as np

from .. import reference
from .._functions import TABLE
from .strategies import simulate


def _shift(x, k, fill):
    out = np.full(len(x), fill, dtype=x.dtype)
    out[k:] = x[:len(x) - k] if k else x
    return out


def _rolling(x, k, how):
    """`how` of each window of k bars; NaN until full or with a value that
    is not finite inside."""
    out = np.full(len(x), math.nan)
    for t in range(k - 1, len(x)):
        window = x[t - k + 1:t + 1]
        if np.all(np.isfinite(window)):
            if how == "sum":  # a running sum, as the kernel keeps it
                out[t] = _running_sum(x, t, k)
            elif how == "mean":
                out[t] = _running_sum(x, t, k) / k
            else:
                out[t] = window.max() if how == "max" else window.min()
    return out


def _running_sum(x, t, k):
    """The kernel's running sum at bar t: finite values added as they
    come, subtracted as they leave, in that order."""
    total = 0.0
    for i in range(t + 1):
        if math.isfinite(x[i]):
            total += x[i]
        if i >= k and math.isfinite(x[i - k]):
            total -= x[i - k]
    return total


def _bars_since(cond):
    out = np.full(len(cond), math.inf)
    last = None
    for t, c in enumerate(cond):
        if c:
            last = t
        if last is not None:
            out[t] = t - last
    return out


def _crossed_above(a, b):
    """vectorbt's crossed_above (wait 0)."""
    out = np.zeros(len(a), dtype=bool)
    was_below, ago = False, -1
    for t in range(len(a)):
        if math.isnan(a[t]) or math.isnan(b[t]):
            was_below, ago = False, -1
        elif a[t] > b[t]:
            if was_below:
                ago += 1
                out[t] = ago == 0
        elif a[t] == b[t]:
            ago = -1
        else:
            was_below, ago = True, -1
    return out


def _indicator(row, inputs, params):
    """The reference indicator with leading NaNs skipped (the C rule)."""
    ind = TABLE[row]
    n = len(inputs[0])
    begin = max((int(np.argmax(~np.isnan(x))) if np.any(~np.isnan(x)) else n) for x in inputs)
    outs = [np.full(n, math.nan) for _ in ind.outputs]
    if begin < n:
        q = [int(v) if p.kind != "real" else float(v) for v, p in zip(params, ind.params)]
        kw = {p.name: v for p, v in zip(ind.params, q)}
        got = getattr(reference, ind.name)(*[x[begin:] for x in inputs], **kw)
        got = got if isinstance(got, tuple) else (got,)
        for o, g in zip(outs, got):
            o[begin:] = g
    return outs


_ELEMENTWISE = {
    "ADD": lambda a, b: a + b,
    "SUB": lambda a, b: a - b,
    "MUL": lambda a, b: a * b,
    "DIV": lambda a, b: a / b,
    "NEG": lambda a: -a,
    "ABS": abs,
    "MIN": lambda a, b: math.nan if math.isnan(a) or math.isnan(b) else min(a, b),
    "MAX": lambda a, b: math.nan if math.isnan(a) or math.isnan(b) else max(a, b),
    "LT": lambda a, b: a < b,
    "LE": lambda a, b: a <= b,
    "GT": lambda a, b: a > b,
    "GE": lambda a, b: a >= b,
    "EQ": lambda a, b: a == b,
    "NE": lambda a, b: a != b,
    "AND": lambda a, b: bool(a) and bool(b),
    "OR": lambda a, b: bool(a) or bool(b),
    "NOT": lambda a: not a,
    "WHERE": lambda c, a, b: a if c else b,
}


class _Evaluator:
    """The strategy's nodes for one set: arrays where they do not read the
    trade's state, bar-by-bar values where they do."""

    def __init__(self, strat, bars, params):
        self.bars = {k: np.asarray(v, dtype=np.float64) for k, v in bars.items() if v is not None}
        self.n = len(self.bars["close"])
        self.values = dict(zip(strat.params, params))
        self.arrays = {}
        self.entry, self.exit = strat.entry, strat.exit
        # the trade's state (the simulator tells us about fills)
        self.entry_bar, self.exit_bar, self.highest, self.lowest = 0, None, math.nan, math.nan
        self.pos, self.base, self.t = 0.0, 0.0, 0

    def reads_state(self, e):
        return e.op == "STATE" or any(self.reads_state(a) for a in e.args)

    def array(self, e):
        """The node over all bars (it must not read the trade's state)."""
        if id(e) in self.arrays:
            return self.arrays[id(e)]
        if e.op == "const":
            v = np.full(self.n, e.sub)
        elif e.op == "param":
            v = np.full(self.n, float(self.values[e.sub]))
        elif e.op == "COLUMN":
            v = self.bars[("open", "high", "low", "close", "volume")[e.sub]]
        elif e.op == "INDICATOR":
            ind = TABLE[e.sub]
            inputs = [self.array(a) for a in e.args[:len(ind.inputs)]]
            params = [self.scalar(a) for a in e.args[len(ind.inputs):]]
            v = _indicator(e.sub, inputs, params)
            v = v[0] if len(v) == 1 else v  # several outputs: read through "output" nodes
        elif e.op == "output":
            v = self.array(e.args[0])[e.sub]
        elif e.op == "SHIFT":
            x = self.array(e.args[0])
            v = _shift(x.astype(np.float64), int(self.scalar(e.args[1])), e.args[2].sub)
        elif e.op.startswith("ROLL_"):
            how = e.op[5:].lower()
            v = _rolling(self.array(e.args[0]), int(self.scalar(e.args[1])), how)
        elif e.op == "BARS_SINCE":
            v = _bars_since(self.array(e.args[0]))
        elif e.op == "CROSS_ABOVE":
            v = _crossed_above(self.array(e.args[0]), self.array(e.args[1]))
        else:
            args = [self.array(a) for a in e.args]
            f = _ELEMENTWISE[e.op]
            v = np.array([f(*(float(a[t]) for a in args)) for t in range(self.n)], dtype=float)
        self.arrays[id(e)] = v
        return v

    def scalar(self, e):
        return e.sub if e.op == "const" else float(self.values[e.sub])

    def at(self, e, t):
        """The node at bar t, reading the trade's state before the bar."""
        if not self.reads_state(e):
            return float(self.array(e)[t])
        if e.op == "STATE":
            in_trade = self.pos != 0.0
            name = ("in_position", "is_long", "is_short", "entry_price", "bars_in_trade",
                    "highest_since_entry", "lowest_since_entry", "bars_since_exit")[e.sub]
            return {
                "in_position": in_trade,
                "is_long": self.pos > 0.0,
                "is_short": self.pos < 0.0,
                "entry_price": self.base if in_trade else math.nan,
                "bars_in_trade": t - self.entry_bar if in_trade else math.nan,
                "highest_since_entry": self.highest if in_trade else math.nan,
                "lowest_since_entry": self.lowest if in_trade else math.nan,
                "bars_since_exit": math.inf if self.exit_bar is None else t - self.exit_bar,
            }[name]
        return _ELEMENTWISE[e.op](*(self.at(a, t) for a in e.args))

    # the simulator's decide protocol
    def signals(self, t, pos, base):
        self.pos, self.base = pos, base
        c = self.bars["close"][t]
        if pos != 0.0:
            self.highest, self.lowest = max(self.highest, c), min(self.lowest, c)

        def truth(e):
            if e is None:
                return False
            v = self.at(e, t)
            return bool(v) and not (isinstance(v, float) and math.isnan(v))

        return truth(self.entry), truth(self.exit)

    def filled(self, t, before, after):
        if before != 0.0 and (after == 0.0 or (after > 0.0) != (before > 0.0)):
            self.exit_bar = t
        if after != 0.0 and (before == 0.0 or (after > 0.0) != (before > 0.0)):
            self.entry_bar = t
            self.highest = self.lowest = self.bars["close"][t]


def run(strat, bars, params, **costs):
    """Metrics dict of one parameter set (a tuple in strat.params' order)
    of `strat` on `bars` ({"close": ..., and the columns it reads})."""
    ev = _Evaluator(strat, bars, params)
    return simulate(ev.bars["close"], None, None, decide=ev, **costs)
