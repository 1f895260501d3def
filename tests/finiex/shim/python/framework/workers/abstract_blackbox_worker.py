from fastpar.framework import AbstractBlackboxWorker  # noqa: F401
