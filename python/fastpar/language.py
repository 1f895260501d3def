"""Your own strategies: Python expressions over fastpar's functions, run in C.

``fastpar.strategy(entry=..., exit=...)`` calls the two functions once,
with symbolic bars ``b`` and parameters ``p``: each operator and each
fastpar function builds one node of an expression instead of computing
an array. The strategy is that expression, compiled into a program of
the C engine (``src/_fastpar/program.h``), which ``fastpar.sweep`` runs
over every parameter set of a grid with the GIL released, on the pool::

    strat = fastpar.strategy(
        entry=lambda b, p: (fastpar.rsi(b.close, p.period) < p.low)
                           & (b.close > fastpar.sma(b.close, 200)),
        exit=lambda b, p: fastpar.rsi(b.close, p.period) > p.high,
    )
    df = fastpar.sweep(bars, strat, {"period": range(2, 51), "low": [25, 30], "high": [70, 75]})

What a strategy can read and do is in docs/strategies.md; the readable
definition of each instruction is :mod:`fastpar.reference.program`.
Mistakes (a boolean used as a number, ``and`` instead of ``&``, a
parameter that cannot be a period) are errors that name the expression,
raised when the strategy is written or before a sweep starts.
"""

from __future__ import annotations

import hashlib
import math
import numbers
from typing import Any, Callable

import numpy as np

from . import _fastpar
from ._functions import BY_NAME, TABLE
from ._numbers import finite_real

__all__ = ["Strategy", "strategy", "shift", "rolling_max", "rolling_min", "rolling_sum",
           "rolling_mean", "bars_since", "crossed_above", "crossed_below", "where", "minimum",
           "maximum"]

# The engine's codes, by name (program.c's tables, read once).
_OPS = {name: i for i, name in enumerate(_fastpar.PROGRAM["ops"])}
_COLUMNS = {name: i for i, name in enumerate(_fastpar.PROGRAM["columns"])}
_STATES = {name: i for i, name in enumerate(_fastpar.PROGRAM["states"])}
_ROW = {ind.name: i for i, ind in enumerate(TABLE)}
_BOOL_STATES = ("in_position", "is_long", "is_short")


class Expr:
    """A value of a strategy, one per bar: a number or a condition (bool).

    Built by tracing; combine with + - * / and unary -, abs(), the
    comparisons, and & | ~ for conditions."""

    __slots__ = ("op", "sub", "args", "kind", "text")
    _traced = True  # fastpar's functions trace what carries this
    __hash__ = object.__hash__
    __array_ufunc__ = None  # NumPy functions do not apply: fastpar's do

    def __init__(self, op: str, sub: Any, args: tuple, kind: str, text: str):
        self.op, self.sub, self.args, self.kind, self.text = op, sub, args, kind, text

    def __repr__(self) -> str:
        return self.text

    def __bool__(self):
        raise TypeError(
            f"{self.text}: a strategy expression has no truth value while it is traced; "
            "combine conditions with &, | and ~ (not and, or, not), and use "
            "fastpar.where(cond, a, b) instead of if/else"
        )

    def __iter__(self):
        raise TypeError(f"{self.text} is one value per bar, not a sequence")

    # arithmetic
    def __add__(self, o): return _binary("ADD", "+", self, o)
    def __radd__(self, o): return _binary("ADD", "+", o, self)
    def __sub__(self, o): return _binary("SUB", "-", self, o)
    def __rsub__(self, o): return _binary("SUB", "-", o, self)
    def __mul__(self, o): return _binary("MUL", "*", self, o)
    def __rmul__(self, o): return _binary("MUL", "*", o, self)
    def __truediv__(self, o): return _binary("DIV", "/", self, o)
    def __rtruediv__(self, o): return _binary("DIV", "/", o, self)
    def __neg__(self): return _unary("NEG", "-{}", self)
    def __pos__(self): return _number(self, "+")
    def __abs__(self): return _unary("ABS", "abs({})", self)

    # comparisons (NaN compares false)
    def __lt__(self, o): return _binary("LT", "<", self, o, "bool")
    def __le__(self, o): return _binary("LE", "<=", self, o, "bool")
    def __gt__(self, o): return _binary("GT", ">", self, o, "bool")
    def __ge__(self, o): return _binary("GE", ">=", self, o, "bool")
    def __eq__(self, o): return _binary("EQ", "==", self, o, "bool")  # type: ignore[override]
    def __ne__(self, o): return _binary("NE", "!=", self, o, "bool")  # type: ignore[override]

    # conditions
    def __and__(self, o): return _logic("AND", "&", self, o)
    def __rand__(self, o): return _logic("AND", "&", o, self)
    def __or__(self, o): return _logic("OR", "|", self, o)
    def __ror__(self, o): return _logic("OR", "|", o, self)

    def __invert__(self):
        _condition(self, "~")
        return Expr("NOT", 0, (self,), "bool", f"~{self.text}")

    def __getattr__(self, name):
        if name.startswith("__") or name in Expr.__slots__:  # pickle, copy: not set yet
            raise AttributeError(name)
        raise AttributeError(
            f"{self.text} has no attribute {name!r} (a strategy reads bars as b.close, "
            "b.high, ..., and parameters as p.<name>)")


def _const(v: Any, where: str) -> Expr:
    if isinstance(v, Expr):
        return v
    if isinstance(v, (bool, np.bool_)):
        return Expr("const", float(v), (), "bool", repr(bool(v)))
    if isinstance(v, numbers.Real):
        if not finite_real(v):
            raise ValueError(f"{where}: constants must be finite, got {v!r}")
        return Expr("const", float(v), (), "num", repr(v))
    raise TypeError(
        f"{where}: {type(v).__name__} is not a strategy value (a number, b.<column>, "
        "p.<parameter> or an expression of them; arrays are read through b, not passed in)")


def _number(e: Expr, where: str) -> Expr:
    if e.kind != "num":
        raise TypeError(f"{where}: {e.text} is a condition (a boolean), used as a number")
    return e


def _condition(e: Expr, where: str) -> Expr:
    if e.kind != "bool":
        raise TypeError(
            f"{where}: {e.text} is a number, used as a condition (compare it: x > 0)")
    return e


def _binary(op: str, sym: str, a: Any, b: Any, kind: str = "num") -> Expr:
    where = f"{_text(a)} {sym} {_text(b)}"
    a, b = _number(_const(a, where), where), _number(_const(b, where), where)
    return Expr(op, 0, (a, b), kind, f"({a.text} {sym} {b.text})")


def _unary(op: str, fmt: str, a: Expr) -> Expr:
    _number(a, fmt.format(a.text))
    return Expr(op, 0, (a,), "num", fmt.format(a.text))


def _logic(op: str, sym: str, a: Any, b: Any) -> Expr:
    where = f"{_text(a)} {sym} {_text(b)}"
    a, b = _const(a, where), _const(b, where)
    _condition(a, where)
    _condition(b, where)
    return Expr(op, 0, (a, b), "bool", f"({a.text} {sym} {b.text})")


def _text(v: Any) -> str:
    return v.text if isinstance(v, Expr) else repr(v)


def _series(x: Any, fn: str) -> Expr:
    if not isinstance(x, Expr) or x.op in ("const", "param"):
        raise TypeError(f"{fn}: the first argument is a series of the strategy (b.close, an "
                        f"indicator, ...), got {_text(x)}")
    return x


def _period(v: Any, fn: str, name: str, what: str = "a whole number") -> Expr:
    """A period (or another indicator parameter): a number or a parameter
    p.<name>, whose values are checked per set."""
    if isinstance(v, Expr):
        if v.op != "param":
            raise TypeError(f"{fn}: {name} must be a number or a parameter p.<name>, "
                            f"not the expression {v.text}")
        return v
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
        raise TypeError(f"{fn}: {name} must be {what}, got {v!r}")
    return _const(v, fn)


# --------------------------------------------------------------------------
# The functions of the language (fastpar's indicators trace through
# _functions.call, which sends symbolic inputs to trace_indicator)


def shift(x: Expr, bars: Any = 1) -> Expr:
    """x as it was `bars` bars ago (NaN before, False for a condition)."""
    fn = f"shift({_text(x)}, {_text(bars)})"
    x = _series(x, fn)
    fill = Expr("const", 0.0 if x.kind == "bool" else math.nan, (), x.kind, "fill")
    return _check_constants(Expr("SHIFT", 0, (x, _period(bars, fn, "bars"), fill), x.kind, fn))


def _rolling(op: str, name: str, x: Expr, window: Any) -> Expr:
    fn = f"{name}({_text(x)}, {_text(window)})"
    x = _number(_series(x, fn), fn)
    return _check_constants(Expr(op, 0, (x, _period(window, fn, "window")), "num", fn))


def rolling_max(x: Expr, window: Any) -> Expr:
    """Highest x over the last `window` bars, this one included (NaN until
    the window is full, or while it holds a value that is not finite)."""
    return _rolling("ROLL_MAX", "rolling_max", x, window)


def rolling_min(x: Expr, window: Any) -> Expr:
    """Lowest x over the last `window` bars (as rolling_max)."""
    return _rolling("ROLL_MIN", "rolling_min", x, window)


def rolling_sum(x: Expr, window: Any) -> Expr:
    """Sum of x over the last `window` bars (as rolling_max)."""
    return _rolling("ROLL_SUM", "rolling_sum", x, window)


def rolling_mean(x: Expr, window: Any) -> Expr:
    """Mean of x over the last `window` bars (as rolling_max)."""
    return _rolling("ROLL_MEAN", "rolling_mean", x, window)


def bars_since(cond: Expr) -> Expr:
    """Bars since `cond` was last true: 0 on a bar where it is, infinite
    before it ever was (so `bars_since(c) >= 10` holds then)."""
    fn = f"bars_since({_text(cond)})"
    return Expr("BARS_SINCE", 0, (_condition(_series(cond, fn), fn),), "num", fn)


def crossed_above(a: Any, b: Any) -> Expr:
    """True on the bar where `a` goes above `b`, having been below it
    (vectorbt's crossed_above: after a NaN, `a` must first be below again).
    `b` may be a level: a number or a parameter."""
    fn = f"crossed_above({_text(a)}, {_text(b)})"
    return _cross(_series(a, fn), _const(b, fn), fn)


def crossed_below(a: Any, b: Any) -> Expr:
    """True on the bar where `a` goes below `b`, having been above it."""
    fn = f"crossed_below({_text(a)}, {_text(b)})"
    return _cross(_const(b, fn), _series(a, fn), fn)


def _cross(a: Expr, b: Expr, fn: str) -> Expr:
    _number(a, fn)
    _number(b, fn)
    # a level (a number or a parameter) is compared bar by bar with the series
    a, b = (_as_series(a, fn), _as_series(b, fn))
    return Expr("CROSS_ABOVE", 0, (a, b), "bool", fn)


def _as_series(x: Expr, fn: str) -> Expr:
    if x.op not in ("const", "param"):
        return x
    # level + 0 * close: a series of that level (NaN-free), read from history
    zero = Expr("MUL", 0, (_const(0.0, fn), Bars().close), "num", "0")
    return Expr("ADD", 0, (zero, x), "num", x.text)


def where(cond: Any, a: Any, b: Any) -> Expr:
    """a on bars where `cond` holds, else b (both numbers or both conditions)."""
    fn = f"where({_text(cond)}, {_text(a)}, {_text(b)})"
    cond, a, b = _condition(_const(cond, fn), fn), _const(a, fn), _const(b, fn)
    if a.kind != b.kind:
        raise TypeError(f"{fn}: one branch is a number, the other a condition")
    return Expr("WHERE", 0, (cond, a, b), a.kind, fn)


def minimum(a: Any, b: Any) -> Expr:
    """The smaller of a and b, bar by bar (NaN if either is NaN)."""
    fn = f"minimum({_text(a)}, {_text(b)})"
    a, b = _number(_const(a, fn), fn), _number(_const(b, fn), fn)
    return Expr("MIN", 0, (a, b), "num", fn)


def maximum(a: Any, b: Any) -> Expr:
    """The larger of a and b, bar by bar (NaN if either is NaN)."""
    fn = f"maximum({_text(a)}, {_text(b)})"
    a, b = _number(_const(a, fn), fn), _number(_const(b, fn), fn)
    return Expr("MAX", 0, (a, b), "num", fn)


def trace_indicator(name: str, inputs: tuple, params: tuple) -> Any:
    """fastpar.<name> called on symbolic inputs: its node (a tuple of nodes
    for several outputs). Parameters are numbers or parameters p.<name>."""
    ind = BY_NAME[name]
    fn = f"{name}({', '.join(_text(x) for x in inputs)}" + "".join(
        f", {q.name}={_text(v)}" for q, v in zip(ind.params, params)
        if isinstance(v, Expr) or v != q.default_value) + ")"
    ins = []
    for x, label in zip(inputs, ind.inputs):
        if not isinstance(x, Expr):
            raise TypeError(f"{fn}: every input of an indicator in a strategy is a series of the "
                            f"strategy; {label} is {type(x).__name__}")
        ins.append(_number(_series(x, fn), fn))
    ps = [_period(v, fn, q.name, "a whole number" if q.kind != "real" else "a number")
          for v, q in zip(params, ind.params)]
    node = _check_constants(Expr("INDICATOR", _ROW[name], tuple(ins) + tuple(ps), "num", fn))
    if len(ind.outputs) == 1:
        return node
    return tuple(Expr("output", k, (node,), "num", f"{fn}[{k}]")
                 for k in range(len(ind.outputs)))


# --------------------------------------------------------------------------
# Tracing


class Bars:
    """The symbolic bars a strategy reads: b.open, b.high, b.low, b.close,
    b.volume, and the trade's state (docs/strategies.md)."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Expr:
        if name in _COLUMNS:
            return Expr("COLUMN", _COLUMNS[name], (), "num", f"b.{name}")
        if name in _STATES:
            kind = "bool" if name in _BOOL_STATES else "num"
            return Expr("STATE", _STATES[name], (), kind, f"b.{name}")
        raise AttributeError(
            f"b.{name}: bars have {', '.join(_COLUMNS)} and the trade's state "
            f"{', '.join(_STATES)}")


class Params:
    """The symbolic parameters: p.<name> is the grid's column <name>."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Expr:
        if name.startswith("__"):
            raise AttributeError(name)
        return Expr("param", name, (), "num", f"p.{name}")


class Strategy:
    """A strategy written with fastpar's functions (see fastpar.strategy)."""

    def __init__(self, entry: Callable, exit: Callable | None = None, *, name: str = "strategy"):
        b, p = Bars(), Params()
        self.name = str(name)
        self.entry = self._signal(entry, b, p, "entry")
        self.exit = self._signal(exit, b, p, "exit") if exit is not None else None
        self._compile()

    @staticmethod
    def _signal(fn: Callable, b: Bars, p: Params, which: str) -> Expr:
        if not callable(fn):
            raise TypeError(f"{which} must be a function (b, p) -> condition, got "
                            f"{type(fn).__name__}")
        e = fn(b, p)
        if isinstance(e, (bool, np.bool_)) or (isinstance(e, Expr) and e.op == "const"):
            raise TypeError(f"{which} is the constant {_text(e)}: a signal reads the bars "
                            "(for no exit signal, leave exit out)")
        if not isinstance(e, Expr):
            raise TypeError(f"{which} must return a condition of the strategy, got "
                            f"{type(e).__name__} (did it compute on arrays instead of b?)")
        if e.kind != "bool":
            raise TypeError(f"{which}: {e.text} is a number, not a condition "
                            "(compare it: ... > 0)")
        return e

    def _compile(self) -> None:
        """The program: nodes in dependency order, equal nodes once."""
        self.params: tuple[str, ...] = ()
        params: dict[str, int] = {}
        interned: dict[tuple, Any] = {}
        code: list[tuple] = []
        texts: list[str] = []
        nodes: list[Expr] = []
        slots = [0]
        columns = {"close"}

        def operand(e: Expr) -> tuple:
            if e.op == "const":
                return (0, 0, e.sub)
            if e.op == "param":
                if e.sub not in params:
                    params[e.sub] = len(params)
                return (1, params[e.sub], 0.0)
            if e.op == "output":
                call = visit(e.args[0])
                return (2, call[1] + e.sub, 0.0)
            return visit(e)

        def visit(e: Expr) -> tuple:
            ops = tuple(operand(a) for a in e.args)
            key = (e.op, e.sub, ops)
            if key in interned:
                return interned[key]
            if e.op == "COLUMN":
                columns.add(_fastpar.PROGRAM["columns"][e.sub])
            code.append((_OPS[e.op], e.sub if e.op in ("COLUMN", "INDICATOR", "STATE") else 0,
                         ops))
            texts.append(e.text)
            nodes.append(e)
            ref = (2, slots[0], 0.0)
            slots[0] += len(TABLE[e.sub].outputs) if e.op == "INDICATOR" else 1
            interned[key] = ref
            return ref

        _check_series_inputs(self.entry)
        if self.exit is not None:
            _check_series_inputs(self.exit)
        self._entry_slot = operand(self.entry)
        self._exit_slot = operand(self.exit) if self.exit is not None else None
        self.params = tuple(params)
        self.code = tuple(code)
        self.texts = tuple(texts)
        self._nodes = tuple(nodes)
        self.columns = tuple(c for c in _fastpar.PROGRAM["columns"] if c in columns)
        self.identity = "strategy " + hashlib.sha256(
            repr((self.code, self.params, self._entry_slot, self._exit_slot)).encode()
        ).hexdigest()[:16] + f" ({self.describe()})"

    def slot(self, which: str) -> int:
        """The program's slot of the entry or exit signal (-1: never)."""
        ref = self._entry_slot if which == "entry" else self._exit_slot
        return -1 if ref is None else ref[1]

    def uses(self, name: str) -> str:
        """The first expression that reads parameter `name`."""
        for node in self._nodes:
            if any(a.op == "param" and a.sub == name for a in node.args):
                return node.text
        return f"p.{name}"

    def check_sets(self, params: np.ndarray, n_bars: int) -> None:
        """ValueError naming the expression, before any work, for a set a
        period cannot take (checked per set), or whose entry cannot fire
        on n_bars bars (its warm-up is as long as the data)."""
        for node in self._nodes:
            for position, arg, what, lo, hi, whole in _limits(node):
                if arg.op != "param":
                    continue
                v = params[:, self.params.index(arg.sub)]
                bad = ~((v >= lo) & (v <= hi) & ((v == np.floor(v)) if whole else True))
                if np.any(bad):
                    j = int(np.argmax(bad))
                    raise ValueError(
                        f"{self.name}: {node.text}: {position} must be {what}, got "
                        f"{arg.sub}={_fmt(v[j])} (in the set {self._set_text(params[j])})")
            if node.op == "INDICATOR" and TABLE[node.sub].fast_slow:
                ind = TABLE[node.sub]
                pair = [_values(a, params, self.params) for a in node.args[len(ind.inputs):][:2]]
                bad = pair[0] >= pair[1]
                if np.any(bad):
                    j = int(np.argmax(bad))
                    raise ValueError(
                        f"{self.name}: {node.text}: {ind.params[0].name} must be below "
                        f"{ind.params[1].name} (in the set {self._set_text(params[j])})")
        # the warm-up of the entry, once per distinct combination of periods
        periods = sorted({self.params.index(a.sub) for node in self._nodes
                          for _, a, *_ in _limits(node) if a.op == "param"})
        rows = np.unique(params[:, periods], axis=0) if periods and len(params) else \
            np.zeros((1, 0))
        for row in rows:
            values = {self.params[c]: v for c, v in zip(periods, row)}
            memo: dict[int, int] = {}
            need = _warmup(self.entry, values, memo)
            if need >= n_bars:
                culprit = min((e for e in self._nodes if memo.get(id(e), 0) >= n_bars),
                              key=lambda e: memo[id(e)])
                setting = ", ".join(f"{k}={_fmt(v)}" for k, v in values.items())
                raise ValueError(
                    f"{self.name}: {culprit.text} is NaN for its first {memo[id(culprit)]:,} bars"
                    + (f" with {setting}" if setting else "")
                    + f"; the data has {n_bars:,}, so the entry never fires: narrow the grid or "
                    "give more bars")

    def _set_text(self, row: np.ndarray) -> str:
        return ", ".join(f"{k}={_fmt(v)}" for k, v in zip(self.params, row))

    def explain(self, error: ValueError, params: np.ndarray) -> ValueError:
        """The engine's ValueError(message, instruction, set) in the
        strategy's own words."""
        if len(error.args) != 3:
            return error
        message, instr, set_index = error.args
        where = self.texts[instr] if 0 <= instr < len(self.texts) else "the program"
        if "not finite" in message:
            text = (f"{self.name}: {where} was fed a value that is not finite (a division by "
                    "zero?); the indicators take finite series")
        else:
            text = f"{self.name}: {where}: invalid"
        if set_index >= 0:
            text += f" (in the set {self._set_text(params[set_index])})"
        return ValueError(text)

    def describe(self) -> str:
        exit_text = self.exit.text if self.exit is not None else "never"
        return f"entry={self.entry.text}, exit={exit_text}"

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<fastpar.Strategy {self.name!r}: {self.describe()}>"


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def _values(arg: Expr, params: np.ndarray, names: tuple) -> np.ndarray:
    if arg.op == "param":
        return params[:, names.index(arg.sub)]
    return np.full(len(params), arg.sub)


def _limits(node: Expr):
    """(name, operand, description, lo, hi, whole) of each operand of
    `node` that has a range: indicator parameters, shifts, windows."""
    if node.op == "INDICATOR":
        ind = TABLE[node.sub]
        for q, arg in zip(ind.params, node.args[len(ind.inputs):]):
            if q.kind == "matype":
                yield q.name, arg, q.range_text(), 0, 10, True
            else:
                yield q.name, arg, "in " + q.range_text(), q.lo, q.hi, q.kind == "int"
    elif node.op == "SHIFT":
        yield "bars", node.args[1], f"a whole number in [0, {_fastpar.MAX_PERIOD}]", \
            0, _fastpar.MAX_PERIOD, True
    elif node.op.startswith("ROLL_"):
        yield "window", node.args[1], f"a whole number in [1, {_fastpar.MAX_PERIOD}]", \
            1, _fastpar.MAX_PERIOD, True


def _check_constants(node: Expr) -> Expr:
    """The node, once its constant periods and parameters are in range."""
    for position, arg, what, lo, hi, whole in _limits(node):
        v = arg.sub
        if arg.op == "const" and not (lo <= v <= hi and (not whole or float(v).is_integer())):
            raise ValueError(f"{node.text}: {position} must be {what}, got {_fmt(v)}")
    if node.op == "INDICATOR" and TABLE[node.sub].fast_slow:
        ind = TABLE[node.sub]
        fast, slow = node.args[len(ind.inputs):][:2]
        if fast.op == "const" and slow.op == "const" and fast.sub >= slow.sub:
            raise ValueError(f"{node.text}: {ind.params[0].name} must be below "
                             f"{ind.params[1].name}")
    return node


_SERIES_OPS = ("INDICATOR", "SHIFT", "ROLL_MAX", "ROLL_MIN", "ROLL_SUM", "ROLL_MEAN",
               "BARS_SINCE", "CROSS_ABOVE")


def _reads_state(e: Expr) -> bool:
    return e.op == "STATE" or any(_reads_state(a) for a in e.args)


def _check_series_inputs(e: Expr) -> None:
    """TypeError for a series (an indicator, shift, window, ...) of a value
    that reads the trade's state: its history is not known in advance."""
    if e.op in _SERIES_OPS and any(_reads_state(a) for a in e.args):
        raise TypeError(
            f"{e.text}: reads the trade's state (b.in_position, b.entry_price, ...), whose "
            "history depends on the fills; the trade's state goes in the bar-by-bar part "
            "(comparisons, &, |, where)")
    for a in e.args:
        _check_series_inputs(a)


def _warmup(e: Expr, values: dict, memo: dict) -> int:
    """Bars at the start where `e` is NaN (or cannot be true), for the
    periods `values`; memo[id(node)] keeps each node's."""
    if id(e) in memo:
        return memo[id(e)]
    if e.op in ("const", "param"):
        return 0

    def value(a: Expr) -> float:
        return values[a.sub] if a.op == "param" else a.sub

    if e.op == "INDICATOR":
        ind = TABLE[e.sub]
        before = max(_warmup(a, values, memo) for a in e.args[:len(ind.inputs)])
        q = [value(a) for a in e.args[len(ind.inputs):]]
        q = [int(v) if p.kind != "real" else float(v) for v, p in zip(q, ind.params)]
        w = before + ind.lookback(*q)
    elif e.op == "output":
        w = _warmup(e.args[0], values, memo)
    elif e.op == "SHIFT":
        w = _warmup(e.args[0], values, memo) + int(value(e.args[1]))
    elif e.op.startswith("ROLL_"):
        w = _warmup(e.args[0], values, memo) + int(value(e.args[1])) - 1
    elif e.op == "CROSS_ABOVE":
        w = max(_warmup(a, values, memo) for a in e.args) + 1
    elif e.op in ("BARS_SINCE", "STATE", "COLUMN"):
        w = 0
    else:
        w = max(_warmup(a, values, memo) for a in e.args)
    memo[id(e)] = w
    return w


def from_text(entry: str, exit: str | None = None, *, name: str = "strategy") -> Strategy:
    """A strategy from expressions in text, as the command line takes them:
    ``from_text("rsi(b.close, p.period) < p.low", "rsi(b.close, p.period) > p.high")``.

    The expressions read ``b`` and ``p`` as in :func:`strategy`, and
    fastpar's functions by their names (``rsi``, ``sma``, ``shift``,
    ``crossed_above``, ...; ``fastpar.rsi`` works too)."""
    import fastpar

    names = {name: getattr(fastpar, name) for name in fastpar.FUNCTIONS}
    names.update({f: globals()[f] for f in __all__ if f not in ("Strategy", "strategy")})
    names.update({"fastpar": fastpar, "abs": abs})

    def compiled(text: str, which: str) -> Callable:
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{which}: an expression, got {text!r}")
        try:
            code = compile(text, f"<{which}>", "eval")
        except SyntaxError as e:
            raise ValueError(f"{which} {text!r}: not a Python expression ({e.msg})") from None

        def fn(b: Bars, p: Params) -> Any:
            try:
                return eval(code, {"__builtins__": {}, **names}, {"b": b, "p": p})
            except NameError as e:
                raise ValueError(f"{which} {text!r}: {e}; the functions are fastpar's "
                                 "(rsi, sma, shift, crossed_above, ...)") from None
        return fn

    return Strategy(compiled(entry, "entry"), compiled(exit, "exit") if exit else None,
                    name=name)


def from_file(path: Any) -> Strategy:
    """The strategy a Python file defines: its variable ``strategy``, or its
    one Strategy object."""
    import runpy

    try:
        found = runpy.run_path(str(path))
    except Exception as e:  # the user's file: whatever it raised, as an input error
        raise ValueError(f"{path}: {type(e).__name__}: {e}") from None
    if isinstance(found.get("strategy"), Strategy):
        return found["strategy"]
    objs = [v for k, v in found.items() if isinstance(v, Strategy) and not k.startswith("_")]
    if len(objs) != 1:
        raise ValueError(f"{path}: define one strategy (strategy = fastpar.strategy(...)); "
                         f"found {len(objs)}")
    return objs[0]


def strategy(entry: Callable, exit: Callable | None = None, *, name: str = "strategy") -> Strategy:
    """A strategy from two functions of the bars `b` and the parameters `p`.

    entry(b, p), exit(b, p): conditions, written with fastpar's functions
        (every indicator, shift, rolling_max/min/sum/mean, bars_since,
        crossed_above/below, where, minimum, maximum), the operators
        + - * / < <= > >= == != & | ~, numbers, the bars' columns
        (b.open, b.high, b.low, b.close, b.volume), the trade's state
        (b.in_position, b.is_long, b.is_short, b.entry_price,
        b.bars_in_trade, b.highest_since_entry, b.lowest_since_entry,
        b.bars_since_exit) and parameters p.<name>, the grid's columns.
        exit None: only stops (and, long-short, entries) end a trade.
    name: the strategy's name in messages and progress bars.

    Each function is called once, to trace it; sweeps then run it in C.
    See docs/strategies.md.
    """
    return Strategy(entry, exit, name=name)
