"""Building test scenarios: one TestScenario from a few knobs, and data
workers that hold what the API's data layer lets through.

Shared by the scenario tests (reference and C kernel alike), so that both
run exactly the same configurations.
"""

import numpy as np

from fastpar.scenario_config import TestScenario


def make_scenario(
    logic="CORE/aggressive_trend",
    rsi=("CORE/rsi", {"period": 14, "timeframe": "M5"}),
    env=("CORE/envelope", {"period": 20, "deviation": 0.02, "timeframe": "M30"}),
    extra=None,
    logic_config=None,
    start="2025-09-03T07:00:00+00:00",
    end="2025-09-03T16:00:00+00:00",
    max_ticks=None,
    name=None,
    **sim,
):
    instances = {"rsi_fast": rsi[0], "envelope_main": env[0]}
    workers = {"rsi_fast": dict(rsi[1]), "envelope_main": dict(env[1])}
    for wname, (wtype, params) in (extra or {}).items():
        instances[wname] = wtype
        workers[wname] = dict(params)
    return TestScenario(
        symbol="EURUSD",
        start_date=start,
        end_date=end,
        max_ticks=max_ticks,
        name=name,
        strategy_config={
            "decision_logic_type": logic,
            "worker_instances": instances,
            "workers": workers,
            "decision_logic_config": logic_config or {},
        },
        trade_simulator_config={"initial_balance": 10000, **sim},
    )


class NaNAt:
    """A data worker over ``data`` whose ticks have a NaN ask at one time
    (int64 ns). TickArrays refuse NaN, but the API's data layer does not
    look: a tick file holding one reaches the engine, which refuses it
    (ScenarioError, status 3)."""

    def __init__(self, data, at_ns):
        self._data = data
        self._at = at_ns
        self.index_manager = data.index_manager
        self.bar_source = data.bar_source

    def load_symbol_data(self, *args, **kwargs):
        frame = self._data.load_symbol_data(*args, **kwargs).copy()
        at = frame["timestamp"].to_numpy(dtype="datetime64[ns]").astype(np.int64) == self._at
        frame.loc[at, "ask"] = np.nan
        return frame
