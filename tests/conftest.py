"""Shared fixtures: seeded market data every test file can use."""

import numpy as np
import pytest

from fastpar.synthetic import random_walk_ohlc


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
