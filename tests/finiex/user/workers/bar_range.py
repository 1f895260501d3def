"""USER/bar_range: the range of the bar being built on one timeframe and
the mean range of the last completed bars on another; renders both
timeframes (``required_timeframes``) but warms up only the second."""

from python.framework.types.global_types import WorkerResult
from python.framework.workers.abstract_blackbox_worker import AbstractBlackboxWorker


class BarRangeWorker(AbstractBlackboxWorker):
    @classmethod
    def get_required_parameters(cls):
        return {}

    @classmethod
    def get_optional_parameters(cls):
        return {"fast": "M1", "slow": "M15", "bars": 8}

    def __init__(self, name, parameters=None):
        super().__init__(name, parameters)
        p = self.parameters
        self.required_timeframes = [p["fast"], p["slow"]]
        self.slow, self.fast, self.bars = p["slow"], p["fast"], p["bars"]

    def get_warmup_requirements(self):
        return {self.slow: self.bars}

    def get_required_timeframes(self):
        return list(self.required_timeframes)

    def should_recompute(self, tick, bar_updated):
        return tick.bid > 0

    def compute(self, tick, bar_history, current_bars):
        current = current_bars[self.fast]
        history = bar_history.get(self.slow, [])[-self.bars:]
        mean = sum(b.high - b.low for b in history) / len(history) if history else 0.0
        return WorkerResult(worker_name=self.name,
                            value={"now": current.high - current.low, "mean": mean,
                                   "ticks": current.tick_count,
                                   "fast_history": len(bar_history.get(self.fast, []))},
                            confidence=1.0)
