"""``RDD``: a Dataset with PySpark's method names, argument names and defaults.

Each method is a thin translation to the snake_case Dataset method.
Arguments either do what PySpark's do or are refused (``UnsupportedError``);
none is accepted and ignored. The JVM-only methods are refused by the
table in ``unsupported.py``.

>>> from mapfold.compat.pyspark import SparkContext
>>> sc = SparkContext("local")
>>> sorted(sc.parallelize(["a b", "b"]).flatMap(str.split).map(lambda w: (w, 1))
...        .reduceByKey(lambda a, b: a + b).collect())
[('a', 1), ('b', 2)]
>>> sc.parallelize(range(10), 3).stats()
(count: 10, mean: 4.5, stdev: 2.8722813232690143, max: 9.0, min: 0.0)
>>> sc.stop()  # its runner and scratch folder go with it
"""
from __future__ import annotations

import random
import sys
from collections import defaultdict
from typing import Any, Callable, Iterable, Iterator

from ...core.hashing import stable_hash
from ...dataset.dataset import Dataset
from .context import SparkContext
from .statcounter import StatCounter
from .storagelevel import StorageLevel
from .unsupported import refuse, refuse_argument

__all__ = ["RDD", "portable_hash"]

portable_hash = stable_hash  # PySpark's default partitionFunc: here mapfold's stable hash, the same in every process
_CODECS = {None: None, "org.apache.hadoop.io.compress.GzipCodec": "gzip",
           "org.apache.hadoop.io.compress.BZip2Codec": "bz2", "org.apache.hadoop.io.compress.ZStandardCodec": "zstd"}


def _identity(x):
    return x


def _hash_only(partitionFunc: Callable, method: str) -> None:
    if partitionFunc is not portable_hash:
        raise refuse_argument(f"RDD.{method}", "partitionFunc=...",
                              "by-key operations shuffle by the stable hash; partitionBy(n, func) moves the records "
                              "by your function (a following by-key operation with the same n then uses the hash)")


@refuse
class RDD:
    """A Dataset with PySpark's method names (``rdd.dataset`` is the Dataset)."""

    def __init__(self, dataset: Dataset, context: SparkContext):
        self._ds = dataset
        self._context = context
        self._name: str | None = None
        self._level: StorageLevel | None = None
        self._id = next_id(context)

    @property
    def context(self) -> SparkContext:
        """The SparkContext this RDD was made by."""
        return self._context

    def _new(self, dataset: Dataset) -> "RDD":
        return RDD(dataset, self.context)

    def _run(self) -> dict:
        return {"runner": self.context.runner}

    @property
    def dataset(self) -> Dataset:
        """The mapfold Dataset behind this RDD."""
        return self._ds

    def __repr__(self) -> str:
        return f"{self._name or 'RDD'}[{self._id}] over {self._ds!r}"

    def id(self) -> int:
        return self._id

    def name(self) -> str | None:
        return self._name

    def setName(self, name: str) -> "RDD":
        self._name = name
        return self

    def getNumPartitions(self) -> int:
        return self._ds.num_partitions

    @property
    def partitioner(self):
        """The Dataset's partitioner (``mapfold.shuffle.partitioner``), or ``None``."""
        return self._ds.partitioner

    def toDebugString(self) -> str:
        """The plan's stages as text (mapfold's ``explain_string()``): a ``str``, where PySpark's is ``bytes``."""
        return self._ds.explain_string()

    # -- narrow transformations ------------------------------------------------
    def map(self, f: Callable, preservesPartitioning: bool = False) -> "RDD":
        if preservesPartitioning:
            return self.mapPartitions(_Each(f, flat=False), True)
        return self._new(self._ds.map(f))

    def flatMap(self, f: Callable, preservesPartitioning: bool = False) -> "RDD":
        if preservesPartitioning:
            return self.mapPartitions(_Each(f, flat=True), True)
        return self._new(self._ds.flat_map(f))

    def filter(self, f: Callable) -> "RDD":
        return self._new(self._ds.filter(f))

    def mapValues(self, f: Callable) -> "RDD":
        return self._new(self._ds.map_values(f))

    def flatMapValues(self, f: Callable) -> "RDD":
        return self._new(self._ds.flat_map_values(f))

    def keyBy(self, f: Callable) -> "RDD":
        return self._new(self._ds.key_by(f))

    def keys(self) -> "RDD":
        return self._new(self._ds.keys())

    def values(self) -> "RDD":
        return self._new(self._ds.values())

    def mapPartitions(self, f: Callable, preservesPartitioning: bool = False) -> "RDD":
        return self._new(self._ds.map_partitions(f, preservesPartitioning))

    def mapPartitionsWithIndex(self, f: Callable, preservesPartitioning: bool = False) -> "RDD":
        return self._new(self._ds.map_partitions_with_index(f, preservesPartitioning))

    def mapPartitionsWithSplit(self, f: Callable, preservesPartitioning: bool = False) -> "RDD":
        """Deprecated in PySpark: :meth:`mapPartitionsWithIndex`."""
        return self.mapPartitionsWithIndex(f, preservesPartitioning)

    def glom(self) -> "RDD":
        return self._new(self._ds.glom())

    def union(self, other: "RDD") -> "RDD":
        return self._new(self._ds.union(other._ds))

    def zip(self, other: "RDD") -> "RDD":
        """Pairs by position; both sides need as many partitions and records per partition (counted first)."""
        return self._new(self._ds.zip(other._ds, **self._run()))

    def zipWithIndex(self) -> "RDD":
        """``(record, index)``; counts the partitions first, as PySpark."""
        return self._new(self._ds.zip_with_index(**self._run()))

    def zipWithUniqueId(self) -> "RDD":
        return self._new(self._ds.zip_with_unique_id())

    def cartesian(self, other: "RDD") -> "RDD":
        """Every pair; partition ``i * m + j`` pairs partition ``i`` with the other's ``j``, as PySpark."""
        return self._new(self._ds.cartesian(other._ds))

    def pipe(self, command: str, env: dict | None = None, checkCode: bool = False) -> "RDD":
        """Each partition through ``command``'s stdin, one ``str(record)`` a line; its output lines."""
        return self._new(self._ds.pipe(command, env, checkCode))

    def sample(self, withReplacement: bool, fraction: float, seed: int | None = None) -> "RDD":
        """A random sample; without ``seed``, a different one at every call (as PySpark)."""
        return self._new(self._ds.sample(fraction, _seed(seed), withReplacement))

    def sampleByKey(self, withReplacement: bool, fractions: dict, seed: int | None = None) -> "RDD":
        return self._new(self._ds.sample_by_key(withReplacement, fractions, _seed(seed)))

    def randomSplit(self, weights: list[float], seed: int | None = None) -> list["RDD"]:
        return [self._new(part) for part in self._ds.random_split(weights, seed)]

    def coalesce(self, numPartitions: int, shuffle: bool = False) -> "RDD":
        """Neighbouring partitions merged as Spark merges them, each group read in one task (no shuffle)."""
        return self._new(self._ds.coalesce(numPartitions, shuffle))

    def repartition(self, numPartitions: int) -> "RDD":
        """Records spread round-robin over ``numPartitions`` (from a fixed start, where Spark's is random)."""
        return self._new(self._ds.repartition(numPartitions))

    # -- wide transformations ----------------------------------------------------
    def distinct(self, numPartitions: int | None = None) -> "RDD":
        return self._new(self._ds.distinct(numPartitions))

    def reduceByKey(self, func: Callable, numPartitions: int | None = None,
                    partitionFunc: Callable = portable_hash) -> "RDD":
        _hash_only(partitionFunc, "reduceByKey")
        return self._new(self._ds.reduce_by_key(func, numPartitions))

    def reduceByKeyLocally(self, func: Callable) -> dict:
        return dict(self._ds.reduce_by_key(func).collect(**self._run()))

    def foldByKey(self, zeroValue: Any, func: Callable, numPartitions: int | None = None,
                  partitionFunc: Callable = portable_hash) -> "RDD":
        _hash_only(partitionFunc, "foldByKey")
        return self._new(self._ds.fold_by_key(zeroValue, func, numPartitions))

    def aggregateByKey(self, zeroValue: Any, seqFunc: Callable, combFunc: Callable, numPartitions: int | None = None,
                       partitionFunc: Callable = portable_hash) -> "RDD":
        _hash_only(partitionFunc, "aggregateByKey")
        return self._new(self._ds.aggregate_by_key(zeroValue, seqFunc, combFunc, numPartitions))

    def combineByKey(self, createCombiner: Callable, mergeValue: Callable, mergeCombiners: Callable,
                     numPartitions: int | None = None, partitionFunc: Callable = portable_hash) -> "RDD":
        _hash_only(partitionFunc, "combineByKey")
        return self._new(self._ds.combine_by_key(createCombiner, mergeValue, mergeCombiners, numPartitions))

    def groupByKey(self, numPartitions: int | None = None, partitionFunc: Callable = portable_hash) -> "RDD":
        _hash_only(partitionFunc, "groupByKey")
        return self._new(self._ds.group_by_key(numPartitions))

    def groupBy(self, f: Callable, numPartitions: int | None = None, partitionFunc: Callable = portable_hash) -> "RDD":
        _hash_only(partitionFunc, "groupBy")
        return self._new(self._ds.group_by(f, numPartitions))

    def _pair_partitions(self, other: "RDD", numPartitions: int | None) -> int:
        """PySpark's default for two sides: the partitioning they share, else both sides' partitions together."""
        if numPartitions is not None:
            return numPartitions
        if self.partitioner is not None and self.partitioner == other.partitioner:
            return self.getNumPartitions()
        return self.getNumPartitions() + other.getNumPartitions()

    def cogroup(self, other: "RDD", numPartitions: int | None = None) -> "RDD":
        n = self._pair_partitions(other, numPartitions)
        return self._new(self._ds.cogroup(other._ds, partitions=n))

    def groupWith(self, other: "RDD", *others: "RDD") -> "RDD":
        n = sum(r.getNumPartitions() for r in (self, other, *others))
        return self._new(self._ds.cogroup(other._ds, *(o._ds for o in others), partitions=n))

    def join(self, other: "RDD", numPartitions: int | None = None) -> "RDD":
        return self._new(self._ds.join(other._ds, self._pair_partitions(other, numPartitions)))

    def leftOuterJoin(self, other: "RDD", numPartitions: int | None = None) -> "RDD":
        return self._new(self._ds.left_outer_join(other._ds, self._pair_partitions(other, numPartitions)))

    def rightOuterJoin(self, other: "RDD", numPartitions: int | None = None) -> "RDD":
        return self._new(self._ds.right_outer_join(other._ds, self._pair_partitions(other, numPartitions)))

    def fullOuterJoin(self, other: "RDD", numPartitions: int | None = None) -> "RDD":
        return self._new(self._ds.full_outer_join(other._ds, self._pair_partitions(other, numPartitions)))

    def subtractByKey(self, other: "RDD", numPartitions: int | None = None) -> "RDD":
        return self._new(self._ds.subtract_by_key(other._ds, self._pair_partitions(other, numPartitions)))

    def subtract(self, other: "RDD", numPartitions: int | None = None) -> "RDD":
        return self._new(self._ds.subtract(other._ds, self._pair_partitions(other, numPartitions)))

    def intersection(self, other: "RDD") -> "RDD":
        return self._new(self._ds.intersection(other._ds, self._pair_partitions(other, None)))

    def sortBy(self, keyfunc: Callable, ascending: bool = True, numPartitions: int | None = None) -> "RDD":
        return self._new(self._ds.sort_by(keyfunc, ascending, numPartitions, **self._run()))

    def sortByKey(self, ascending: bool = True, numPartitions: int | None = None,
                  keyfunc: Callable = _identity) -> "RDD":
        if keyfunc is _identity:
            return self._new(self._ds.sort_by_key(ascending, numPartitions, **self._run()))
        return self._new(self._ds.sort_by(_KeyOfKey(keyfunc), ascending, numPartitions, **self._run()))

    def partitionBy(self, numPartitions: int, partitionFunc: Callable = portable_hash) -> "RDD":
        """Records to ``partitionFunc(key) % numPartitions`` (default: mapfold's stable hash)."""
        return self._new(self._ds.partition_by(numPartitions, partitionFunc))

    def repartitionAndSortWithinPartitions(self, numPartitions: int | None = None,
                                           partitionFunc: Callable = portable_hash, ascending: bool = True,
                                           keyfunc: Callable = _identity) -> "RDD":
        n = numPartitions if numPartitions is not None else self.getNumPartitions()
        moved = self._ds.partition_by(n, partitionFunc)
        return self._new(moved.map_partitions(_SortedWithin(keyfunc, ascending), preserves_partitioning=True))

    # -- persistence ---------------------------------------------------------------
    # PySpark marks the RDD object it is called on and returns it; a Dataset's
    # persist() returns a new Dataset instead (plan nodes are shared), so the
    # RDD wrapper takes it on: RDDs derived from it from now on reuse it.
    def cache(self) -> "RDD":
        return self.persist(StorageLevel.MEMORY_ONLY)

    def persist(self, storageLevel: StorageLevel = StorageLevel.MEMORY_ONLY) -> "RDD":
        """Keep the partitions once computed. Where is the runner's choice (``Dataset.persist``); the level,
        which changes where they are kept but never the results, is what ``getStorageLevel()`` returns."""
        if not isinstance(storageLevel, StorageLevel):
            raise TypeError(f"persist(): storageLevel must be a StorageLevel, not {type(storageLevel).__name__}")
        if self._level is not None and self._level != storageLevel:
            raise refuse_argument("RDD.persist", f"storageLevel={storageLevel!r}",
                                  f"the RDD is already persisted at {self._level!r}; unpersist() it first (as PySpark)")
        self._ds = self._ds.persist()
        self._level = storageLevel
        return self

    def unpersist(self, blocking: bool = False) -> "RDD":
        """Release the kept partitions, at once (so ``blocking=True`` holds too)."""
        self._ds = self._ds.unpersist()
        self._level = None
        return self

    def getStorageLevel(self) -> StorageLevel:
        return self._level if self._level is not None else StorageLevel(False, False, False, False, 1)

    @property
    def is_cached(self) -> bool:
        return self._ds.is_cached

    # -- actions -------------------------------------------------------------------
    def collect(self) -> list:
        return self._ds.collect(**self._run())

    def toLocalIterator(self, prefetchPartitions: bool = False) -> Iterator:
        if prefetchPartitions:
            raise refuse_argument("RDD.toLocalIterator", "prefetchPartitions=True",
                                  "records stream one partition after the other; use collect() to compute all at once")
        return self._ds.iterate(**self._run())

    def collectAsMap(self) -> dict:
        return dict(self.collect())

    def count(self) -> int:
        return self._ds.count(**self._run())

    def take(self, num: int) -> list:
        return self._ds.take(num, **self._run())

    def takeSample(self, withReplacement: bool, num: int, seed: int | None = None) -> list:
        """``num`` records at random (PySpark's algorithm; the records drawn differ: see docs/pyspark.md)."""
        return self._ds.take_sample(withReplacement, num, seed, **self._run())

    def first(self) -> Any:
        found = self.take(1)
        if not found:
            raise ValueError("RDD is empty")
        return found[0]

    def isEmpty(self) -> bool:
        return self.getNumPartitions() == 0 or not self.take(1)

    def reduce(self, f: Callable) -> Any:
        return self._ds.reduce(f, **self._run())

    def treeReduce(self, f: Callable, depth: int = 2) -> Any:
        return self._ds.tree_reduce(f, depth, **self._run())

    def fold(self, zeroValue: Any, op: Callable) -> Any:
        return self._ds.fold(zeroValue, op, **self._run())

    def aggregate(self, zeroValue: Any, seqOp: Callable, combOp: Callable) -> Any:
        return self._ds.aggregate(zeroValue, seqOp, combOp, **self._run())

    def treeAggregate(self, zeroValue: Any, seqOp: Callable, combOp: Callable, depth: int = 2) -> Any:
        """:meth:`aggregate` combined in a tree of ``depth`` levels through shuffles, as PySpark."""
        return self._ds.tree_aggregate(zeroValue, seqOp, combOp, depth, **self._run())

    def sum(self) -> Any:
        return self._ds.sum(**self._run())

    def stats(self) -> StatCounter:
        """A :class:`StatCounter`, merged per partition in partition order as PySpark's."""
        return StatCounter.of(self._ds.stats(**self._run()))

    def mean(self) -> float:
        return self.stats().mean()

    def variance(self) -> float:
        return self.stats().variance()

    def stdev(self) -> float:
        return self.stats().stdev()

    def sampleVariance(self) -> float:
        return self.stats().sampleVariance()

    def sampleStdev(self) -> float:
        return self.stats().sampleStdev()

    def histogram(self, buckets) -> tuple[list, list[int]]:
        return self._ds.histogram(buckets, **self._run())

    def min(self, key: Callable | None = None) -> Any:
        return self._ds.min(key, **self._run())

    def max(self, key: Callable | None = None) -> Any:
        return self._ds.max(key, **self._run())

    def top(self, num: int, key: Callable | None = None) -> list:
        return self._ds.top(num, key, **self._run())

    def takeOrdered(self, num: int, key: Callable | None = None) -> list:
        return self._ds.take_ordered(num, key, **self._run())

    def countByKey(self) -> defaultdict:
        """``defaultdict(int)`` of counts per key, as PySpark."""
        return defaultdict(int, self._ds.count_by_key(**self._run()))

    def countByValue(self) -> defaultdict:
        """``defaultdict(int)`` of counts per record, as PySpark."""
        return defaultdict(int, self._ds.count_by_value(**self._run()))

    def countApproxDistinct(self, relativeSD: float = 0.05) -> int:
        return self._ds.count_approx_distinct(relativeSD, **self._run())

    def lookup(self, key: Any) -> list:
        return self._ds.filter(_KeyIs(key)).values().collect(**self._run())

    def foreach(self, f: Callable) -> None:
        """``f`` on every record, in the tasks (accumulators reach the driver)."""
        self._ds.map_partitions(_ForEach(f)).collect(**self._run())

    def foreachPartition(self, f: Callable) -> None:
        self._ds.map_partitions(_ForEachPartition(f)).collect(**self._run())

    def saveAsTextFile(self, path: str, compressionCodecClass: str | None = None) -> None:
        if compressionCodecClass not in _CODECS:
            raise refuse_argument("RDD.saveAsTextFile", f"compressionCodecClass={compressionCodecClass!r}",
                                  f"the codecs are {', '.join(c for c in _CODECS if c)}")
        self._ds.save_text(path, compression=_CODECS[compressionCodecClass], **self._run())

    def saveAsPickleFile(self, path: str, batchSize: int = 10) -> None:
        self._ds.save_pickle(path, batchSize, **self._run())


def next_id(context: SparkContext) -> int:
    """The next RDD id of ``context`` (counted by the context, as PySpark's)."""
    context._rdd_ids += 1
    return context._rdd_ids


def _seed(seed: int | None) -> int:
    return random.randrange(sys.maxsize) if seed is None else seed


class _Each:
    """``map``/``flatMap`` as a partition function, for ``preservesPartitioning=True``."""

    def __init__(self, f: Callable, flat: bool):
        self.f, self.flat = f, flat

    def __call__(self, iterator: Iterable) -> Iterator:
        if self.flat:
            return (y for x in iterator for y in self.f(x))
        return map(self.f, iterator)


class _KeyOfKey:
    def __init__(self, keyfunc: Callable):
        self.keyfunc = keyfunc

    def __call__(self, record):
        return self.keyfunc(record[0])


class _SortedWithin:
    def __init__(self, keyfunc: Callable, ascending: bool):
        self.keyfunc, self.ascending = keyfunc, ascending

    def __call__(self, iterator):
        return sorted(iterator, key=_KeyOfKey(self.keyfunc), reverse=not self.ascending)


class _KeyIs:
    def __init__(self, key):
        self.key = key

    def __call__(self, record) -> bool:
        return record[0] == self.key


class _ForEach:
    def __init__(self, f: Callable):
        self.f = f

    def __call__(self, iterator):
        for x in iterator:
            self.f(x)
        return ()


class _ForEachPartition:
    def __init__(self, f: Callable):
        self.f = f

    def __call__(self, iterator):
        self.f(iterator)
        return ()
