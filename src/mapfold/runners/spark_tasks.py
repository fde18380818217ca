"""Worker-side functions of the spark runner (run inside PySpark's Python workers).

Import rule: no pyspark import here (the functions are shipped by PySpark's
cloudpickle and run in its workers); only ``engine_tasks``.

A stage becomes one RDD with one Spark partition per mapfold task. Each
partition yields either one ``(position, TaskOutcome)`` pair (a plain
stage), or, for the map side of a shuffle, ``(bucket, records)`` pairs for
Spark's shuffle plus one ``(buckets, (position, summary))`` pair that the
partitioner routes to an extra partition ``buckets``, so that the driver
learns each map task's counters and failures from the shuffle itself.
"""
from __future__ import annotations

from typing import Iterator

from .engine_tasks import Buckets, run_engine_task, summarize
from .tasks import TaskOutcome

__all__ = ["TaskSide", "ReduceSide", "ZipSide", "LeafBatch", "bucket_of", "passthrough", "summaries"]


def bucket_of(key: int) -> int:
    """Spark's ``partitionBy`` function: the key already *is* the bucket,
    chosen on the map side by mapfold's stable partitioner."""
    return key


def passthrough(iterator: Iterator) -> Iterator:
    return iterator


def summaries(iterator: Iterator) -> Iterator:
    """``(position, outcome)`` without the value: what the driver needs of a
    persisted partition (the records stay in the executor)."""
    for position, outcome in iterator:
        yield position, TaskOutcome(None, outcome.counters, outcome.failure, outcome.metrics)


def _emit(position: int, outcome, buckets: int | None) -> Iterator:
    if buckets is None:
        yield position, outcome
        return
    if outcome.failure is None and isinstance(outcome.value, Buckets):
        for bucket, records in enumerate(outcome.value.lists):
            if records:
                yield bucket, records
    yield buckets, (position, summarize(outcome))


class TaskSide:
    """Tasks read from a ``parallelize``d list of ``(position, TaskSpec)``."""

    def __init__(self, token: str, code, stage_name: str, buckets: int | None):
        self.token, self.code, self.stage_name, self.buckets = token, code, stage_name, buckets

    def __call__(self, iterator: Iterator) -> Iterator:
        for position, task in iterator:
            outcome = run_engine_task(self.token, self.code.value, task, self.stage_name)
            yield from _emit(position, outcome, self.buckets)


class ReduceSide:
    """Tasks read a bucket of an earlier Spark shuffle (partition ``b`` of
    the shuffled RDD holds ``(b, records)`` pairs from every map task), or
    a partition of a persisted RDD (one ``(position, outcome)`` pair whose
    value is the partition's records)."""

    def __init__(self, token: str, code, stage_name: str, tasks: dict, buckets: int | None, persisted: bool = False):
        self.token, self.code, self.stage_name = token, code, stage_name
        self.tasks = tasks  # partition -> (position, TaskSpec)
        self.buckets = buckets
        self.persisted = persisted

    def __call__(self, index: int, iterator: Iterator) -> Iterator:
        entry = self.tasks.get(index)
        if entry is None:  # a partition this stage does not read (or the summaries' partition)
            return
        position, task = entry
        if self.persisted:
            batches = [outcome.value for _, outcome in iterator]
        else:
            batches = [records for _, records in iterator]
        outcome = run_engine_task(self.token, self.code.value, task, self.stage_name, *batches)
        yield from _emit(position, outcome, self.buckets)


class LeafBatch:
    """One leaf input of a zipped stage (a shuffle's or a persisted RDD): each
    partition the stage reads becomes one ``(task partition, (leaf, elements))``
    element, so that a union of such RDDs with one partitioner hands a
    :class:`ZipSide` all leaves of a task in one partition."""

    def __init__(self, leaf: int, partitions: dict):
        self.leaf = leaf
        self.partitions = partitions  # this RDD's partition index -> the task's partition

    def __call__(self, index: int, iterator: Iterator) -> Iterator:
        partition = self.partitions.get(index)
        if partition is not None:
            yield partition, (self.leaf, list(iterator))


class ZipSide:
    """Tasks of a zipped stage (a co-partitioned join's sides): partition ``i``
    of the partitioner-aware union holds partition ``i`` of every leaf input,
    as :class:`LeafBatch` elements; the batches are handed to the task in the
    order of its leaves (``engine_tasks.with_inputs``)."""

    def __init__(self, token: str, code, stage_name: str, tasks: dict, buckets: int | None):
        self.token, self.code, self.stage_name = token, code, stage_name
        self.tasks = tasks  # partition -> (position, TaskSpec, [(references, persisted) per leaf])
        self.buckets = buckets

    def __call__(self, index: int, iterator: Iterator) -> Iterator:
        entry = self.tasks.get(index)
        if entry is None:
            return
        position, task, leaves = entry
        got: dict = {}
        for _, (leaf, elements) in iterator:
            got.setdefault(leaf, []).extend(elements)
        batches = []
        for leaf, (count, persisted) in enumerate(leaves):
            if count:
                elements = got.get(leaf, [])
                batches.extend(outcome.value for _, outcome in elements) if persisted else \
                    batches.extend(records for _, records in elements)
        outcome = run_engine_task(self.token, self.code.value, task, self.stage_name, *batches)
        yield from _emit(position, outcome, self.buckets)
