"""Narrow transforms: ``transform(partition_index, iterator) -> iterator``.

Built from ``map``, ``filter`` and ``itertools.chain`` where possible so a
fused pipeline runs at C speed with no Python frame per record.
"""
from __future__ import annotations

import random
from itertools import chain
from typing import Callable, Iterator

from ..shuffle.records import checked_pairs

__all__ = [
    "Map", "FlatMap", "Filter", "MapValues", "FlatMapValues", "KeyBy",
    "MapPartitions", "MapPartitionsWithIndex", "Sample", "ZipWithIndex",
]


class Map:
    def __init__(self, func: Callable):
        self.func = func

    def __call__(self, index: int, iterator: Iterator) -> Iterator:
        return map(self.func, iterator)


class FlatMap(Map):
    def __call__(self, index: int, iterator: Iterator) -> Iterator:
        return chain.from_iterable(map(self.func, iterator))


class Filter(Map):
    def __call__(self, index: int, iterator: Iterator) -> Iterator:
        return filter(self.func, iterator)


class MapValues(Map):
    # the first record's shape is checked (once per partition, shuffle/records.py): a dict
    # of two fields would otherwise unpack silently as its field names
    def __call__(self, index: int, iterator: Iterator) -> Iterator:
        func = self.func
        return ((key, func(value)) for key, value in checked_pairs(iterator, "map_values"))


class FlatMapValues(Map):
    def __call__(self, index: int, iterator: Iterator) -> Iterator:
        func = self.func
        return ((key, item) for key, value in checked_pairs(iterator, "flat_map_values") for item in func(value))


class KeyBy(Map):
    def __call__(self, index: int, iterator: Iterator) -> Iterator:
        func = self.func
        return ((func(x), x) for x in iterator)


class MapPartitions(Map):
    def __call__(self, index: int, iterator: Iterator) -> Iterator:
        return iter(self.func(iterator))


class MapPartitionsWithIndex(Map):
    def __call__(self, index: int, iterator: Iterator) -> Iterator:
        return iter(self.func(index, iterator))


class Sample:
    """Bernoulli (or Poisson, with replacement) sampling, seeded per partition."""

    def __init__(self, fraction: float, seed: int, with_replacement: bool):
        self.fraction, self.seed, self.with_replacement = fraction, seed, with_replacement

    def __call__(self, index: int, iterator: Iterator) -> Iterator:
        rng = random.Random(self.seed * 1_000_003 + index)
        fraction = self.fraction
        if not self.with_replacement:
            return (x for x in iterator if rng.random() < fraction)
        return _poisson_sample(iterator, rng, fraction)


def _poisson_sample(iterator: Iterator, rng: random.Random, mean: float) -> Iterator:
    import math

    limit = math.exp(-mean)
    for x in iterator:
        for _ in range(poisson_count(rng, limit)):
            yield x


def poisson_count(rng: random.Random, limit: float) -> int:
    """Knuth's Poisson draw with mean ``m`` (``limit = exp(-m)``): how many copies of a record go into a sample.

    >>> poisson_count(random.Random(0), 1.0)  # mean 0: never a copy
    0
    """
    k, p = 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


class ZipWithIndex:
    def __init__(self, offsets: list[int]):
        self.offsets = offsets

    def __call__(self, index: int, iterator: Iterator) -> Iterator:
        return ((x, i) for i, x in enumerate(iterator, self.offsets[index]))
