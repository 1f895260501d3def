from fastpar.framework import Position  # noqa: F401
