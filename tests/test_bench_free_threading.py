"""The free-threading benchmark's worker runs and reports what the driver reads.

A `--worker --quick` smoke run of benchmarks/bench_free_threading.py on this
interpreter (GIL build or free-threaded): one JSON document with the
interpreter's description and positive times for every workload, task count
and thread count. Needs NumPy and fastpar only.
"""

import json
import math
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "bench_free_threading.py"
WORKLOADS = {"cpu_python", "cpu_fastpar", "cpu_fastpar_large", "io"}

pytestmark = pytest.mark.thread_unsafe(reason="one subprocess that times threads: never several at once")


@pytest.fixture(scope="module")
def report():
    proc = subprocess.run([sys.executable, str(SCRIPT), "--worker", "--quick"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout)


def positive(x):
    return isinstance(x, float) and math.isfinite(x) and x > 0


def test_describes_this_interpreter(report):
    py = report["python"]
    assert py["version"] == ".".join(map(str, sys.version_info[:3]))
    assert py["free_threaded_build"] == bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    assert py["cpu_count"] == os.cpu_count()
    assert isinstance(py["gil_enabled_at_end"], bool)
    if py["free_threaded_build"] and os.environ.get("PYTHON_GIL") != "1":
        assert py["gil_enabled_at_end"] is False, "something re-enabled the GIL"
    if not py["free_threaded_build"]:
        assert py["gil_enabled_at_end"] is True
    assert report["quick"] is True
    assert report["python_rsi_matches_fastpar"] is True


def test_scaling_has_a_positive_time_for_every_configuration(report):
    cpus = os.cpu_count() or 1
    threads = report["config"]["thread_counts"]
    assert threads[:cpus] == list(range(1, cpus + 1))
    assert set(report["scaling"]) == WORKLOADS
    for workload, entry in report["scaling"].items():
        counts = report["config"]["tasks"][workload]
        assert sorted(int(n) for n in entry["tasks"]) == sorted(counts)
        for n, cell in entry["tasks"].items():
            for t in threads:
                assert positive(cell["seconds"][str(t)]), (workload, n, t)
                assert positive(cell["speedup"][str(t)]), (workload, n, t)
            assert cell["speedup"]["1"] == 1.0


def test_single_thread_and_throughput(report):
    for workload in ("cpu_python", "cpu_fastpar_large"):
        assert positive(report["single_thread"][workload]["per_task_s"])
        tp = report["throughput"][workload]
        assert positive(tp["prices_per_s_1_thread"])
        assert positive(tp["prices_per_s_per_thread"])
    assert positive(report["elapsed_s"])
