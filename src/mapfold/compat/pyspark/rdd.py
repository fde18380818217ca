"""``RDD``: a Dataset with PySpark's method names and argument order.

Each method is a thin translation to the snake_case Dataset method.
"""
from __future__ import annotations

from typing import Any, Callable

from ...dataset.dataset import Dataset
from .context import SparkContext

__all__ = ["RDD"]


class RDD:
    """A Dataset with PySpark's method names.

    >>> sc = SparkContext("local")
    >>> sorted(sc.parallelize(["a b", "b"]).flatMap(str.split).map(lambda w: (w, 1))
    ...        .reduceByKey(lambda a, b: a + b).collect())
    [('a', 1), ('b', 2)]
    """

    def __init__(self, dataset: Dataset, context: SparkContext):
        self._ds = dataset
        self.context = context

    def _new(self, dataset: Dataset) -> "RDD":
        return RDD(dataset, self.context)

    def _run(self):
        return {"runner": self.context.runner}

    @property
    def dataset(self) -> Dataset:
        """The mapfold Dataset behind this RDD."""
        return self._ds

    def getNumPartitions(self) -> int:
        return self._ds.num_partitions

    # -- transformations ----------------------------------------------------
    def map(self, f: Callable) -> "RDD":
        return self._new(self._ds.map(f))

    def flatMap(self, f: Callable) -> "RDD":
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

    @property
    def partitioner(self):
        """The Dataset's partitioner (``mapfold.shuffle.partitioner``), or ``None``."""
        return self._ds.partitioner

    def mapPartitions(self, f: Callable, preservesPartitioning: bool = False) -> "RDD":
        return self._new(self._ds.map_partitions(f, preservesPartitioning))

    def mapPartitionsWithIndex(self, f: Callable, preservesPartitioning: bool = False) -> "RDD":
        return self._new(self._ds.map_partitions_with_index(f, preservesPartitioning))

    def glom(self) -> "RDD":
        return self._new(self._ds.glom())

    def union(self, *others: "RDD") -> "RDD":
        return self._new(self._ds.union(*(o._ds for o in others)))

    def zipWithIndex(self) -> "RDD":
        return self._new(self._ds.zip_with_index(**self._run()))

    def sample(self, withReplacement: bool, fraction: float, seed: int | None = None) -> "RDD":
        return self._new(self._ds.sample(fraction, seed or 0, withReplacement))

    def distinct(self, numPartitions: int | None = None) -> "RDD":
        return self._new(self._ds.distinct(numPartitions))

    def reduceByKey(self, func: Callable, numPartitions: int | None = None) -> "RDD":
        return self._new(self._ds.reduce_by_key(func, numPartitions))

    def foldByKey(self, zeroValue: Any, func: Callable, numPartitions: int | None = None) -> "RDD":
        return self._new(self._ds.fold_by_key(zeroValue, func, numPartitions))

    def aggregateByKey(self, zeroValue: Any, seqFunc: Callable, combFunc: Callable,
                       numPartitions: int | None = None) -> "RDD":
        return self._new(self._ds.aggregate_by_key(zeroValue, seqFunc, combFunc, numPartitions))

    def combineByKey(self, createCombiner: Callable, mergeValue: Callable, mergeCombiners: Callable,
                     numPartitions: int | None = None) -> "RDD":
        return self._new(self._ds.combine_by_key(createCombiner, mergeValue, mergeCombiners, numPartitions))

    def groupByKey(self, numPartitions: int | None = None) -> "RDD":
        return self._new(self._ds.group_by_key(numPartitions))

    def groupBy(self, f: Callable, numPartitions: int | None = None) -> "RDD":
        return self._new(self._ds.group_by(f, numPartitions))

    def cogroup(self, other: "RDD", numPartitions: int | None = None) -> "RDD":
        return self._new(self._ds.cogroup(other._ds, partitions=numPartitions))

    def join(self, other: "RDD", numPartitions: int | None = None) -> "RDD":
        return self._new(self._ds.join(other._ds, numPartitions))

    def leftOuterJoin(self, other: "RDD", numPartitions: int | None = None) -> "RDD":
        return self._new(self._ds.left_outer_join(other._ds, numPartitions))

    def rightOuterJoin(self, other: "RDD", numPartitions: int | None = None) -> "RDD":
        return self._new(self._ds.right_outer_join(other._ds, numPartitions))

    def fullOuterJoin(self, other: "RDD", numPartitions: int | None = None) -> "RDD":
        return self._new(self._ds.full_outer_join(other._ds, numPartitions))

    def subtractByKey(self, other: "RDD", numPartitions: int | None = None) -> "RDD":
        return self._new(self._ds.subtract_by_key(other._ds, numPartitions))

    def sortBy(self, keyfunc: Callable, ascending: bool = True, numPartitions: int | None = None) -> "RDD":
        return self._new(self._ds.sort_by(keyfunc, ascending, numPartitions, **self._run()))

    def sortByKey(self, ascending: bool = True, numPartitions: int | None = None) -> "RDD":
        return self._new(self._ds.sort_by_key(ascending, numPartitions, **self._run()))

    def repartition(self, numPartitions: int) -> "RDD":
        return self._new(self._ds.repartition(numPartitions))

    def partitionBy(self, numPartitions: int, partitionFunc: Callable | None = None) -> "RDD":
        return self._new(self._ds.partition_by(numPartitions, partitionFunc))

    # PySpark marks the RDD object it is called on and returns it; a Dataset's
    # persist() returns a new Dataset instead (plan nodes are shared), so the
    # RDD wrapper takes it on: RDDs derived from it from now on reuse it.
    def cache(self) -> "RDD":
        self._ds = self._ds.persist()
        return self

    def persist(self, storageLevel: Any = None) -> "RDD":
        # the runner decides where partitions are kept (Dataset.persist); the level is not used
        return self.cache()

    def unpersist(self, blocking: bool = False) -> "RDD":
        self._ds = self._ds.unpersist()  # releases at once: ``blocking`` changes nothing
        return self

    @property
    def is_cached(self) -> bool:
        return self._ds.is_cached

    # -- actions --------------------------------------------------------------
    def collect(self) -> list:
        return self._ds.collect(**self._run())

    def collectAsMap(self) -> dict:
        return dict(self.collect())

    def count(self) -> int:
        return self._ds.count(**self._run())

    def take(self, num: int) -> list:
        return self._ds.take(num, **self._run())

    def first(self) -> Any:
        return self._ds.first(**self._run())

    def isEmpty(self) -> bool:
        return not self.take(1)

    def reduce(self, f: Callable) -> Any:
        return self._ds.reduce(f, **self._run())

    def fold(self, zeroValue: Any, op: Callable) -> Any:
        return self._ds.fold(zeroValue, op, **self._run())

    def aggregate(self, zeroValue: Any, seqOp: Callable, combOp: Callable) -> Any:
        return self._ds.aggregate(zeroValue, seqOp, combOp, **self._run())

    def sum(self) -> Any:
        return self._ds.sum(**self._run())

    def min(self, key: Callable | None = None) -> Any:
        return self._ds.min(key, **self._run())

    def max(self, key: Callable | None = None) -> Any:
        return self._ds.max(key, **self._run())

    def mean(self) -> float:
        return self._ds.mean(**self._run())

    def top(self, num: int, key: Callable | None = None) -> list:
        return self._ds.top(num, key, **self._run())

    def takeOrdered(self, num: int, key: Callable | None = None) -> list:
        return self._ds.take_ordered(num, key, **self._run())

    def countByKey(self) -> dict:
        return self._ds.count_by_key(**self._run())

    def countByValue(self) -> dict:
        return self._ds.count_by_value(**self._run())

    def countApproxDistinct(self, relativeSD: float = 0.05) -> int:
        return self._ds.count_approx_distinct(relativeSD, **self._run())

    def toDebugString(self) -> str:
        """The plan's stages as text (mapfold's ``explain_string()``)."""
        return self._ds.explain_string()

    def lookup(self, key: Any) -> list:
        return self.filter(lambda kv: kv[0] == key).values().collect()

    def foreach(self, f: Callable) -> None:
        self._ds.map_partitions(lambda it: [sum(1 for x in it if f(x) or True)]).collect(**self._run())

    def foreachPartition(self, f: Callable) -> None:
        self._ds.map_partitions(lambda it: [f(it)]).collect(**self._run())

    def saveAsTextFile(self, path: str, compressionCodecClass: str | None = None) -> None:
        codecs = {None: None, "org.apache.hadoop.io.compress.GzipCodec": "gzip",
                  "org.apache.hadoop.io.compress.BZip2Codec": "bz2"}
        self._ds.save_text(path, compression=codecs[compressionCodecClass], **self._run())
