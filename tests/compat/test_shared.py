"""Broadcasts, accumulators, TaskContext and refused arguments, on both local runners."""
from __future__ import annotations

import pytest

from mapfold.compat.pyspark import AccumulatorParam, SparkContext, StorageLevel, TaskContext, UnsupportedError
from mapfold.core.errors import MapfoldError


@pytest.fixture
def sc(runner):
    context = SparkContext(runner=runner)
    yield context
    context.stop()


class ListParam(AccumulatorParam):
    def zero(self, value):
        return []

    def addInPlace(self, value1, value2):
        return value1 + value2


def test_accumulators_sum_task_updates_once_per_task(sc):
    total, odd = sc.accumulator(0), sc.accumulator([], ListParam())

    def visit(x):
        nonlocal total
        total += x
        if x % 2:
            odd.add([x])
        return x

    rdd = sc.parallelize(range(10), 3).map(visit)
    assert rdd.count() == 10 and total.value == 45 and sorted(odd.value) == [1, 3, 5, 7, 9]
    rdd.collect()  # a second job runs the tasks again: PySpark counts again too
    assert total.value == 90


def test_accumulator_value_is_the_drivers_only(sc):
    acc = sc.accumulator(0)
    with pytest.raises(MapfoldError, match="inside a task"):
        sc.parallelize([1]).map(lambda x: acc.value).collect()


def test_broadcast_destroyed_cannot_be_shipped(sc):
    shared = sc.broadcast([1, 2, 3])
    rdd = sc.parallelize([0, 1], 2).map(lambda i: shared.value[i])
    assert rdd.collect() == [1, 2]
    shared.destroy()
    with pytest.raises(MapfoldError, match="destroyed"):
        rdd.collect()


def test_task_context_inside_tasks_only(sc):
    assert TaskContext.get() is None
    got = sc.parallelize(range(4), 2).map(lambda x: (TaskContext.get().partitionId(),
                                                     TaskContext.get().attemptNumber())).collect()
    assert got == [(0, 0), (0, 0), (1, 0), (1, 0)]


def test_unseeded_samples_vary_and_seeded_repeat(sc):
    rdd = sc.parallelize(range(2000), 2)
    assert rdd.sample(False, 0.5).collect() != rdd.sample(False, 0.5).collect()
    assert rdd.sample(False, 0.5, 3).collect() == rdd.sample(False, 0.5, 3).collect()


@pytest.mark.parametrize("call", [
    lambda sc: sc.parallelize([(1, 2)]).reduceByKey(max, 2, lambda k: k),
    lambda sc: sc.parallelize([1]).toLocalIterator(prefetchPartitions=True),
    lambda sc: sc.parallelize([1]).saveAsTextFile("out", "org.example.NoSuchCodec"),
    lambda sc: SparkContext("local", pyFiles=["x.py"]),
    lambda sc: sc.parallelize([1]).persist(StorageLevel.DISK_ONLY).persist(StorageLevel.MEMORY_ONLY),
], ids=["partitionFunc", "prefetch", "codec", "pyFiles", "relevel"])
def test_arguments_not_honoured_are_refused(sc, call):
    with pytest.raises(UnsupportedError) as raised:
        call(sc)
    assert isinstance(raised.value, NotImplementedError)


def test_persist_returns_the_rdd_and_keeps_its_level(sc):
    rdd = sc.parallelize(range(4), 2)
    assert rdd.persist(StorageLevel.DISK_ONLY) is rdd and rdd.getStorageLevel() == StorageLevel.DISK_ONLY
    assert rdd.sum() == 6 and rdd.is_cached
    rdd.unpersist()
    assert not rdd.is_cached and rdd.getStorageLevel() == StorageLevel(False, False, False, False, 1)
