from fastpar.performance import ScenarioPerformanceStats  # noqa: F401
