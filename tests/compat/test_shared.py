"""Broadcasts, accumulators, TaskContext, coalesce and refused arguments, on every runner of the registry
(``runner`` in tests/conftest.py: serial, processes and the real engines)."""
from __future__ import annotations

import os

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


def _die_once(marker: str) -> None:
    """End this worker process the first time any task calls it (the marker file says it happened)."""
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL))
    except FileExistsError:
        return
    os._exit(7)


def test_a_retried_task_knows_its_attempt_and_counts_once(sc, tmp_path):
    """Partition 1's first attempt adds to the accumulator, then its worker dies; the engine runs it again.
    Its updates reach the driver once (the successful attempt's), and the retry says it is attempt 1."""
    if sc.runner.streams_in_process:  # the serial runner's tasks run in this process: nothing to retry
        pytest.skip("the serial runner runs tasks in the driver; no worker can die and be replaced")
    seen, marker = sc.accumulator(0), str(tmp_path / "died")

    def visit(index, records):
        nonlocal seen
        records = list(records)
        seen += len(records)
        if index == 1:
            _die_once(marker)
        context = TaskContext.get()
        yield context.partitionId(), context.attemptNumber(), len(records)

    got = sc.parallelize(range(10), 3).mapPartitionsWithIndex(visit).collect()
    assert os.path.exists(marker)
    assert got == [(0, 0, 3), (1, 1, 3), (2, 0, 4)]
    assert seen.value == 10


def test_a_failed_tasks_updates_are_not_counted(sc):
    """A task that raises is never retried and its updates are dropped (Spark applies a task's updates
    when it succeeds); the tasks that succeeded before the job failed still count."""
    seen = sc.accumulator(0)

    def visit(x):
        nonlocal seen
        seen += 1000 if x == 3 else 1
        if x == 3:
            raise ValueError("bad record 3")
        return x

    with pytest.raises(ValueError, match="bad record 3"):
        sc.parallelize(range(4), 4).map(visit).collect()
    assert seen.value <= 3


def test_accumulator_updates_are_the_runs_counters(sc):
    total = sc.accumulator(0)

    def visit(x):
        nonlocal total
        total += x
        return x

    rdd = sc.parallelize(range(10), 3).map(visit)
    assert rdd.count() == 10 and total.value == 45
    assert rdd.dataset.last_run.counters == {"pyspark.accumulators": {total.key: 45}}
    assert total.key.startswith(f"{total.aid}@")


def test_two_contexts_on_one_runner_keep_their_accumulators_apart(sc):
    other = SparkContext(runner=sc.runner)
    try:
        mine, theirs = sc.accumulator(0), other.accumulator(0)  # both are accumulator 0 of their context

        def visit(x):
            nonlocal mine
            mine += x
            return x

        assert sc.parallelize(range(5), 2).map(visit).count() == 5
        assert (mine.value, theirs.value) == (10, 0)
    finally:
        other.stop()


def _stages_of(runner, action) -> list[str]:
    started: list[str] = []

    def listen(event):
        if event.kind == "stage_started":
            started.append(event.stage_name)

    runner.add_listener(listen)
    try:
        action()
    finally:
        runner.remove_listener(listen)
    return started


def test_coalesce_merges_neighbours_without_a_shuffle(sc, serial):
    """coalesce(n) adds no stage on any runner: over a source, after a shuffle, over a persisted RDD
    (the spark runner once moved each partition through a shuffle instead), with a broadcast read
    on the reduce side; the partitions are the serial runner's."""
    offset = sc.broadcast(100)
    source = sc.parallelize(range(20), 5)
    reduced = source.map(lambda x: (x % 7, x)).reduceByKey(lambda a, b: a + b, 5).mapValues(lambda v: v + offset.value)
    kept = source.map(lambda x: x * 2).persist()
    assert kept.count() == 20
    try:
        for rdd, stages in ((source, 1), (reduced, 2), (kept, 1)):
            merged, layout = rdd.coalesce(2), []
            assert len(_stages_of(sc.runner, lambda: layout.append(merged.glom().collect()))) == stages
            assert layout[0] == merged.dataset.glom().collect(runner=serial) and len(layout[0]) == 2
    finally:
        kept.unpersist()
