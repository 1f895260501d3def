"""Shared fixtures: seeded market data every test file can use."""

import os
import signal
import threading
import weakref

import numpy as np
import pytest

from fastpar.scenario_config import load_broker_config
from fastpar.synthetic import random_walk_ohlc
from fastpar.ticks import synthetic_ticks

# scripts/pytest.sh names the test a crash killed from this file.
_STARTED = os.environ.get("FASTPAR_TEST_STARTED")


def pytest_runtest_logstart(nodeid, location):
    if _STARTED:
        with open(_STARTED, "w") as f:
            f.write(nodeid)


@pytest.fixture(scope="session")
def bars():
    """Seeded OHLC bars, 16 series x 5,000 bars, shared read-only."""
    data = random_walk_ohlc(16, 5_000, seed=2024)
    for a in data.values():
        a.flags.writeable = False
    return data


@pytest.fixture(scope="session")
def prices(bars):
    return bars["close"][0]


@pytest.fixture(scope="session")
def ticks():
    """Fourteen days of seeded synthetic EURUSD ticks, shared read-only."""
    return synthetic_ticks("EURUSD", start="2025-09-01", days=14, seed=42)


@pytest.fixture(scope="session")
def broker():
    return load_broker_config()


@pytest.fixture
def sigint_raises():
    """Ctrl-C raises KeyboardInterrupt during the test. A runner started with
    SIGINT ignored (a background job of a non-interactive shell) keeps it
    ignored, and the Ctrl-C tests would then wait for nothing. Only the main
    thread may set a handler (and receives signals), so elsewhere this does
    nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


class FreeingClock:
    """A stand-in for time.perf_counter that moves 1 ms per reading and
    1,000 s whenever an object given to watch() is freed: a timed window
    that covers such a free shows it."""

    def __init__(self):
        self.now = 0.0

    def perf_counter(self):
        self.now += 1e-3
        return self.now

    def watch(self, obj):
        weakref.finalize(obj, self._freed)
        return obj

    def _freed(self):
        self.now += 1e3


@pytest.fixture
def freeing_clock():
    return FreeingClock()
