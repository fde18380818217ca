"""Parallel primitives over a local process pool: map, starmap, fold."""
from .executor import Call, ProcessExecutor
from .pool import Pool

__all__ = ["Pool", "ProcessExecutor", "Call"]
