from fastpar.performance import ScenarioStatus  # noqa: F401
