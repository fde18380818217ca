"""``Broadcast``: a read-only value shipped to tasks (``sc.broadcast(v)``).

The value travels with the stage's code, pickled once per stage (not once
per record); the SparkContext keeps its broadcasts, so ``sc.stop()``
destroys them.

>>> from mapfold.compat.pyspark import SparkContext
>>> sc = SparkContext("local")
>>> rates = sc.broadcast({"EUR": 2})
>>> sc.parallelize([("EUR", 3)]).map(lambda kv: kv[1] * rates.value[kv[0]]).collect()
[6]
>>> rates.destroy()
>>> rates.value
Traceback (most recent call last):
mapfold.core.errors.MapfoldError: Broadcast 0 was destroyed; its value cannot be used any more
"""
from __future__ import annotations

from typing import Generic, TypeVar

from ...core.errors import MapfoldError

__all__ = ["Broadcast"]

T = TypeVar("T")


class Broadcast(Generic[T]):
    """A value tasks read with ``.value``."""

    def __init__(self, bid: int, value: T):
        self._bid = bid
        self._value = value
        self._destroyed = False

    @property
    def value(self) -> T:
        if self._destroyed:
            raise MapfoldError(f"Broadcast {self._bid} was destroyed; its value cannot be used any more")
        return self._value

    def unpersist(self, blocking: bool = False) -> None:
        """Nothing is cached on workers between stages (the value travels with each stage's code), so there
        is nothing to delete, at once or later; the value stays usable, as PySpark's re-sends it."""

    def destroy(self, blocking: bool = False) -> None:
        """Release the value; using it afterwards (in a task or on the driver) raises."""
        self._destroyed = True
        self._value = None

    def __reduce__(self):
        if self._destroyed:
            raise MapfoldError(f"Broadcast {self._bid} was destroyed; a task cannot use it")
        return (Broadcast, (self._bid, self._value))

    def __repr__(self) -> str:
        return f"<Broadcast {self._bid}{' destroyed' if self._destroyed else ''}>"
