from fastpar.framework import AbstractDecisionLogic  # noqa: F401
