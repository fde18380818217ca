"""Worker-side code shared by the cluster runners (dask, spark, ray).

Import rule: this module runs inside engine workers; it imports only
``core``, ``plan.stages``, ``shuffle`` and ``runners.tasks``, never an engine, so one
module serves all three.

How a shuffle travels through an engine (instead of bucket files): the
algorithm is mapfold's own, the engine only carries the bytes.

1. Map side. The map stage's finisher is ``shuffle.packed.PackingWriter``:
   the same ``ShuffleWriter`` as on the local runners (one combine dict,
   sorted runs spilled past the task's ``memory_limit``), its run file then
   packed into bytes per bucket (:class:`PackedBuckets`).
2. The engine keeps those bytes where the task ran (a Dask future, a Ray
   object, Spark's shuffle files) and the driver receives only a small
   summary (records, sizes, counters, metrics).
3. Reduce side. A reduce task is given the packed runs of its bucket from
   every map task; ``shuffle.packed.read_packed`` merges them as the file
   shuffle's reader does (under the budget, spilling, big groups on disk),
   and the stage's narrow chain runs on top, exactly as on the local runners.

What the engine moves is data (pickled lists), never code: code travels
once per stage as the cloudpickled ``StageCode`` payload.
"""
from __future__ import annotations

import traceback
from dataclasses import dataclass, field, replace
from itertools import chain
from typing import Any, Callable, Iterator

from ..core.errors import SerializationError
from ..plan.stages import CachedInput, ShuffleInput, TaskSpec, ZippedInput
from ..shuffle.packed import PackedBuckets, PackingWriter, read_packed
from .tasks import TaskFailure, TaskOutcome, context_of, load_stage_code, run_task

__all__ = [
    "Buckets",
    "PackingWriter",
    "MapSummary",
    "MemoryInput",
    "run_engine_task",
    "stage_payload",
    "summarize",
    "pick_bucket",
    "outcome_value",
    "RemoteValue",
    "split_outcome",
    "run_engine_map_task",
    "run_engine_keep_task",
    "with_inputs",
    "remote_inputs",
    "Awaiting",
]


Buckets = PackedBuckets  # what a map task returns to its engine


@dataclass
class MapSummary:
    """What the driver learns about a map task: sizes, never the data."""

    records: int
    sizes: dict = field(default_factory=dict)  # bucket -> number of (combined) records


class MemoryInput:
    """A task input whose data the engine already delivered to this worker."""

    def __init__(self, what: str, batches: list, aggregator: Any = None, merge: bool = True, partition: int = 0):
        self.what = what
        self.batches = batches
        self.aggregator = aggregator
        self.merge = merge  # a shuffle bucket's packed runs (else a persisted partition's records)
        self.partition = partition

    def read(self) -> Iterator:
        if not self.merge:
            return chain.from_iterable(self.batches)
        return read_packed(self.batches, self.aggregator, self.partition)

    def describe(self) -> str:
        return self.what


def remote_inputs(task: TaskSpec) -> tuple[TaskSpec, list]:
    """Split a task into a copy without engine references and the references.

    Shuffle inputs of an engine shuffle carry one reference per non-empty
    map output; a cached input carries one reference to its partition. The
    engine resolves the references into data when it runs the task; the
    shipped copy says so with ``outputs=None`` (``data=None``). A zipped
    input (a co-partitioned join) does this for each side, and each side
    that awaits data becomes an :class:`Awaiting` that knows how many of
    the references are its own.
    """
    source, refs = _ship(task.input)
    return (task if source is task.input else replace(task, input=source)), refs


def _ship(source) -> tuple[Any, list]:
    if isinstance(source, ZippedInput):
        parts, refs = [], []
        for part, steps in source.parts:
            shipped, own = _ship(part)
            parts.append((Awaiting(shipped, len(own)) if own else shipped, steps))
            refs.extend(own)
        return (replace(source, parts=parts) if refs else source), refs
    if isinstance(source, ShuffleInput) and source.outputs is not None:
        refs = [ref for group in source.outputs for ref in group]
        if any(isinstance(ref, RemoteValue) for ref in refs):  # else: bucket files (shuffle="storage")
            return replace(source, outputs=None), [_unwrap(ref) for ref in refs]
    if isinstance(source, CachedInput) and isinstance(source.data, RemoteValue):
        return replace(source, data=None), [source.data.ref]
    return source, []


@dataclass
class Awaiting:
    """A side of a zipped input whose ``count`` references the engine resolves."""

    source: Any
    count: int


class RemoteValue:
    """Data the engine keeps (a shuffle bucket, a persisted partition): its
    reference, plus ``keepalive``: what the engine needs to recompute it
    (the producing task, the stage code), held exactly as long as the
    reference is."""

    def __init__(self, ref, keepalive=None):
        self.ref = ref
        self.keepalive = keepalive

    def __reduce__(self):
        raise TypeError("an engine reference cannot leave the driver")

    def release(self) -> None:
        """Let the engine free the data now (``unpersist``, ``close``): a Dask
        future is released at once, a persisted Spark RDD unpersisted; a Ray
        object goes when its last reference does."""
        release = getattr(self.ref, "release", None)
        self.ref = self.keepalive = None
        if release is not None:
            release()


def _unwrap(ref):
    return ref.ref if isinstance(ref, RemoteValue) else ref


def with_inputs(token: str, payload, task: TaskSpec, data: list) -> TaskSpec:
    """The task with its engine-delivered ``data`` as an in-memory input."""
    source = _delivered(token, payload, task.input, data)
    return task if source is task.input else replace(task, input=source)


def _delivered(token: str, payload, source, data: list):
    if isinstance(source, ZippedInput):
        parts, taken = [], 0
        for part, steps in source.parts:
            if isinstance(part, Awaiting):
                part, taken = _delivered(token, payload, part.source, data[taken:taken + part.count]), taken + part.count
            parts.append((part, steps))
        return replace(source, parts=parts)
    if isinstance(source, ShuffleInput) and source.outputs is None:
        aggregator = load_stage_code(token, payload).aggregators.get(source.shuffle_id)
        return MemoryInput(source.describe(), data, aggregator, partition=source.partition)
    if isinstance(source, CachedInput) and source.data is None:
        return MemoryInput(source.describe(), data, merge=False)
    return source


def run_engine_task(token: str, payload, task: TaskSpec, stage_name: str, *data,
                    attempt: int | Callable[[], int] = 1) -> TaskOutcome:
    """Run one task in an engine worker; ``data`` are its resolved remote inputs;
    ``attempt``: a function asking the engine which attempt this is (the
    engine retries a task whose worker died, unseen by the driver).

    Code that cannot be loaded here (a module of the user's that the
    workers lack) is the same on every attempt: it comes back as a
    :class:`SerializationError` for this task rather than as an engine
    failure the engine would retry.
    """
    try:
        load_stage_code(token, payload)
    except Exception as exc:
        error = SerializationError(
            f"the workers cannot load the stage's code: {type(exc).__name__}: {exc}. Functions from your own "
            "modules travel by reference: install those modules on the workers, or ship them by value with "
            "cloudpickle.register_pickle_by_value(module)")
        failure = TaskFailure(error, traceback.format_exc(), context_of(task, stage_name))
        return TaskOutcome(None, {}, failure)
    return run_task(token, payload, with_inputs(token, payload, task, list(data)), stage_name, attempt)


def stage_payload(payload: bytes) -> bytes:
    """The engine task that holds a stage's code: its graph keeps the bytes, so a
    lost result is recomputed like any other (scattered data could not be).

    >>> stage_payload(b"code")
    b'code'
    """
    return payload


def summarize(outcome: TaskOutcome) -> TaskOutcome:
    """The outcome of a map task with its buckets replaced by their sizes."""
    value = outcome.value
    if outcome.failure is not None or not isinstance(value, Buckets):
        return TaskOutcome(None, outcome.counters, outcome.failure, outcome.metrics)
    return TaskOutcome(MapSummary(value.records, value.sizes()), outcome.counters, metrics=outcome.metrics)


def pick_bucket(outcome: TaskOutcome, bucket: int) -> list:
    return outcome.value.lists[bucket]


def outcome_value(outcome: TaskOutcome) -> Any:
    return outcome.value


def run_engine_map_task(token: str, payload, task: TaskSpec, stage_name: str, buckets: int, *data,
                        attempt: int | Callable[[], int] = 1) -> tuple:
    """A map task for engines with multi-return tasks (Ray): summary, then each bucket."""
    return split_outcome(run_engine_task(token, payload, task, stage_name, *data, attempt=attempt), buckets)


def run_engine_keep_task(token: str, payload, task: TaskSpec, stage_name: str, *data,
                         attempt: int | Callable[[], int] = 1) -> tuple:
    """A task whose value stays in the engine (a persisted partition): summary, value."""
    outcome = run_engine_task(token, payload, task, stage_name, *data, attempt=attempt)
    return TaskOutcome(None, outcome.counters, outcome.failure, outcome.metrics), outcome.value


def split_outcome(outcome: TaskOutcome, buckets: int) -> tuple:
    """``(summary, bucket 0, ..., bucket n-1)``: for engines with multi-return tasks."""
    lists = outcome.value.lists if isinstance(outcome.value, Buckets) else [[] for _ in range(buckets)]
    return (summarize(outcome), *lists)
