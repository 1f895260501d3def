"""Shared fixtures: seeded market data every test file can use."""

import numpy as np
import pytest

from fastpar.scenario_config import load_broker_config
from fastpar.synthetic import random_walk_ohlc
from fastpar.ticks import synthetic_ticks


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
