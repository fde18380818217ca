"""Finishers: what the last stage of an action does with each partition.

They run in workers; the driver combines their per-partition results. Each
is a small picklable class or module-level function so stage code stays
cheap to ship.
"""
from __future__ import annotations

from collections import Counter
from itertools import islice
from typing import Any, Callable, Iterator

from ..core.task_context import count_written

__all__ = ["EMPTY", "to_list", "count", "Take", "Reduce", "Fold", "Aggregate", "CountValues", "Top", "Stats"]


class _Empty:
    """Marks a partition that had no records (so reduce can skip it)."""

    def __repr__(self) -> str:
        return "EMPTY"

    def __reduce__(self):
        return (_empty, ())


def _empty():
    return EMPTY


EMPTY = _Empty()


def to_list(partition: int, iterator: Iterator) -> list:
    records = list(iterator)
    count_written(len(records))
    return records


def count(partition: int, iterator: Iterator) -> int:
    n = 0
    for n, _ in enumerate(iterator, 1):
        pass
    count_written(n)
    return n


class Take:
    def __init__(self, n: int):
        self.n = n

    def __call__(self, partition: int, iterator: Iterator) -> list:
        records = list(islice(iterator, self.n))
        count_written(len(records))
        return records


class Reduce:
    def __init__(self, func: Callable):
        self.func = func

    def __call__(self, partition: int, iterator: Iterator) -> Any:
        func = self.func
        iterator = iter(iterator)
        acc = next(iterator, EMPTY)
        if acc is EMPTY:
            return EMPTY
        for item in iterator:
            acc = func(acc, item)
        return acc


class Fold:
    def __init__(self, zero: Any, func: Callable):
        self.zero = zero
        self.func = func

    def __call__(self, partition: int, iterator: Iterator) -> Any:
        import copy

        acc = copy.deepcopy(self.zero)
        func = self.func
        for item in iterator:
            acc = func(acc, item)
        return acc


class Aggregate(Fold):
    pass


class CountValues:
    def __call__(self, partition: int, iterator: Iterator) -> Counter:
        return Counter(iterator)


class Top:
    def __init__(self, n: int, key: Callable | None, largest: bool = True):
        self.n, self.key, self.largest = n, key, largest

    def __call__(self, partition: int, iterator: Iterator) -> list:
        import heapq

        pick = heapq.nlargest if self.largest else heapq.nsmallest
        return pick(self.n, iterator, key=self.key)


class Stats:
    """count, sum, min, max in one pass (for mean and friends)."""

    def __call__(self, partition: int, iterator: Iterator):
        n, total, low, high = 0, 0, None, None
        for x in iterator:
            n += 1
            total = total + x
            if low is None or x < low:
                low = x
            if high is None or x > high:
                high = x
        return n, total, low, high
