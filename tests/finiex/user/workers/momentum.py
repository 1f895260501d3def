"""USER/momentum: the mid against the close ``period`` bars back."""

from python.framework.types.global_types import WorkerResult
from python.framework.workers.abstract_blackbox_worker import AbstractBlackboxWorker


class MomentumWorker(AbstractBlackboxWorker):
    @classmethod
    def get_required_parameters(cls):
        return {"period": int}

    @classmethod
    def get_optional_parameters(cls):
        return {"timeframe": "M5"}

    def __init__(self, name, parameters=None):
        super().__init__(name, parameters)
        self.period = self.parameters["period"]
        self.timeframe = self.parameters["timeframe"]

    def get_warmup_requirements(self):
        return {self.timeframe: self.period}

    def get_required_timeframes(self):
        return [self.timeframe]

    def should_recompute(self, tick, bar_updated):
        return bar_updated

    def compute(self, tick, bar_history, current_bars):
        bars = bar_history.get(self.timeframe, [])
        if len(bars) < self.period:
            return WorkerResult(worker_name=self.name, value=0.0, confidence=0.0)
        value = tick.mid - bars[-self.period].close
        return WorkerResult(worker_name=self.name, value=value, confidence=1.0,
                            metadata={"bars": len(bars)})
