"""A few seconds' check of an installed fastpar (`make wheels` runs it in a fresh
virtual environment for each wheel and for the sdist): it imports, an indicator
equals the same numbers worked out in plain Python, a scenario of the shipped
sample set runs on the embedded data, and on a free-threaded build the GIL is
still off at the end.

    python scripts/smoke.py

Run it from outside the source tree, so that the installed package is the one
imported. Prints one line per check; exits non-zero on the first failure.
"""

import math
import sys
import sysconfig

import numpy as np

import fastpar
from fastpar.scenario_config import ScenarioConfigLoader
from fastpar.ticks import sample_data


def check(what, ok):
    print(f"{'ok' if ok else 'FAILED'}: {what}")
    if not ok:
        sys.exit(1)


def plain_rsi(closes, period):
    """Wilder's RSI in plain Python: the first average over `period` changes,
    then smoothed; NaN for the first `period` values."""
    changes = [b - a for a, b in zip(closes, closes[1:])]
    gain = sum(max(c, 0.0) for c in changes[:period]) / period
    loss = sum(max(-c, 0.0) for c in changes[:period]) / period
    out = [math.nan] * period
    for i in range(period, len(closes)):
        if i > period:
            c = changes[i - 1]
            gain = (gain * (period - 1) + max(c, 0.0)) / period
            loss = (loss * (period - 1) + max(-c, 0.0)) / period
        out.append(100.0 if gain + loss == 0 else 100.0 * gain / (gain + loss))
    return out


free_threaded = sysconfig.get_config_var("Py_GIL_DISABLED") == 1
print(f"fastpar {fastpar.__version__} from {fastpar.__file__}")
print(f"Python {sys.version.split()[0]}, {'free-threaded' if free_threaded else 'GIL'} build")
check(f"the extension is {fastpar._fastpar.__file__.rsplit('/', 1)[-1]}", True)

closes = [100.0 + 5.0 * math.sin(i / 7.0) + 0.1 * (i % 5) for i in range(300)]
want = plain_rsi(closes, 14)
got = fastpar.rsi(np.array(closes), 14)
check("rsi(300 prices, 14) equals the plain-Python RSI to 1e-9",
      len(got) == len(want)
      and all((math.isnan(w) and math.isnan(g)) or abs(g - w) <= 1e-9 * max(1.0, abs(w))
              for g, w in zip(got.tolist(), want)))
batch = np.array([closes, closes[::-1]])
rows = fastpar.rsi(batch, 14, threads=2)
check("a 2-D batch on the native pool equals its rows",
      np.array_equal(rows[0], got, equal_nan=True)
      and np.array_equal(rows[1], fastpar.rsi(batch[1], 14), equal_nan=True))

sample = ScenarioConfigLoader().load_config("sample_scenarios.json")[:2]
ticks = sample_data()  # the embedded synthetic EURUSD ticks the sample set runs on
results = fastpar.run_scenarios(ticks, sample, threads=2, progress=False)
errors = [r for r in results if isinstance(r, Exception)]
check(f"run_scenarios ran {len(sample)} sample scenarios on the embedded ticks: "
      + ", ".join(f"{r.ticks_processed} ticks" for r in results if not isinstance(r, Exception)),
      not errors and all(r.ticks_processed > 0 for r in results))
one = fastpar.run_scenario(ticks, sample[0])
check("the first one alone gives the same result",
      (one.ticks_processed, one.portfolio_value)
      == (results[0].ticks_processed, results[0].portfolio_value))

if free_threaded:
    check("the GIL is still off", not sys._is_gil_enabled())
print("smoke test passed")
