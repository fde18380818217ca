"""Numeric summaries and sampling actions: ``stats``, ``histogram``,
``tree_aggregate``/``tree_reduce``, ``take_sample``.

Each computes a value per partition and merges them on the driver in
partition order (as PySpark's ``RDD.stats`` and ``RDD.histogram`` do), so a
result is the same on every runner.
"""
from __future__ import annotations

import bisect
import copy
import math
import random
import sys
from typing import Any, Callable, Iterable

from .checks import check_bool, check_callable, check_count

__all__ = ["Stats", "StatisticsMixin"]


class Stats:
    """Count, mean, variance, min and max of numbers, mergeable (Welford's
    updates, Chan's merge: PySpark's ``StatCounter`` arithmetic).

    >>> s = Stats([1, 2, 3, 4])
    >>> s.count, s.mean, s.sum, s.min, s.max, s.variance, s.sample_variance
    (4, 2.5, 10.0, 1, 4, 1.25, 1.6666666666666667)
    >>> Stats([1, 2]).merge_stats(Stats([3, 4])).mean
    2.5
    """

    def __init__(self, values: Iterable = ()):
        self.n = 0
        self.mu = 0.0
        self.m2 = 0.0
        self.max_value = float("-inf")
        self.min_value = float("inf")
        for value in values:
            self.merge(value)

    def merge(self, value) -> "Stats":
        """Add one number."""
        delta = value - self.mu
        self.n += 1
        self.mu += delta / self.n
        self.m2 += delta * (value - self.mu)
        self.max_value = max(self.max_value, value)
        self.min_value = min(self.min_value, value)
        return self

    def merge_stats(self, other: "Stats") -> "Stats":
        """Add the numbers ``other`` summarises (in place; returns self)."""
        if other is self:
            return self.merge_stats(copy.copy(other))
        if self.n == 0:
            self.mu, self.m2, self.n = other.mu, other.m2, other.n
            self.max_value, self.min_value = other.max_value, other.min_value
        elif other.n != 0:
            delta = other.mu - self.mu
            if other.n * 10 < self.n:
                self.mu = self.mu + (delta * other.n) / (self.n + other.n)
            elif self.n * 10 < other.n:
                self.mu = other.mu - (delta * self.n) / (self.n + other.n)
            else:
                self.mu = (self.mu * self.n + other.mu * other.n) / (self.n + other.n)
            self.max_value = max(self.max_value, other.max_value)
            self.min_value = min(self.min_value, other.min_value)
            self.m2 += other.m2 + (delta * delta * self.n * other.n) / (self.n + other.n)
            self.n += other.n
        return self

    @property
    def count(self) -> int:
        return self.n

    @property
    def mean(self) -> float:
        return self.mu

    @property
    def sum(self) -> float:
        return self.n * self.mu

    @property
    def min(self):
        return self.min_value

    @property
    def max(self):
        return self.max_value

    @property
    def variance(self) -> float:
        """The population variance (NaN when empty)."""
        return math.nan if self.n == 0 else self.m2 / self.n

    @property
    def sample_variance(self) -> float:
        """The sample variance, divided by ``n - 1`` (NaN below two values)."""
        return math.nan if self.n <= 1 else self.m2 / (self.n - 1)

    @property
    def stdev(self) -> float:
        return math.sqrt(self.variance)

    @property
    def sample_stdev(self) -> float:
        return math.sqrt(self.sample_variance)

    def __repr__(self) -> str:
        return f"(count: {self.n}, mean: {self.mu}, stdev: {self.stdev}, max: {self.max_value}, min: {self.min_value})"


class _PartitionStats:
    def __init__(self, make: Callable):
        self.make = make

    def __call__(self, iterator):
        return [self.make(iterator)]


class StatisticsMixin:
    node: Any

    def stats(self, runner=None, progress=None) -> Stats:
        """A :class:`Stats` of the records (numbers), one pass.

        >>> from mapfold import from_sequence
        >>> s = from_sequence([2, 4, 4, 4, 5, 5, 7, 9], partitions=3).stats(runner="serial")
        >>> s.count, s.mean, s.stdev, s.min, s.max
        (8, 5.0, 2.0, 2, 9)
        """
        return self.map_partitions(_PartitionStats(Stats)).reduce(Stats.merge_stats, runner=runner, progress=progress)

    def variance(self, runner=None, progress=None) -> float:
        """The population variance of the records."""
        return self.stats(runner, progress).variance

    def stdev(self, runner=None, progress=None) -> float:
        """The population standard deviation of the records."""
        return self.stats(runner, progress).stdev

    def histogram(self, buckets, runner=None, progress=None) -> tuple[list, list[int]]:
        """``(bucket bounds, counts)``, PySpark's ``RDD.histogram``: ``buckets``
        is a number of evenly spaced buckets between the min and the max, or
        the sorted bounds themselves. Buckets are ``[lo, hi)`` but the last is
        ``[lo, hi]``; ``None``, NaN and values outside the bounds are not counted.

        >>> from mapfold import from_sequence
        >>> from_sequence(range(51), partitions=2).histogram(2, runner="serial")
        ([0, 25, 50], [25, 26])
        >>> from_sequence([1, 2, 3, 10], partitions=2).histogram([0, 5, 10], runner="serial")
        ([0, 5, 10], [3, 1])
        """
        run = {"runner": runner, "progress": progress}
        if isinstance(buckets, int) and not isinstance(buckets, bool):
            if buckets < 1:
                raise ValueError("histogram(): the number of buckets must be >= 1")
            comparable = self.filter(_comparable)
            try:
                low, high = comparable.map(_twice).reduce(_min_max, **run)
            except ValueError as exc:
                raise ValueError("histogram(): cannot make buckets from an empty Dataset") from exc
            if low == high or buckets == 1:
                return [low, high], [comparable.count(**run)]
            try:
                inc = (high - low) / buckets
            except TypeError:
                raise TypeError("histogram(): cannot make buckets from records that are not numbers") from None
            if math.isinf(inc):
                raise ValueError("histogram(): cannot make buckets with an infinite value")
            inc = int(inc)  # integer bounds when they divide evenly (as PySpark)
            if inc * buckets != high - low:
                inc = (high - low) * 1.0 / buckets
            bounds = [i * inc + low for i in range(buckets)]
            bounds.append(high)
            even = True
        elif isinstance(buckets, (list, tuple)):
            bounds, even, inc = _check_bounds(list(buckets))
        else:
            raise TypeError(f"histogram(): buckets must be an int, a list or a tuple, not {type(buckets).__name__}")
        counter = _Histogram(bounds, even, inc)
        return bounds, self.map_partitions(counter).reduce(_add_counts, **run)

    def tree_aggregate(self, zero: Any, seq_op: Callable, comb_op: Callable, depth: int = 2,
                       runner=None, progress=None) -> Any:
        """:meth:`aggregate`, with the partial results combined in a tree of
        ``depth`` levels through shuffles (PySpark's ``treeAggregate``), so
        the driver merges few of them. ``comb_op`` must be commutative.

        >>> from mapfold import from_sequence
        >>> from_sequence(range(100), partitions=10).tree_aggregate(0, lambda a, x: a + x, lambda a, b: a + b,
        ...                                                         runner="serial")
        4950
        """
        check_callable(seq_op, "seq_op", "tree_aggregate")
        check_callable(comb_op, "comb_op", "tree_aggregate")
        check_count(depth, "depth", "tree_aggregate", minimum=1)
        partitions = self.num_partitions
        if partitions == 0:
            return zero
        partial = self.map_partitions(_AggregatePartition(zero, seq_op))
        scale = max(int(math.ceil(pow(partitions, 1.0 / depth))), 2)
        while partitions > scale + partitions / scale:
            partitions = int(partitions / scale)
            partial = partial.map_partitions_with_index(_KeyByBucket(partitions)).reduce_by_key(
                comb_op, partitions).values()
        return partial.reduce(comb_op, runner=runner, progress=progress)

    def tree_reduce(self, func: Callable, depth: int = 2, runner=None, progress=None) -> Any:
        """:meth:`reduce` combined in a tree of ``depth`` levels (PySpark's ``treeReduce``).

        >>> from mapfold import from_sequence
        >>> from_sequence(range(1, 11), partitions=5).tree_reduce(max, runner="serial")
        10
        """
        check_callable(func, "func", "tree_reduce")
        marked = self.map(_present)
        total = marked.tree_aggregate(_ABSENT, _Either(func), _Either(func), depth, runner, progress)
        if total[0] == _ABSENT_MARK:
            raise ValueError("tree_reduce() of an empty Dataset")
        return total[1]

    def take_sample(self, with_replacement: bool, num: int, seed: int | None = None, runner=None,
                    progress=None) -> list:
        """``num`` records drawn at random (PySpark's ``takeSample``): counts
        the records, samples a fraction sure to give enough, draws again if it
        did not, and shuffles. Reproducible for a given ``seed``.

        >>> from mapfold import from_sequence
        >>> ds = from_sequence(range(100), partitions=4)
        >>> len(ds.take_sample(False, 10, seed=7, runner="serial")), len(set(ds.take_sample(False, 10, 7, runner="serial")))
        (10, 10)
        >>> ds.take_sample(True, 5, seed=3, runner="serial") == ds.take_sample(True, 5, seed=3, runner="serial")
        True
        """
        check_bool(with_replacement, "with_replacement", "take_sample")
        check_count(num, "num", "take_sample", minimum=0)
        run = {"runner": runner, "progress": progress}
        if num == 0:
            return []
        total = self.count(**run)
        if total == 0:
            return []
        if seed is None:
            seed = random.randrange(sys.maxsize)
        rng = random.Random(seed)
        if not with_replacement and num >= total:
            records = self.collect(**run)
            rng.shuffle(records)
            return records
        if num > sys.maxsize - int(10.0 * math.sqrt(sys.maxsize)):
            raise ValueError("take_sample(): num is too large")
        fraction = _fraction_for_size(num, total, with_replacement)
        records = self.sample(fraction, seed, with_replacement).collect(**run)
        while len(records) < num:  # too few, rarely: draw again with another seed
            seed = rng.randrange(sys.maxsize)
            records = self.sample(fraction, seed, with_replacement).collect(**run)
        rng.shuffle(records)
        return records[:num]


def _fraction_for_size(num: int, total: int, with_replacement: bool) -> float:
    """A sampling fraction that gives at least ``num`` of ``total`` records 99.99% of the time (PySpark's)."""
    fraction = float(num) / total
    if with_replacement:
        spread = 9 if num < 12 else 5
        return fraction + spread * math.sqrt(fraction / total)
    delta = 0.00005
    gamma = -math.log(delta) / total
    return min(1, fraction + gamma + math.sqrt(gamma * gamma + 2 * gamma * fraction))


def _comparable(x) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x))


def _twice(x):
    return x, x


def _min_max(a, b):
    return min(a[0], b[0]), max(a[1], b[1])


def _add_counts(a, b):
    return [i + j for i, j in zip(a, b)]


def _check_bounds(bounds: list):
    if len(bounds) < 2:
        raise ValueError("histogram(): buckets must hold at least two bounds")
    if any(not _comparable(b) for b in bounds):
        raise ValueError("histogram(): buckets cannot hold None or NaN")
    if sorted(bounds) != bounds:
        raise ValueError("histogram(): buckets must be sorted")
    if len(set(bounds)) != len(bounds):
        raise ValueError("histogram(): buckets must not repeat a bound")
    try:
        steps = [bounds[i + 1] - bounds[i] for i in range(len(bounds) - 1)]
    except TypeError:  # bounds that cannot be subtracted: found by bisection
        return bounds, False, None
    if max(steps) - min(steps) < 1e-10:
        return bounds, True, (bounds[-1] - bounds[0]) / (len(bounds) - 1)
    return bounds, False, None


class _Histogram:
    def __init__(self, bounds: list, even: bool, inc):
        self.bounds, self.even, self.inc = bounds, even, inc

    def __call__(self, iterator):
        bounds, low, high = self.bounds, self.bounds[0], self.bounds[-1]
        counts = [0] * len(bounds)
        for x in iterator:
            if not _comparable(x) or x > high or x < low:
                continue
            slot = int((x - low) / self.inc) if self.even else bisect.bisect_right(bounds, x) - 1
            counts[slot] += 1
        last = counts.pop()  # the last bucket is closed: its top bound counts in it
        counts[-1] += last
        return [counts]


class _AggregatePartition:
    def __init__(self, zero, seq_op: Callable):
        self.zero, self.seq_op = zero, seq_op

    def __call__(self, iterator):
        acc = copy.deepcopy(self.zero)
        for x in iterator:
            acc = self.seq_op(acc, x)
        return [acc]


class _KeyByBucket:
    def __init__(self, buckets: int):
        self.buckets = buckets

    def __call__(self, index, iterator):
        return ((index % self.buckets, x) for x in iterator)


_ABSENT_MARK = "mapfold.tree_reduce.absent"
_ABSENT = (_ABSENT_MARK, None)


def _present(x):
    return (True, x)


class _Either:
    """``func`` over ``(present, value)`` pairs, where an absent side is skipped."""

    def __init__(self, func: Callable):
        self.func = func

    def __call__(self, a, b):
        if a[0] == _ABSENT_MARK:
            return b
        if b[0] == _ABSENT_MARK:
            return a
        return (True, self.func(a[1], b[1]))
