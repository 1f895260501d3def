"""The benchmarks still run: a `--quick` smoke run of benchmarks/run.py."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.thread_unsafe(reason="one subprocess that times threads: never several at once")

EXPECTED_HEADERS = [
    "## How this run was made",
    "## W1: single-thread kernels, fastpar vs TA-Lib",
    "| kernel | goal | n = 1,000 | n = 10,000 | goal met |",
    "| kernel | n | fastpar ns/elem | TA-Lib ns/elem | TA-Lib / fastpar | goal | met |",
    "| kernel | fastpar µs/call | fastpar C entry µs/call |",
    "## W2: scaling a batch over threads",
    "| goal | measured | met |",
    "| workload | batch | sequential loop | T = 1 |",
    "| implementation | batch | ticks/s, 1 thread |",
    "## W4: scenario batches, sequential vs threads vs processes",
    "| implementation | mode | time | speed-up | efficiency | ticks/s per thread | identical |",
    "| strategy | implementation | time | ns/set-bar | vs Numba | vs fastpar.strategy 1 thread |",
]


def test_quick_benchmark_run_writes_the_tables(tmp_path):
    pytest.importorskip("talib", reason="TA-Lib is not installed (no wheel for free-threaded Python)")
    out = tmp_path / "b.md"
    # About a minute on an idle machine, five times that under the sanitizer build; the
    # limit leaves room for a busy shared machine, and a run past it says where it was.
    try:
        proc = subprocess.run(
            [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--out", str(out)],
            cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
        )
    except subprocess.TimeoutExpired as e:
        err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else e.stderr
        pytest.fail(f"the quick run took more than 900 s; its last lines:\n{(err or '')[-3000:]}")
    assert proc.returncode == 0, proc.stderr[-4000:]
    text = out.read_text(encoding="utf-8")
    # headers are padded to the column widths: compare with runs of spaces squeezed
    squeezed = "\n".join(" ".join(line.split()) for line in text.splitlines())
    for header in EXPECTED_HEADERS:
        assert header in squeezed, f"missing {header!r} in:\n{text}"
    assert "**Smoke run (`--quick`)**" in text
    # W4's sample set: its heavy scenario's busy work, and what that leaves to gain
    assert "artificial load (busy work of `artificial_load_ms` on every tick" in text
    assert "is 300 ms of this batch" in text and "can gain at most" in text
