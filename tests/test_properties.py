"""Property-based tests: every kernel against fastpar.reference, and the
scenario configuration readers, on inputs Hypothesis generates.

Kernels: random lengths (0 and 1 included), dtypes, 1-D and 2-D layouts,
leading NaNs, NaN and +/-inf anywhere, magnitudes from 2**-490 to 2**490,
every period from -2 to past the longest accepted one, non-integer periods
and non-finite multipliers. For each input either
- fastpar and the reference both return, and agree (same NaN positions,
  values within a relative tolerance), or
- fastpar raises ValueError/TypeError with one of its documented messages
  (docs/errors.md), and whenever the reference rejects an input fastpar
  rejects it too.
Agreement is tested on data with exact dyadic values (a scale that is a
power of two times multiples of 1/64), where running sums are exact and any
difference is a real one; arbitrary finite doubles up to 1e308 (whose sums
may overflow, which is not an error) must not crash and keep the
documented NaN prefix.

Configuration: random text as a scenario-set file, and valid documents with
random parts replaced, removed or added, through ScenarioConfigLoader,
BrokerConfig and AppConfig: only ConfigError, never KeyError, TypeError,
AttributeError, OverflowError, ... The strategy is not the loader's to
check (the batch_orchestrator API checks it when a scenario runs): a
scenario with a broken strategy, and any document that loads, runs through
run_scenarios without raising, each scenario giving a result or its own
error of the kinds docs/errors.md lists (SCENARIO_ERRORS below).

Example counts come from the Hypothesis profile "fastpar" below
(FASTPAR_HYPOTHESIS_EXAMPLES overrides it); the file runs in well under a
minute.
"""

import collections
import copy
import json
import math
import os
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import fastpar
from fastpar import reference
from fastpar import _fastpar
from fastpar.framework import Framework
from fastpar.scenario_config import (
    AppConfig,
    BrokerConfig,
    ConfigError,
    ScenarioConfigLoader,
    data_path,
)
from fastpar.scenarios import (
    ScenarioResult,
    create_workers,
    prepare_scenario,
    run_scenarios,
)

EXAMPLES = int(os.environ.get("FASTPAR_HYPOTHESIS_EXAMPLES", "120"))
settings.register_profile(
    "fastpar",
    max_examples=EXAMPLES,
    deadline=None,  # the machine may be busy; speed is not under test here
    # CI (CI=true) replays the same examples every run; elsewhere each run
    # explores new ones.
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("fastpar")

MAX = fastpar.MAX_PERIOD

# Every message fastpar's indicators may raise with (docs/errors.md).
DOCUMENTED = [
    r"must be in \[1, 100000\], got -?\d+$",
    r"must be an integer, got \w+$",
    r"must be finite, got",
    r"is empty \(shape",
    r"input contains NaN or inf after its leading NaNs$",
    r"macd needs fast < slow, got fast=\d+, slow=\d+$",
    r"must hold real numbers, got dtype",
    r"must have the same shape, got",
    r"must be 1-D \(one series\) or 2-D \(one series per row\)",
    r"must be a real number, got \w+$",
    r"threads must be None or",
]


def assert_documented(exc):
    assert type(exc) in (ValueError, TypeError), f"{type(exc).__name__}: {exc}"
    text = str(exc)
    assert any(re.search(p, text) for p in DOCUMENTED), f"undocumented message: {text!r}"


# ---------------------------------------------------------------------------
# The kernels: name -> (fastpar function, reference function, n inputs,
# integer parameters, float parameters)
# ---------------------------------------------------------------------------

KERNELS = {
    "sma": (fastpar.sma, reference.sma, 1, 1, 0),
    "ema": (fastpar.ema, reference.ema, 1, 1, 0),
    "wma": (fastpar.wma, reference.wma, 1, 1, 0),
    "rsi": (fastpar.rsi, reference.rsi, 1, 1, 0),
    "rsi_simple": (
        lambda x, p, **kw: fastpar.rsi(x, p, method="simple", **kw),
        lambda x, p: reference.rsi(x, p, method="simple"),
        1,
        1,
        0,
    ),
    "stddev": (fastpar.stddev, reference.stddev, 1, 1, 1),
    "bbands": (fastpar.bbands, reference.bbands, 1, 1, 2),
    "envelope": (fastpar.envelope, reference.envelope, 1, 1, 1),
    "macd": (fastpar.macd, reference.macd, 1, 3, 0),
    "atr": (fastpar.atr, reference.atr, 3, 1, 0),
    "stoch": (fastpar.stoch, reference.stoch, 3, 3, 0),
}
# Outputs bounded whatever the data (0..100): compared with an absolute
# tolerance of their own; the others scale with the data.
OSCILLATORS = {"rsi", "rsi_simple", "stoch"}

valid_period = st.integers(1, 40)
any_int_period = st.one_of(
    st.integers(-2, 45),
    st.sampled_from([MAX, MAX + 1, 10**9, -(10**9)]),
)
bad_type_period = st.sampled_from([2.5, "3", None, 3.0, [3], np.float64(4.0)])
any_period = st.one_of(valid_period, valid_period, any_int_period, bad_type_period)
finite_mult = st.floats(-4.0, 4.0, allow_nan=False)
any_mult = st.one_of(finite_mult, finite_mult, st.sampled_from([math.nan, math.inf, -math.inf]))
threads = st.sampled_from([None, 1, 2])


@st.composite
def dyadic_series(draw, n_inputs, rows):
    """n_inputs arrays of one shape whose values are exact: scale * k / 64,
    with scale a power of two from 2**-490 to 2**490 and |k| < 2**20."""
    n = draw(st.integers(0, 60))
    scale = 2.0 ** draw(st.sampled_from([-490, -60, -6, 0, 0, 0, 10, 60, 490]))
    shape = (rows, n) if rows else (n,)
    size = (rows or 1) * n
    base = draw(st.integers(0, 6400))
    steps = draw(st.lists(st.integers(-64, 64), min_size=size, max_size=size))
    walk = (base + np.cumsum(np.array(steps, dtype=np.float64))) * (scale / 64.0)
    walk = walk.reshape(shape)
    # high >= close >= low where three inputs are given
    arrays = [walk] if n_inputs == 1 else [walk + scale, walk - scale, walk.copy()]
    lead = draw(st.integers(0, n)) if n and draw(st.booleans()) else 0
    for a in arrays:
        a[..., :lead] = np.nan
    return arrays, scale


@st.composite
def poisoned(draw, arrays):
    """The arrays with NaN or +/-inf written at random places."""
    arrays = [a.copy() for a in arrays]
    if arrays[0].size:
        for _ in range(draw(st.integers(1, 3))):
            which = draw(st.integers(0, len(arrays) - 1))
            flat = arrays[which].reshape(-1)
            flat[draw(st.integers(0, flat.size - 1))] = draw(
                st.sampled_from([math.nan, math.inf, -math.inf])
            )
    return arrays


def as_dtype(arrays, dtype):
    """The arrays as another input type, where it holds the same values."""
    if dtype == "list":
        return [a.tolist() for a in arrays]
    if dtype == "float64":
        return arrays
    with np.errstate(all="ignore"):
        converted = [a.astype(dtype) for a in arrays]
        same = all(
            np.array_equal(c.astype(np.float64), a, equal_nan=True)
            for c, a in zip(converted, arrays, strict=True)
        )
    return converted if same else arrays


def reference_rows(ref, arrays, params):
    """The reference on each row; raises what the first failing row raises."""
    first = np.asarray(arrays[0], dtype=np.float64)
    if first.ndim == 1:
        out = ref(*[np.asarray(a, dtype=np.float64) for a in arrays], *params)
        return out if isinstance(out, tuple) else (out,)
    rows = [
        ref(*[np.asarray(a, dtype=np.float64)[r] for a in arrays], *params)
        for r in range(first.shape[0])
    ]
    if isinstance(rows[0], tuple):
        return tuple(np.vstack([row[k] for row in rows]) for k in range(len(rows[0])))
    return (np.vstack(rows),)


def assert_agree(name, got, want, scale):
    got = got if isinstance(got, tuple) else (got,)
    assert len(got) == len(want)
    atol = 1e-9 if name in OSCILLATORS else 1e-9 * scale
    for g, w in zip(got, want, strict=True):
        g = np.asarray(g)
        assert g.shape == w.shape and g.dtype == np.float64
        assert np.array_equal(np.isnan(g), np.isnan(w)), f"{name}: NaN positions differ"
        ok = ~np.isnan(w)
        np.testing.assert_allclose(g[ok], w[ok], rtol=1e-9, atol=atol, err_msg=name)


OUTCOMES = collections.Counter()  # (kernel, "agreed" | "rejected"), for the record


def check_kernel(name, arrays, ints, floats, nthreads, scale):
    outcome = _check_kernel(name, arrays, ints, floats, nthreads, scale)
    OUTCOMES[name, outcome] += 1
    return outcome


def _check_kernel(name, arrays, ints, floats, nthreads, scale):
    fn, ref, _, _, _ = KERNELS[name]
    params = [*ints, *floats]
    if any(isinstance(p, int) and p > MAX for p in ints):
        # The reference has no upper limit (and would build a weight table
        # of 10**9 for wma); fastpar documents one.
        with pytest.raises((ValueError, TypeError)) as e:
            fn(*arrays, *params, threads=nthreads)
        assert_documented(e.value)
        return "rejected"
    try:
        with np.errstate(all="ignore"):
            want = reference_rows(ref, arrays, params)
        ref_error = None
    except (ValueError, TypeError) as e:
        want, ref_error = None, e
    try:
        got = fn(*arrays, *params, threads=nthreads)
    except (ValueError, TypeError) as e:
        assert_documented(e)
        return "rejected"
    # fastpar returned: the reference must accept the input too ...
    assert ref_error is None, f"{name} accepted what the reference rejects: {ref_error}"
    # ... and the two agree.
    assert_agree(name, got, want, scale)
    return "agreed"


def kernel_params(name):
    _, _, _, n_int, n_float = KERNELS[name]
    return st.tuples(
        st.lists(any_period, min_size=n_int, max_size=n_int),
        st.lists(any_mult, min_size=n_float, max_size=n_float),
    )


@pytest.mark.parametrize("name", sorted(KERNELS))
@given(data=st.data())
def test_kernel_agrees_with_reference_or_raises_documented_error(name, data):
    n_inputs = KERNELS[name][2]
    rows = data.draw(st.sampled_from([0, 0, 1, 3]), label="rows")
    arrays, scale = data.draw(dyadic_series(n_inputs, rows), label="series")
    if data.draw(st.integers(0, 4), label="poison") == 0:
        arrays = data.draw(poisoned(arrays), label="poisoned")
    dtype = data.draw(st.sampled_from(["float64", "float64", "float32", "int64", "list"]))
    arrays = as_dtype(arrays, dtype)
    ints, floats = data.draw(kernel_params(name), label="params")
    check_kernel(name, arrays, ints, floats, data.draw(threads, label="threads"), scale)


@pytest.mark.parametrize("name", sorted(KERNELS))
@given(data=st.data())
def test_kernel_valid_periods_always_agree(name, data):
    """Valid periods and multipliers on finite data: never an error, whatever
    the length (0 aside: empty input is documented as an error)."""
    n_inputs, n_int, n_float = KERNELS[name][2:]
    arrays, scale = data.draw(dyadic_series(n_inputs, data.draw(st.sampled_from([0, 2]))))
    assume(arrays[0].size > 0)
    ints = data.draw(st.lists(st.integers(1, 30), min_size=n_int, max_size=n_int))
    if name == "macd":
        ints = sorted(ints)
        assume(ints[0] < ints[1])
    floats = data.draw(st.lists(finite_mult, min_size=n_float, max_size=n_float))
    assert check_kernel(name, arrays, ints, floats, None, scale) == "agreed"


@pytest.mark.parametrize("name", sorted(KERNELS))
@given(data=st.data())
def test_kernel_extreme_doubles_do_not_crash(name, data):
    """Any finite doubles, up to 1e308 and down to subnormals: sums may
    overflow (documented: not an error), but the call returns arrays of the
    input's shape whose first `lookback` values are NaN, or raises a
    documented error."""
    fn, _, n_inputs, n_int, n_float = KERNELS[name]
    n = data.draw(st.integers(1, 40))
    values = st.floats(allow_nan=False, allow_infinity=False, allow_subnormal=True)
    arrays = [
        np.array(data.draw(st.lists(values, min_size=n, max_size=n)), dtype=np.float64)
        for _ in range(n_inputs)
    ]
    ints = data.draw(st.lists(st.integers(1, 12), min_size=n_int, max_size=n_int))
    if name == "macd":
        ints = [min(ints[0], ints[1]), max(ints[0], ints[1]) + 1, ints[2]]
    floats = data.draw(st.lists(finite_mult, min_size=n_float, max_size=n_float))
    with np.errstate(all="ignore"):
        try:
            got = fn(*arrays, *ints, *floats)
        except (ValueError, TypeError) as e:
            assert_documented(e)
            return
    got = got if isinstance(got, tuple) else (got,)
    if name == "macd":
        lookback = ints[1] + ints[2] - 2
    elif name == "stoch":
        lookback = sum(ints) - 3
    elif name in ("rsi", "rsi_simple", "atr"):
        lookback = ints[0]
    else:
        lookback = ints[0] - 1
    for g in got:
        assert g.shape == (n,) and g.dtype == np.float64
        assert np.isnan(g[: min(lookback, n)]).all()


# ---------------------------------------------------------------------------
# Scenario configuration
# ---------------------------------------------------------------------------

SAMPLE = json.loads(data_path("sample_scenarios.json").read_text())
BROKER = json.loads(data_path("broker_config.json").read_text())
APP = json.loads(data_path("app_config.json").read_text())
BROKER_PATH = str(data_path("broker_config.json"))

# What stops a scenario (docs/errors.md): a ValueError (the API's creation
# and validation errors, ConfigError, ScenarioError, the data layer's
# DataValidationError and InsufficientWarmupDataError), a missing broker
# file, a BLACKBOX part.
SCENARIO_ERRORS = (ValueError, FileNotFoundError, NotImplementedError)


def assert_result_or_scenario_error(entry):
    assert isinstance(entry, (ScenarioResult, *SCENARIO_ERRORS)), f"{type(entry).__name__}: {entry}"

json_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**3), 10**3),
    st.sampled_from([0, -1, 10**400, -(10**400), 2**63, 1.5, -0.0, 1e308, math.nan, math.inf]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["M5", "H1", "CORE/rsi", "CORE/envelope", "CORE/simple_consensus",
                     "2025-09-03T07:00:00+00:00", "2025-13-45", "", "EURUSD"]),
)
json_value = st.recursive(
    json_scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def paths(doc, prefix=()):
    """Every (container path, key) in a JSON document."""
    out = []
    if isinstance(doc, dict):
        items = list(doc.items())
    elif isinstance(doc, list):
        items = list(enumerate(doc))
    else:
        return out
    for k, v in items:
        out.append((prefix, k))
        out.extend(paths(v, (*prefix, k)))
    return out


@st.composite
def mutated(draw, doc, max_edits=4):
    """doc with 1..max_edits random edits: a value replaced, a key removed,
    a key added."""
    doc = copy.deepcopy(doc)
    for _ in range(draw(st.integers(1, max_edits))):
        where = paths(doc)
        if not where:
            break
        prefix, key = draw(st.sampled_from(where))
        parent = doc
        for k in prefix:
            parent = parent[k]
        action = draw(st.sampled_from(["replace", "replace", "remove", "add"]))
        if action == "replace":
            parent[key] = draw(json_value)
        elif action == "remove":
            del parent[key]
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=8))] = draw(json_value)
        else:
            parent.append(draw(json_value))
    return doc


def only_config_errors(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except ConfigError:
        return None


SAMPLE_TEXT = json.dumps(SAMPLE).encode()
file_bytes = st.one_of(
    st.binary(max_size=200),  # invalid UTF-8 included
    st.text(max_size=200).map(str.encode),
    json_value.map(lambda v: json.dumps(v).encode()),
    st.integers(0, len(SAMPLE_TEXT)).map(lambda i: SAMPLE_TEXT[:i]),  # cut short
)


@given(content=file_bytes)
def test_scenario_loader_random_files(tmp_path_factory, content):
    path = tmp_path_factory.mktemp("cfg") / "set.json"
    path.write_bytes(content)
    only_config_errors(ScenarioConfigLoader().load_config, path)
    only_config_errors(BrokerConfig.from_json, path)
    only_config_errors(AppConfig, path)


@given(doc=mutated(SAMPLE))
def test_scenario_loader_mutated_documents(tmp_path_factory, doc):
    only_config_errors(ScenarioConfigLoader().parse, doc)
    path = tmp_path_factory.mktemp("cfg") / "set.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    only_config_errors(ScenarioConfigLoader().load_config, path)


@given(doc=json_value)
def test_scenario_loader_arbitrary_documents(doc):
    only_config_errors(ScenarioConfigLoader().parse, doc)
    only_config_errors(ScenarioConfigLoader().parse, {"scenarios": [doc]})


LOADED_RUNS = []  # scenarios per loaded set, for the record


@pytest.fixture(scope="module")
def short_ticks():
    from fastpar.ticks import TickArraysData, synthetic_ticks

    # one data worker: its warm-up bars rendered once for every example
    return TickArraysData(synthetic_ticks("EURUSD", start="2025-09-01", days=5, seed=3))


def burns_cpu(strategy) -> bool:
    """A strategy whose heavy workers would burn more than 0.1 ms of CPU on
    every tick: an edit to 1e308 is a valid strategy that runs for ever."""
    try:
        workers = create_workers(strategy, Framework.fastpar_own())
    except Exception:  # noqa: BLE001 - it fails its scenario before any tick
        return False
    return any(getattr(w, "artificial_load_ms", 0.0) > 0.1 for w in workers.values())


@given(doc=mutated(SAMPLE["global"]["strategy_config"]))
def test_strategy_config_mutated(short_ticks, doc):
    """A broken strategy fails its own scenario when it runs, with the
    API's error (its factories wrap whatever went wrong in a ValueError)."""
    assume(not burns_cpu(doc))
    scenario = dict(GOOD_SCENARIO, strategy_config=doc)
    (out,) = run_scenarios(short_ticks, [scenario], threads=1, progress=False)
    assert_result_or_scenario_error(out)


@given(doc=st.one_of(mutated(BROKER), json_value))
def test_broker_config_mutated(doc):
    only_config_errors(BrokerConfig.from_dict, doc)


@given(doc=st.one_of(mutated(APP), json_value))
def test_app_config_mutated(doc):
    only_config_errors(AppConfig.from_dict, doc)


@settings(max_examples=max(10, EXAMPLES // 3))
@given(data=st.data())
def test_loaded_scenarios_run_or_fail_alone(short_ticks, data):
    """A document that loads runs: run_scenarios returns one ScenarioResult
    or error per scenario, it never raises for one bad scenario."""
    sample = copy.deepcopy(SAMPLE)
    # parse() does not resolve the shipped set's relative broker path
    sample["global"]["trade_simulator_config"]["broker_config_path"] = BROKER_PATH
    for s in sample["scenarios"]:
        s["start_date"], s["end_date"] = "2025-09-03T07:00:00+00:00", "2025-09-03T09:00:00+00:00"
        s["max_ticks"] = 40
    doc = data.draw(mutated(sample, max_edits=1))
    scenarios = only_config_errors(ScenarioConfigLoader().parse, doc)
    if not scenarios:  # the edit made the set invalid: checked above
        return
    if any(burns_cpu(s.strategy_config) for s in scenarios):
        return
    LOADED_RUNS.append(len(scenarios))
    out = run_scenarios(short_ticks, scenarios, threads=2, progress=False)
    assert len(out) == len(scenarios)
    for entry in out:
        assert_result_or_scenario_error(entry)


GOOD_SCENARIO = {
    "name": "good",
    "symbol": "EURUSD",
    "start_date": "2025-09-03T07:00:00+00:00",
    "end_date": "2025-09-03T09:00:00+00:00",
    "max_ticks": 40,
    "strategy_config": SAMPLE["global"]["strategy_config"],
    "trade_simulator_config": {"initial_balance": 10000, "broker_config_path": BROKER_PATH},
}


@settings(max_examples=max(10, EXAMPLES // 2))
@given(bad=mutated(GOOD_SCENARIO, max_edits=2))
def test_raw_scenario_dicts_fail_alone(short_ticks, bad):
    """Scenario dicts handed straight to run_scenarios (no loader checks),
    one of them broken at random between two good ones: the good ones give
    their results, the broken one a result or its own error. Without the
    loader's checks a date of the wrong type fails in the API's own date
    parsing, with its TypeError."""
    assume(not burns_cpu(bad.get("strategy_config")) if isinstance(
        bad.get("strategy_config"), dict) else True)
    out = run_scenarios(short_ticks, [GOOD_SCENARIO, bad, GOOD_SCENARIO], threads=2,
                        progress=False)
    assert len(out) == 3
    assert isinstance(out[0], ScenarioResult) and isinstance(out[2], ScenarioResult)
    assert out[0].portfolio_value == out[2].portfolio_value
    if isinstance(out[1], TypeError):
        dates = (bad.get("start_date"), bad.get("end_date"))
        assert not all(isinstance(d, str) for d in dates), out[1]
    else:
        assert_result_or_scenario_error(out[1])


INT64 = np.iinfo(np.int64)


@settings(max_examples=max(10, EXAMPLES // 2))
@given(
    stamps=st.lists(
        st.one_of(
            st.integers(INT64.min, INT64.max),
            st.just(INT64.min),  # NaT
            st.integers(INT64.min, INT64.min + 10**13),  # within a bar of it
            st.integers(INT64.min, INT64.min + 10**17),
            st.integers(INT64.max - 10**17, INT64.max),
        ),
        min_size=1,
        max_size=300,
    ),
    data=st.data(),
)
def test_scenario_on_any_int64_timestamps(short_ticks, stamps, data):
    """Sorted tick times anywhere in int64 (NaT, year 1677 or 2262 included)
    in a window handed to the engine: a result or status 8 ("tick
    timestamp out of range"), never an overflow in the bar arithmetic
    (UBSan in `make check` turns one into a failure). The window goes to the
    engine's glue directly: a data worker may hand it any int64 times (NaT
    included), while a scenario's start must be an ISO date with a tick
    and warm-up bars before it."""
    ts = np.sort(np.array(stamps, dtype=np.int64))
    n = len(ts)
    bid = 1.1 + np.arange(n) * 1e-5
    spec = prepare_scenario(GOOD_SCENARIO, short_ticks).spec
    if data.draw(st.booleans(), label="without warm-up bars"):
        spec = spec._replace(timeframes=tuple((m, r, h, b[:0]) for m, r, h, b in spec.timeframes))
    status, result, detail = _fastpar.run_scenario((ts, bid, bid + 2e-4, np.ones(n)), spec, None)
    assert status in (0, 8), (status, detail)
    if status == 0:
        assert result["ticks_processed"] == n


# -- sweeps: the command line's grid parser and fastpar.sweep's grids ---------

from fastpar.cli import parse_grid  # noqa: E402
from fastpar.synthetic import random_walk_ohlc  # noqa: E402

grid_items = st.lists(
    st.one_of(
        st.text(alphabet="abkp=:,.0123456789-eEinf ", max_size=16),
        st.builds(lambda name, spec: f"{name}={spec}",
                  st.sampled_from(["period", "low", "high", "kind", "x"]),
                  st.text(alphabet=":,.0123456789-eEinfsmaN", max_size=12)),
    ),
    max_size=4,
)


@given(items=grid_items)
def test_grid_parser_gives_a_grid_or_our_value_error(items):
    try:
        grid = parse_grid(items)
    except ValueError as e:
        assert str(e).startswith("--grid"), e
        return
    assert grid and all(isinstance(v, list) and v for v in grid.values())
    assert len(grid) == len(items)


SWEEP_BARS = {k: v[0] for k, v in random_walk_ohlc(1, 300).items()}
grid_values = st.lists(
    st.one_of(st.integers(-3, 120), st.floats(allow_nan=True, allow_infinity=True, width=32),
              st.sampled_from(["sma", "ema", "SMA", "x", ""]), st.none()),
    min_size=0, max_size=3,
)


@given(strategy=st.sampled_from([*fastpar.STRATEGIES, "nope"]),
       data=st.data())
def test_sweep_random_grids_give_rows_or_our_error(strategy, data):
    names = list(fastpar.STRATEGIES.get(strategy, ("period",)))
    keys = st.sampled_from(names + ["junk"])
    grid = data.draw(st.dictionaries(keys, grid_values, max_size=len(names) + 1), label="grid")
    try:
        result = fastpar.sweep(SWEEP_BARS, strategy, grid, progress=False)
    except (ValueError, TypeError) as e:
        assert type(e) in (ValueError, TypeError) and str(e), e
        return
    n_sets = int(np.prod([len(v) for v in grid.values()]))
    assert len(result) + result.attrs.get("skipped", 0) == n_sets
    assert list(result.columns[:len(names)]) == names
