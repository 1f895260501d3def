from fastpar.performance import (  # noqa: F401
    BatchPerformanceStats,
    DecisionLogicPerformanceStats,
    WorkerPerformanceStats,
)
