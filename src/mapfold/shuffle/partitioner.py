"""Partitioners: which bucket a key goes to, the same in every process.

Equality is what co-partitioning rests on (``dataset/keyed.py``): two
Datasets whose partitioners compare equal hold each key in the same
partition, so a by-key operation or a join between them needs no shuffle.
It is exact: the same kind, the same number of buckets, and for a custom
partition function the very same function object (as PySpark compares its
``Partitioner``); two lambdas that happen to agree are not equal.
"""
from __future__ import annotations

from typing import Callable

from ..core.hashing import stable_hash

__all__ = ["HashPartitioner", "FuncPartitioner", "RangePartitioner", "partitioner_for"]


class HashPartitioner:
    """``stable_hash(key) % buckets``.

    >>> HashPartitioner(4)("word") == HashPartitioner(4)("word")
    True
    """

    def __init__(self, buckets: int):
        self.buckets = buckets

    def __call__(self, key) -> int:
        return stable_hash(key) % self.buckets

    def __eq__(self, other) -> bool:
        return type(other) is HashPartitioner and other.buckets == self.buckets

    def __hash__(self) -> int:
        return hash(("hash", self.buckets))

    def __repr__(self) -> str:
        return f"HashPartitioner({self.buckets})"

    def describe(self) -> str:
        return f"hash-partitioned into {self.buckets}"


class FuncPartitioner:
    """``func(key) % buckets``, for ``partition_by(n, func)``; equal only for
    the same function object and the same number of buckets.

    >>> first_letter = lambda key: ord(key[0])
    >>> FuncPartitioner(first_letter, 4) == FuncPartitioner(first_letter, 4)
    True
    >>> FuncPartitioner(first_letter, 4) == FuncPartitioner(lambda key: ord(key[0]), 4)
    False
    """

    def __init__(self, func: Callable, buckets: int):
        self.func, self.buckets = func, buckets

    def __call__(self, key) -> int:
        return self.func(key) % self.buckets

    def __eq__(self, other) -> bool:
        return type(other) is FuncPartitioner and other.func is self.func and other.buckets == self.buckets

    def __hash__(self) -> int:
        return hash(("func", id(self.func), self.buckets))

    def describe(self) -> str:
        name = getattr(self.func, "__qualname__", type(self.func).__name__)
        return f"partitioned by {name} into {self.buckets}"


def partitioner_for(buckets: int, func: Callable | None = None):
    """The partitioner of ``partition_by(buckets, func)``: ``func=None`` or
    ``stable_hash`` itself is the hash partitioner (the same buckets).

    >>> partitioner_for(3, stable_hash) == partitioner_for(3) == HashPartitioner(3)
    True
    """
    if func is None or func is stable_hash:
        return HashPartitioner(buckets)
    return FuncPartitioner(func, buckets)


class RangePartitioner:
    """Keys to partitions by sorted bounds (for a globally sorted output).

    Never equal to another partitioner: its bounds come from a sample, and
    keys that compare equal across types (``1 == 1.0 == True``) make equal
    bounds an unsafe proof of equal placement; ``sort_by`` output is not
    taken as co-partitioned with anything.
    """

    def __init__(self, bounds: list, ascending: bool = True):
        self.bounds = bounds
        self.ascending = ascending
        self.buckets = len(bounds) + 1

    def __call__(self, key) -> int:
        import bisect

        index = bisect.bisect_left(self.bounds, key)
        return index if self.ascending else len(self.bounds) - index

    @staticmethod
    def from_sample(keys_dataset, partitions: int, runner=None, per_partition: int = 100) -> list:
        """Bounds that cut a sample of the keys into ``partitions`` equal parts."""
        if partitions <= 1:
            return []
        total = keys_dataset.node.num_partitions
        sample = sorted(keys_dataset.map_partitions(_ReservoirSample(per_partition * partitions // max(1, total) + 20))
                        .collect(runner=runner))
        if not sample:
            return []
        step = len(sample) / partitions
        bounds = []
        for i in range(1, partitions):
            candidate = sample[min(len(sample) - 1, int(i * step))]
            if not bounds or candidate > bounds[-1]:
                bounds.append(candidate)
        return bounds


class _ReservoirSample:
    def __init__(self, size: int):
        self.size = size

    def __call__(self, iterator):
        import random

        rng = random.Random(7)
        reservoir = []
        for i, x in enumerate(iterator):
            if i < self.size:
                reservoir.append(x)
            else:
                j = rng.randrange(i + 1)
                if j < self.size:
                    reservoir[j] = x
        return reservoir
