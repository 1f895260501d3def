from fastpar.framework import Bar, Decision, TickData, WorkerResult, WorkerState, WorkerType  # noqa: F401
