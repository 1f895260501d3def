from fastpar.framework import AccountInfo  # noqa: F401
from fastpar.performance import CostBreakdown, ExecutionStats, PortfolioStats  # noqa: F401
