from fastpar.framework import (  # noqa: F401
    OrderCapabilities,
    OrderDirection,
    OrderResult,
    OrderStatus,
    OrderType,
    RejectionReason,
)
