"""``StatCounter``: PySpark's name for :class:`mapfold.dataset.statistics.Stats`, with its camelCase methods.

>>> s = StatCounter([1.0, 2.0, 3.0, 4.0])
>>> s.count(), s.mean(), s.sum(), s.min(), s.max(), s.variance(), s.sampleVariance()
(4, 2.5, 10.0, 1.0, 4.0, 1.25, 1.6666666666666667)
>>> s
(count: 4, mean: 2.5, stdev: 1.118033988749895, max: 4.0, min: 1.0)
"""
from __future__ import annotations

import copy
import math
from typing import Iterable

from ...dataset.statistics import Stats

__all__ = ["StatCounter"]


class StatCounter(Stats):
    """Count, mean, variance, min and max of numbers, with PySpark's method names."""

    def __init__(self, values: Iterable | None = None):
        super().__init__(values or ())

    @classmethod
    def of(cls, stats: Stats) -> "StatCounter":
        counter = cls()
        counter.merge_stats(stats)
        return counter

    def mergeStats(self, other: "StatCounter") -> "StatCounter":
        return self.merge_stats(other)

    def copy(self) -> "StatCounter":
        return copy.deepcopy(self)

    def count(self) -> int:  # type: ignore[override]
        return self.n

    def mean(self) -> float:  # type: ignore[override]
        return self.mu

    def sum(self) -> float:  # type: ignore[override]
        return self.n * self.mu

    def min(self) -> float:  # type: ignore[override]
        """A float, as PySpark's (its ``numpy.minimum`` against ``inf`` makes one)."""
        return float(self.min_value)

    def max(self) -> float:  # type: ignore[override]
        return float(self.max_value)

    def variance(self) -> float:  # type: ignore[override]
        return math.nan if self.n == 0 else self.m2 / self.n

    def sampleVariance(self) -> float:
        return math.nan if self.n <= 1 else self.m2 / (self.n - 1)

    def stdev(self) -> float:  # type: ignore[override]
        return math.sqrt(self.variance())

    def sampleStdev(self) -> float:
        return math.sqrt(self.sampleVariance())

    def asDict(self, sample: bool = False) -> dict:
        """As PySpark's, whose ``sample`` is the other way round: the sample's
        stdev and variance by default, the population's with ``sample=True``."""
        return {"count": self.count(), "mean": self.mean(), "sum": self.sum(), "min": self.min(), "max": self.max(),
                "stdev": self.stdev() if sample else self.sampleStdev(),
                "variance": self.variance() if sample else self.sampleVariance()}

    def __repr__(self) -> str:
        return f"(count: {self.n}, mean: {self.mu}, stdev: {self.stdev()}, max: {self.max()}, min: {self.min()})"
