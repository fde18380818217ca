"""Pausing Python's cyclic garbage collector around work that makes many
containers and no garbage (a shuffle's tables, a partition being unpickled).

Import rule: runs inside workers; imports nothing of mapfold.

With the collector on, every few hundred new containers set off a young
collection, and each tenth of those an older one; the oldest walk every
object the process holds. A table of a million lists, or a persisted
partition read back, is all new containers and none of them garbage, so
those walks find nothing and cost the most (``shuffle/memory.py`` and
``core/partition_files.py`` say how much).
"""
from __future__ import annotations

import contextlib
import gc
from typing import Iterator

__all__ = ["paused_gc"]


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause automatic cyclic garbage collection (restored as it was).

    >>> with paused_gc():
    ...     gc.isenabled()
    False
    >>> gc.isenabled()
    True
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
