"""The indicator table, and the Python functions made from it.

Every indicator is one row of the C table (``src/_fastpar/registry.h``):
its names, inputs, parameters (defaults and ranges), outputs. This module
reads the table once and writes, for each row, the functions users call:

* ``fastpar.<name>(inputs..., params..., *, threads=None, out=None)``: fastpar's
  names, 1-D or 2-D inputs (rows on the native pool), pandas Series in and
  out (:mod:`fastpar.indicators`);
* ``fastpar.talib.<NAME>(inputs..., params...)``: TA-Lib's names and
  defaults (:mod:`fastpar.talib`);
* ``fastpar.stream.<NAME>(**params)``: one value (or bar) at a time
  (:mod:`fastpar.stream`).

Each function is generated as Python source and compiled, so that it has a
real signature (``help()`` and ``inspect.signature`` show it) and costs no
more than a hand-written one: when every input is already a NumPy array it
calls the C entry point straight away, which checks and converts
everything with the messages users see.
"""

from __future__ import annotations

import keyword
import sys
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from . import _fastpar

__all__ = ["Param", "Indicator", "TABLE", "BY_NAME", "make_function", "as_array", "call"]


@dataclass(frozen=True)
class Param:
    name: str  # fastpar's keyword
    ta_name: str  # TA-Lib's
    kind: str  # "int", "real" or "matype"
    default: float
    lo: float
    hi: float

    @property
    def default_value(self) -> int | float:
        return int(self.default) if self.kind != "real" else float(self.default)

    def range_text(self) -> str:
        if self.kind == "matype":
            return "a moving-average type: 0-6, 8, 10 or 11 (MA_Type)"
        if self.kind == "real" and self.lo < -1e300:
            return "finite"
        fmt = (lambda v: f"{int(v)}") if self.kind != "real" else (lambda v: f"{v:g}")
        return f"[{fmt(self.lo)}, {fmt(self.hi)}]"


@dataclass(frozen=True)
class Indicator:
    name: str  # fastpar.<name>, fastpar.reference.<name>
    ta_name: str | None  # fastpar.talib.<ta_name>; None: no TA-Lib twin
    group: str
    summary: str
    inputs: tuple[str, ...]
    ta_inputs: tuple[str, ...]
    params: tuple[Param, ...]
    outputs: tuple[str, ...]
    fast_slow: bool  # params 0 and 1 are fast and slow periods

    @property
    def stream_name(self) -> str:
        return self.ta_name or self.name.upper()

    def lookback(self, *params: Any) -> int:
        """Leading NaNs on an input without NaNs, for TA-Lib-ordered params."""
        return _fastpar.lookback(self.name, *params)


def _read_table() -> tuple[Indicator, ...]:
    rows = []
    for r in _fastpar.indicator_table():
        rows.append(Indicator(
            name=r["name"], ta_name=r["ta_name"], group=r["group"], summary=r["summary"],
            inputs=tuple(r["inputs"]), ta_inputs=tuple(r["ta_inputs"]),
            params=tuple(Param(**p) for p in r["params"]), outputs=tuple(r["outputs"]),
            fast_slow=r["fast_slow"]))
    return tuple(rows)


TABLE: tuple[Indicator, ...] = _read_table()
BY_NAME: dict[str, Indicator] = {ind.name: ind for ind in TABLE}


# --------------------------------------------------------------------------
# Inputs other than NumPy arrays


def _series_type() -> type | None:
    pandas = sys.modules.get("pandas")  # no need to import pandas for users without it
    return pandas.Series if pandas is not None else None


def as_array(x: Any, name: str) -> np.ndarray:
    """x as a NumPy array for the C entry points, which check the rest."""
    if type(x) is np.ndarray:
        return x
    if isinstance(x, np.ma.MaskedArray):
        # The kernels do not read masks: the values under them would be used.
        if np.ma.is_masked(x):
            raise ValueError(
                f"{name} is a masked array with {int(np.ma.count_masked(x))} masked value(s); "
                "fastpar does not read masks: drop or fill those values first"
            )
        return x.data
    pandas = sys.modules.get("pandas")
    if pandas is not None and isinstance(x, pandas.DataFrame):
        raise TypeError(
            f"{name}: pass a Series, or a 2-D array with one series per row "
            f"(for one column per series: df.to_numpy().T), not a DataFrame"
        )
    return np.asarray(x)


def call(
    kernel: Callable[..., Any],
    names: Sequence[str],
    inputs: Sequence[Any],
    params: Sequence[Any],
    threads: Any,
    out: Any = None,
) -> Any:
    """Run one C entry point on inputs that are not all NumPy arrays: they
    become arrays first, and the results for a pandas Series are wrapped
    like it (same index and name), unless the caller gave its own `out`
    buffers, which are the result."""
    if any(getattr(type(x), "_traced", False) for x in (*inputs, *params)):
        return _trace(kernel.__name__, inputs, params, out)
    first = inputs[0]
    arrays = [as_array(x, n) for x, n in zip(inputs, names)]
    if out is None:
        result = kernel(*arrays, *params, threads)
    else:
        result = kernel(*arrays, *params, threads, out)
    series = _series_type()
    if out is not None or series is None or not isinstance(first, series):
        return result

    def wrap(a: np.ndarray) -> Any:
        return series(a, index=first.index, name=first.name)

    return tuple(wrap(a) for a in result) if isinstance(result, tuple) else wrap(result)


def _trace(name: str, inputs: Sequence[Any], params: Sequence[Any], out: Any) -> Any:
    """An indicator called inside a strategy (fastpar.strategy traces it)."""
    if name not in BY_NAME:
        ind = next(i for i in TABLE if i.ta_name == name)
        raise TypeError(f"talib.{name}: inside a strategy, call fastpar.{ind.name} "
                        "(fastpar's names and parameters)")
    if out is not None:
        raise TypeError(f"{name}: out= has no meaning inside a strategy")
    from .language import trace_indicator

    return trace_indicator(name, tuple(inputs), tuple(params))


# --------------------------------------------------------------------------
# The generated functions

_TEMPLATE = '''\
def {fname}({signature}):
    if {all_arrays}:
        return _kernel({inputs}, {params}{threads}{out})
    return _call(_kernel, _names, ({inputs},), ({params}{comma}), {threads_value}{out})
'''


def _safe(name: str) -> str:
    return name + "_" if keyword.iskeyword(name) else name


def _docstring(ind: Indicator, ta: bool) -> str:
    names = ind.ta_inputs if ta else ind.inputs
    lines = [ind.summary + ".", ""]
    lines.append("Inputs: " + ", ".join(names) + (
        " (1-D, or 2-D with one series per row; pandas Series give Series)."
        if not ta else " (arrays of equal length, or pandas Series)."))
    if ind.params:
        lines.append("Parameters:")
        for p in ind.params:
            name = p.ta_name if ta else p.name
            lines.append(f"    {name}: default {p.default_value!r}, {p.range_text()}")
    if len(ind.outputs) == 1:
        lines.append("Returns: one array as long as the input.")
    else:
        lines.append("Returns: the tuple (" + ", ".join(ind.outputs) + ").")
    lines.append("")
    lines.append(
        "Output values are NaN for the lookback after any leading NaNs (TA-Lib's "
        "convention); a NaN or infinity after the leading NaNs is a ValueError.")
    if ind.fast_slow:
        lines.append(
            "fast and slow are swapped when fast > slow, as TA-Lib does." if ta else
            f"{ind.params[0].name} must be below {ind.params[1].name}.")
    if not ta:
        lines.append("threads: for 2-D input, None = the pool's size, k = at most k threads.")
        lines.append(
            "out: float64 C-contiguous buffer(s) of the inputs' shape to write into and return "
            "(a tuple, one per output, for several outputs), sharing no memory with the inputs.")
        if ind.ta_name:
            lines.append(f"TA-Lib's {ind.ta_name}: fastpar.talib.{ind.ta_name}.")
    else:
        lines.append(f"fastpar's name: fastpar.{ind.name}.")
    return "\n".join(lines)


def make_function(ind: Indicator, ta: bool, module: str) -> Callable[..., Any]:
    """The Python function of one row, for `module`: TA-Lib's names
    (ta=True, no threads) or fastpar's."""
    fname = ind.ta_name if ta else ind.name
    inputs = [_safe(n) for n in (ind.ta_inputs if ta else ind.inputs)]
    params = [_safe(p.ta_name if ta else p.name) for p in ind.params]
    defaults = [f"{p}={q.default_value!r}" for p, q in zip(params, ind.params)]
    if ta:
        signature = ", ".join(inputs + defaults)
    else:
        # fastpar's matype parameters are keyword-only: the periods keep
        # their positions (stoch(h, l, c, 5, 3, 3) as before matypes).
        positional = [d for d, q in zip(defaults, ind.params) if q.kind != "matype"]
        keyword_only = [d for d, q in zip(defaults, ind.params) if q.kind == "matype"]
        signature = ", ".join(
            inputs + positional + ["*"] + keyword_only + ["threads=None", "out=None"])
    source = _TEMPLATE.format(
        fname=fname, signature=signature,
        all_arrays=" and ".join(f"type({x}) is _ndarray" for x in inputs),
        inputs=", ".join(inputs), params=", ".join(params),
        threads=(", " if params else "") + ("None" if ta else "threads"),
        comma="," if len(params) == 1 else "",
        threads_value="None" if ta else "threads",
        out="" if ta else ", out",
    )
    namespace: dict[str, Any] = {
        "__name__": module,
        "_kernel": getattr(_fastpar, ind.ta_name if ta else ind.name),
        "_names": tuple(ind.ta_inputs if ta else ind.inputs),
        "_ndarray": np.ndarray,
        "_call": call,
    }
    exec(compile(source, f"<fastpar {fname}>", "exec"), namespace)
    fn = namespace[fname]
    fn.__doc__ = _docstring(ind, ta)
    fn.__qualname__ = fname
    return fn
