"""Partitioners: which bucket a key goes to, the same in every process."""
from __future__ import annotations

from ..core.hashing import stable_hash

__all__ = ["HashPartitioner"]


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


class RangePartitioner:
    """Keys to partitions by sorted bounds (for a globally sorted output)."""

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
