"""Operations that pair or regroup whole partitions: ``zip``, ``cartesian``,
``subtract``, ``intersection``, ``coalesce``, ``zip_with_unique_id``, ``pipe``.

The partition layouts are PySpark's: ``zip`` keeps this Dataset's
partitions, ``cartesian``'s partition ``i * m + j`` pairs partition ``i``
of this Dataset with partition ``j`` of the other, ``coalesce(n)`` merges
runs of neighbouring partitions (partition ``g`` holds parents
``g * N // n`` up to ``(g + 1) * N // n``), records in order.
"""
from __future__ import annotations

import itertools
import shlex
import subprocess
import threading
from typing import Any

from ..core.errors import MapfoldError
from . import transforms as t
from .checks import check_bool, check_count, check_datasets

__all__ = ["CombiningMixin"]


class CombiningMixin:
    node: Any

    def zip(self, other, runner=None):
        """``(x, y)`` pairs of the records at the same position of this Dataset
        and ``other``, which must have as many partitions, each with as many
        records (PySpark's ``zip``; counting them is one pass of each, run now).

        >>> from mapfold import from_sequence
        >>> a, b = from_sequence("abc", partitions=2), from_sequence([1, 2, 3], partitions=2)
        >>> a.zip(b, runner="serial").collect(runner="serial")
        [('a', 1), ('b', 2), ('c', 3)]
        """
        check_datasets([other], "zip", "other")
        if other.num_partitions != self.num_partitions:
            raise MapfoldError(f"zip(): both sides need the same number of partitions, not "
                               f"{self.num_partitions} and {other.num_partitions}")
        sizes = self._partition_sizes(runner)
        other_sizes = other._partition_sizes(runner)
        if sizes != other_sizes:
            raise MapfoldError(f"zip(): both sides need as many records in each partition; "
                               f"partition sizes {sizes} and {other_sizes}")
        offsets = list(itertools.accumulate([0] + sizes[:-1]))
        place = _PartitionOfIndex(offsets)
        left = self._narrow(t.ZipWithIndex(offsets), "zip index").map(_swap).partition_by(len(sizes), place)
        right = other._narrow(t.ZipWithIndex(offsets), "zip index").map(_swap).partition_by(len(sizes), place)
        return left.join(right).map_partitions(_in_index_order).values()

    def _partition_sizes(self, runner=None) -> list[int]:
        from .dataset import _count_partition

        return self._partition_values(_count_partition, "count partitions", runner=runner)

    def zip_with_unique_id(self):
        """``(record, id)``: the ``k``-th record of partition ``i`` of ``n`` gets
        ``i + k * n`` (PySpark's ``zipWithUniqueId``); no pass over the data.

        >>> from mapfold import from_sequence
        >>> from_sequence("abcde", partitions=2).zip_with_unique_id().collect(runner="serial")
        [('a', 0), ('b', 2), ('c', 4), ('d', 1), ('e', 3)]
        """
        return self.map_partitions_with_index(_UniqueIds(self.num_partitions))

    def cartesian(self, other):
        """Every ``(x, y)`` of a record of this Dataset and one of ``other``.

        >>> from mapfold import from_sequence
        >>> sorted(from_sequence([1, 2]).cartesian(from_sequence("ab")).collect(runner="serial"))
        [(1, 'a'), (1, 'b'), (2, 'a'), (2, 'b')]
        """
        check_datasets([other], "cartesian", "other")
        m, n = self.num_partitions, other.num_partitions
        left = self.map_partitions_with_index(_ToCells(0, n, m, True))
        right = other.map_partitions_with_index(_ToCells(1, n, m, False))
        cells = max(m * n, 1)
        return left.union(right).partition_by(cells, _identity).map_partitions(_cell_product)

    def subtract(self, other, partitions: int | None = None):
        """Records of this Dataset not in ``other`` (duplicates kept, as PySpark).

        >>> from mapfold import from_sequence
        >>> sorted(from_sequence([1, 2, 2, 3]).subtract(from_sequence([3])).collect(runner="serial"))
        [1, 2, 2]
        """
        check_datasets([other], "subtract", "other")
        return self.map(_with_true).subtract_by_key(other.map(_with_true), partitions).keys()

    def intersection(self, other, partitions: int | None = None):
        """The distinct records found in both Datasets.

        >>> from mapfold import from_sequence
        >>> sorted(from_sequence([1, 2, 2, 3]).intersection(from_sequence([2, 3, 4])).collect(runner="serial"))
        [2, 3]
        """
        check_datasets([other], "intersection", "other")
        return self.map(_with_none).cogroup(other.map(_with_none), partitions=partitions).filter(_in_both).keys()

    def coalesce(self, partitions: int, shuffle: bool = False):
        """Fewer partitions: neighbouring partitions merged in order
        (``shuffle=True``: :meth:`repartition`, which can also make more).
        Asking for as many or more partitions without a shuffle keeps them.

        Each output partition's task reads its parents one after the other
        (no shuffle); a runner that cannot read several inputs in one task
        (Spark's) moves each whole parent partition through a shuffle instead.

        >>> from mapfold import from_sequence
        >>> merged = from_sequence(range(6), partitions=3).coalesce(2)
        >>> merged.glom().collect(runner="serial"), merged.glom().collect(runner="processes")
        ([[0, 1], [2, 3, 4, 5]], [[0, 1], [2, 3, 4, 5]])
        >>> "no shuffle" in merged.explain_string()
        True
        """
        check_count(partitions, "partitions", "coalesce")
        check_bool(shuffle, "shuffle", "coalesce")
        if shuffle:
            return self.repartition(partitions)
        parents = self.num_partitions
        if partitions >= parents:
            return self
        from ..plan.nodes import CoalesceNode
        from .dataset import Dataset

        groups = [list(range(g * parents // partitions, (g + 1) * parents // partitions)) for g in range(partitions)]
        target = [g for g, group in enumerate(groups) for _ in group]
        whole = self.map_partitions_with_index(_WholePartition(target))
        fallback = whole.partition_by(partitions, _identity).map_partitions(_unwhole)
        return Dataset(CoalesceNode(self.node, groups, fallback.node))

    def random_split(self, weights: list[float], seed: int | None = None) -> list:
        """Datasets holding disjoint random parts of the records, about in the
        proportions of ``weights`` (PySpark's ``randomSplit``): every part draws
        the same random number per record, from ``seed``, and keeps its range.

        >>> from mapfold import from_sequence
        >>> parts = from_sequence(range(100), partitions=2).random_split([1, 3], seed=5)
        >>> a, b = (p.collect(runner="serial") for p in parts)
        >>> sorted(a + b) == list(range(100)), 10 < len(a) < 40
        (True, True)
        """
        import random
        import sys

        if not weights or any(w < 0 for w in weights) or sum(weights) <= 0:
            raise ValueError(f"random_split(): weights must be non-negative with a positive sum, not {weights!r}")
        seed = random.randrange(sys.maxsize) if seed is None else seed
        total = float(sum(weights))
        bounds = list(itertools.accumulate([0.0] + [w / total for w in weights]))
        return [self._narrow(_RangeSample(low, high, seed), "random_split", preserves_partitioning=True)
                for low, high in zip(bounds, bounds[1:])]

    def sample_by_key(self, with_replacement: bool, fractions: dict, seed: int = 0):
        """``(key, value)`` records sampled with a fraction per key (PySpark's ``sampleByKey``).

        >>> from mapfold import from_sequence
        >>> ds = from_sequence([("a", i) for i in range(100)] + [("b", i) for i in range(100)])
        >>> picked = ds.sample_by_key(False, {"a": 0.5, "b": 0.0}, seed=1).collect(runner="serial")
        >>> {k for k, _ in picked}, 25 < len(picked) < 75
        ({'a'}, True)
        """
        check_bool(with_replacement, "with_replacement", "sample_by_key")
        for key, fraction in fractions.items():
            if fraction < 0 or (fraction > 1 and not with_replacement):
                raise ValueError(f"sample_by_key(): the fraction of {key!r} must be in [0, 1]"
                                 f"{'' if with_replacement else ' without replacement'}, not {fraction!r}")
        return self._narrow(_KeySample(dict(fractions), seed, with_replacement), "sample_by_key",
                            preserves_partitioning=True)

    def pipe(self, command: str, env: dict | None = None, check_code: bool = False):
        """Each partition's records, one ``str(record)`` per line, through the
        standard input of ``command`` (split as a shell would, no shell run);
        the records are its output lines (PySpark's ``pipe``). ``env``
        replaces the environment; ``check_code`` raises when it exits non-zero.

        >>> from mapfold import from_sequence
        >>> from_sequence(["b", "a", "c"], partitions=1).pipe("sort").collect(runner="serial")
        ['a', 'b', 'c']
        """
        if not isinstance(command, str):
            raise TypeError(f"pipe(): command must be a str, not {type(command).__name__}")
        check_bool(check_code, "check_code", "pipe")
        return self.map_partitions(_Pipe(command, env, check_code))


def _swap(pair):
    return pair[1], pair[0]


def _identity(key):
    return key


def _with_true(x):
    return x, True


def _with_none(x):
    return x, None


def _in_both(kv) -> bool:
    return all(kv[1])


class _PartitionOfIndex:
    """The partition holding record number ``index``, from partition offsets."""

    def __init__(self, offsets: list[int]):
        self.offsets = offsets

    def __call__(self, index: int) -> int:
        import bisect

        return bisect.bisect_right(self.offsets, index) - 1


def _in_index_order(iterator):
    return sorted(iterator, key=_first)


def _first(pair):
    return pair[0]


class _UniqueIds:
    def __init__(self, partitions: int):
        self.partitions = partitions

    def __call__(self, index, iterator):
        return ((x, k * self.partitions + index) for k, x in enumerate(iterator))


class _ToCells:
    """Each record of side 0 (partition ``i``) to the cells ``i * n + j`` for every ``j``, and of side 1
    (partition ``j``) to ``i * n + j`` for every ``i``: cell ``i * n + j`` meets both partitions."""

    def __init__(self, side: int, n: int, m: int, left: bool):
        self.side, self.n, self.m, self.left = side, n, m, left

    def __call__(self, index, iterator):
        records = list(iterator)
        if self.left:
            cells = [index * self.n + j for j in range(self.n)]
        else:
            cells = [i * self.n + index for i in range(self.m)]
        return ((cell, (self.side, x)) for cell in cells for x in records)


def _cell_product(iterator):
    sides: tuple[list, list] = ([], [])
    for _, (side, x) in iterator:
        sides[side].append(x)
    return itertools.product(*sides)


class _WholePartition:
    def __init__(self, groups: list[int]):
        self.groups = groups

    def __call__(self, index, iterator):
        return [(self.groups[index], (index, list(iterator)))]


def _unwhole(iterator):
    parts = sorted((part for _, part in iterator), key=_first)
    return itertools.chain.from_iterable(records for _, records in parts)


class _RangeSample:
    def __init__(self, low: float, high: float, seed: int):
        self.low, self.high, self.seed = low, high, seed

    def __call__(self, index, iterator):
        import random

        rng = random.Random(self.seed * 1_000_003 + index)
        return (x for x in iterator if self.low <= rng.random() < self.high)


class _KeySample:
    def __init__(self, fractions: dict, seed: int, with_replacement: bool):
        self.fractions, self.seed, self.with_replacement = fractions, seed, with_replacement

    def __call__(self, index, iterator):
        import math
        import random

        rng = random.Random(self.seed * 1_000_003 + index)
        for record in iterator:
            fraction = self.fractions[record[0]]
            if not self.with_replacement:
                if rng.random() < fraction:
                    yield record
                continue
            for _ in range(t.poisson_count(rng, math.exp(-fraction))):
                yield record


class _Pipe:
    def __init__(self, command: str, env: dict | None, check_code: bool):
        self.command, self.env, self.check_code = command, env, check_code

    def __call__(self, iterator):
        process = subprocess.Popen(shlex.split(self.command), env=self.env, stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE)

        def feed():
            try:
                for record in iterator:
                    process.stdin.write((str(record).rstrip("\n") + "\n").encode("utf-8"))
            finally:
                process.stdin.close()

        # the records are written from a thread so a command that answers while reading never blocks
        writer = threading.Thread(target=feed, daemon=True)
        writer.start()
        lines = [line.rstrip(b"\n").decode("utf-8") for line in process.stdout]
        writer.join()
        code = process.wait()
        if self.check_code and code:
            raise MapfoldError(f"pipe(): {self.command!r} exited with code {code}")
        return lines
