"""fastpar keeps a free-threaded interpreter free-threaded.

These tests run on both kinds of build and check what each must show:
on a free-threaded build the GIL stays off after importing fastpar and
after using every public entry point; on a GIL build nothing changes.
`make test-ft` sets FASTPAR_EXPECT_FREE_THREADED=1, so that lane also
fails if the interpreter it was given is not free-threaded.
"""

import os
import subprocess
import sys
import sysconfig

import pytest

FREE_THREADED_BUILD = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))

# Every public entry point once, in a fresh interpreter where nothing but
# NumPy and fastpar is imported, then whether the GIL is on.
EVERY_ENTRY_POINT = r"""
import sys
import numpy as np
import fastpar
from fastpar import _fastpar, reference, synthetic

bars = synthetic.random_walk_ohlc(4, 300, seed=1)
h, l, c = bars["high"], bars["low"], bars["close"]
for x in (c[0], c):
    fastpar.sma(x, 10); fastpar.ema(x, 10); fastpar.wma(x, 10)
    fastpar.rsi(x, 14); fastpar.rsi(x, 14, method="simple")
    fastpar.stddev(x, 10); fastpar.bbands(x, 20); fastpar.envelope(x, 20)
    fastpar.macd(x, 12, 26, 9)
fastpar.atr(h, l, c, 14); fastpar.stoch(h, l, c, 5, 3, 3)
fastpar.set_num_threads(2); fastpar.get_num_threads()
_fastpar._sleep_job(10, 10, 2)
reference.rsi(c[0], 14)

from fastpar.sweep import _costs, bars_of, expand_grid, run_sets  # fastpar.sweep needs pandas
sets, _ = expand_grid("bigbar", {"atr_period": 5, "k_atr": [0.5, 1.0], "tail_ratio": 0.5,
                                 "breakout": 3, "rsi_period": 5, "rsi_max": 90})
run_sets(bars_of({"high": h[0], "low": l[0], "close": c[0]}, "bigbar"), "bigbar", sets,
         _costs(0.001, 0.0, 0.0, 0.05, None, "longshort", 252.0), threads=2)

from fastpar import scenarios
from fastpar.allocator import keep_freed_memory
from fastpar.batch_orchestrator import BatchOrchestrator
from fastpar.cli import main as cli_main
from fastpar.performance import ScenarioSetPerformanceManager
from fastpar.scenario_config import AppConfig, ScenarioConfigLoader
from fastpar.reference.scenario import run_scenario as reference_run_scenario
from fastpar.ticks import sample_data

keep_freed_memory()
sample = ScenarioConfigLoader().load_config("sample_scenarios.json")[:2]
data = sample_data()
scenarios.run_scenario(data, sample[0])
scenarios.run_scenarios(data, sample, threads=2, progress=False)
reference_run_scenario(data, dict(vars(sample[0]), max_ticks=200))
BatchOrchestrator(sample, data, AppConfig(), ScenarioSetPerformanceManager()).run()
BatchOrchestrator(sample, data, AppConfig(), ScenarioSetPerformanceManager(), native=True).run()
cli_main(["run-scenarios", "sample_scenarios.json", "--no-progress"])
try:
    fastpar.sma(np.array([1.0, np.nan, 2.0]), 2)
except ValueError:
    pass
print(getattr(sys, "_is_gil_enabled", lambda: True)())
"""


def run_python(*args):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=120)


def test_interpreter_is_the_expected_kind():
    if os.environ.get("FASTPAR_EXPECT_FREE_THREADED") == "1":
        assert FREE_THREADED_BUILD, f"{sys.executable} is not a free-threaded build"
    if FREE_THREADED_BUILD:
        assert sys.version_info >= (3, 13)


def test_import_warns_of_nothing():
    """Importing a module that does not declare itself GIL-free re-enables
    the GIL with a RuntimeWarning; as an error, that fails the import."""
    proc = run_python("-W", "error::RuntimeWarning", "-c", "import fastpar, fastpar._fastpar")
    assert proc.returncode == 0, proc.stderr


@pytest.mark.thread_unsafe(reason="its work is a child interpreter's: 4 at once only multiply "
                                  "its time, past the timeout on the ThreadSanitizer build")
def test_gil_stays_off_after_every_entry_point():
    proc = run_python("-W", "error::RuntimeWarning", "-c", EVERY_ENTRY_POINT)
    assert proc.returncode == 0, proc.stderr
    gil_enabled = proc.stdout.strip().splitlines()[-1] == "True"
    assert gil_enabled == (not FREE_THREADED_BUILD)

