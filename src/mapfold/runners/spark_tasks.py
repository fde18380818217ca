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

import contextlib
from typing import Callable, Iterator

from .engine_tasks import Buckets, run_engine_task, summarize
from ..core.errors import MapfoldError
from ..core.task_context import TaskRuntime
from ..shuffle.packed import RunSpool, task_folder
from .tasks import TaskOutcome, context_of, load_stage_code

__all__ = ["TaskSide", "ReduceSide", "Tagged", "GatheredSide", "bucket_of", "passthrough", "summaries"]


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

    def __init__(self, token: str, code, stage_name: str, buckets: int | None, attempt: Callable[[], int] | int = 1):
        self.token, self.code, self.stage_name, self.buckets = token, code, stage_name, buckets
        self.attempt = attempt  # asks Spark which attempt the running task is (spark.spark_attempt)

    def __call__(self, iterator: Iterator) -> Iterator:
        for position, task in iterator:
            outcome = run_engine_task(self.token, self.code.value, task, self.stage_name, attempt=self.attempt)
            yield from _emit(position, outcome, self.buckets)


class ReduceSide:
    """Tasks read a bucket of an earlier Spark shuffle (partition ``b`` of
    the shuffled RDD holds ``(b, records)`` pairs from every map task), or
    a partition of a persisted RDD (one ``(position, outcome)`` pair whose
    value is the partition's records)."""

    def __init__(self, token: str, code, stage_name: str, tasks: dict, buckets: int | None, persisted: bool = False,
                 attempt: Callable[[], int] | int = 1):
        self.token, self.code, self.stage_name = token, code, stage_name
        self.attempt = attempt
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
            outcome = run_engine_task(self.token, self.code.value, task, self.stage_name, *batches, attempt=self.attempt)
        else:  # each map task's runs to a file as they arrive: the task never holds all of them
            with _spooled(self.token, self.code.value) as spool:
                batches = [spool.add(records) for _, records in iterator]
                spool.flush()
                outcome = run_engine_task(self.token, self.code.value, task, self.stage_name, *batches,
                                          attempt=self.attempt)
        yield from _emit(position, outcome, self.buckets)


@contextlib.contextmanager
def _spooled(token: str, payload) -> Iterator[RunSpool]:
    """A :class:`RunSpool` in the task's folder (the runner's scratch where it
    exists on this machine, else a private one), removed after the task."""
    try:
        settings = load_stage_code(token, payload).settings
    except Exception:  # run_engine_task reports it as the task's failure
        settings = None
    with task_folder(TaskRuntime(settings) if settings is not None else None, "mapfold-spool-") as folder:
        with RunSpool(folder) as spool:
            yield spool


class Tagged:
    """The batches of one held partition a gathering task reads, each as
    ``(index, batch)``: ``index`` is the input's place in the task."""

    def __init__(self, index: int, persisted: bool):
        self.index, self.persisted = index, persisted

    def __call__(self, iterator: Iterator) -> Iterator:
        for _, item in iterator:  # (bucket, records) of a shuffle, (position, outcome) of a persisted RDD
            yield self.index, (item.value if self.persisted else item)


class GatheredSide:
    """A task reading several held partitions (a ``coalesce``'s, a
    co-partitioned join's sides): their tagged batches arrive in one Spark
    partition, in any order; they go to the task in the order of its inputs."""

    def __init__(self, token: str, code, stage_name: str, position: int, task, counts: list[int],
                 buckets: int | None, attempt: Callable[[], int] | int = 1):
        self.token, self.code, self.stage_name = token, code, stage_name
        self.position, self.task, self.counts, self.buckets = position, task, counts, buckets
        self.attempt = attempt

    def __call__(self, iterator: Iterator) -> Iterator:
        with _spooled(self.token, self.code.value) as spool:
            batches: list[list] = [[] for _ in self.counts]
            for index, batch in iterator:
                batches[index].append(spool.add(batch))
            spool.flush()
            for got, wanted in zip(batches, self.counts):
                if len(got) != wanted:
                    where = context_of(self.task, self.stage_name).describe()
                    raise MapfoldError(f"{where}: an input came as {len(got)} batches from Spark, not {wanted}")
            data = [batch for group in batches for batch in group]
            outcome = run_engine_task(self.token, self.code.value, self.task, self.stage_name, *data,
                                      attempt=self.attempt)
        yield from _emit(self.position, outcome, self.buckets)
