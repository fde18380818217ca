"""Running one task: the code every runner executes, in whatever process.

Import rule: this module runs inside workers, so it imports only ``core``,
``plan.stages`` data classes and the shuffle reader, nothing heavy.

A task reads its input, applies its chain of fused narrow transforms and
hands the iterator to the stage's finisher; a task the planner rewrote
(``TaskSpec.rewrite``) reads the view of its input that the rewrite names
instead. Nothing here knows an operation. A user exception is caught here,
turned into a :class:`TaskFailure` (the exception if it pickles, the
traceback as text, and where it happened) and returned as a value, so that
runners never confuse user errors with dead workers and never retry them.
"""
from __future__ import annotations

import pickle
import traceback
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, Callable, Iterator

from ..core.task_context import TaskRuntime
from ..core.errors import MapfoldError, TaskContext, attach_context
from ..core.partition_files import read_partition
from ..core.serialize import loads_code_cached
from ..plan.stages import CachedInput, ShuffleInput, StageCode, TaskSpec, ZippedInput

__all__ = ["TaskOutcome", "TaskFailure", "TaskStream", "run_task", "runtime_of", "open_input", "build_pipeline",
           "finish", "guarded"]

@dataclass
class TaskFailure:
    exception: BaseException
    traceback: str
    context: TaskContext

    def reraise(self):
        raise attach_context(self.exception, self.context, self.traceback)


@dataclass
class TaskOutcome:
    value: Any
    counters: dict  # the user's counters and kept samples
    failure: TaskFailure | None = None
    metrics: dict = field(default_factory=dict)  # mapfold's own: spilled bytes and records


def load_stage_code(token: str, payload) -> StageCode:
    if isinstance(payload, StageCode):
        return payload
    return loads_code_cached(token, payload)


def open_input(source, code: StageCode) -> Iterator:
    if isinstance(source, ZippedInput):  # a coalesce's partitions: each through its own chain, in turn
        return chain.from_iterable(_side(part, steps, code) for part, steps in source.parts)
    if isinstance(source, ShuffleInput):
        from ..shuffle.reader import read_bucket

        return read_bucket(source, code.aggregators.get(source.shuffle_id))
    if isinstance(source, CachedInput):
        data = source.data
        if isinstance(data, str):  # a file the runner materialized (plan.execute.Materialize)
            data = read_partition(data)
        return iter(data)  # a list, or ColumnarRecords (its rows)
    return source.read()


def _side(source, steps: tuple, code: StageCode) -> Iterator:
    if isinstance(source, ZippedInput) and source.separate:
        # co-partitioned sides: the step above the zip (a cogroup or join) takes one iterator per side
        (node_id, index), steps = steps[0], steps[1:]
        iterator = code.transforms[node_id].sides_of(index, [_side(part, own, code) for part, own in source.parts])
    else:
        iterator = open_input(source, code)
    return _through(iterator, steps, code)


def _through(iterator: Iterator, steps: tuple, code: StageCode) -> Iterator:
    for node_id, index in steps:
        iterator = code.transforms[node_id](index, iterator)
    return iterator


def build_pipeline(task: TaskSpec, code: StageCode) -> Iterator:
    rewrite = task.rewrite  # chosen by the planner (plan/rewrites.py): read a view of the input
    if rewrite is not None and rewrite.into is None:
        return _through(getattr(task.input, rewrite.view)(), task.chain[rewrite.replaces:], code)
    return _side(task.input, task.chain, code)


def finish(task: TaskSpec, code: StageCode) -> Any:
    """Run the task's pipeline into the stage's finisher: its result."""
    rewrite = task.rewrite
    if rewrite is not None and rewrite.into is not None:  # the finisher takes the input's view itself
        return getattr(code.finisher, rewrite.into)(task.partition, getattr(task.input, rewrite.view)())
    return code.finisher(task.partition, build_pipeline(task, code))


def context_of(task: TaskSpec, stage_name: str = "") -> TaskContext:
    position = getattr(task.input, "position", None)
    location = position() if position else None
    return TaskContext(stage=task.stage, stage_name=stage_name, partition=task.partition, location=location)


def _portable(exc: BaseException) -> BaseException:
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return MapfoldError(f"{type(exc).__name__}: {exc} (the original exception could not be pickled)")


def runtime_of(task: TaskSpec, code: StageCode, attempt: int | Callable[[], int] = 1) -> TaskRuntime:
    """The runtime a runner builds around ``task`` (core/task_context.py);
    ``attempt``: which attempt this is, or how to ask the engine (``TaskRuntime.attempt``)."""
    return TaskRuntime(code.settings, stage=task.stage, partition=task.partition, attempt=attempt)


def run_task(token: str, payload, task: TaskSpec, stage_name: str = "",
             attempt: int | Callable[[], int] = 1) -> TaskOutcome:
    """Run one task in a worker; never raises for user errors. ``attempt``:
    which attempt at the task this is (1 the first time), or a function the
    engine's worker answers it with."""
    code = load_stage_code(token, payload)
    runtime = runtime_of(task, code, attempt)
    try:
        with runtime.active():
            value = finish(task, code)
        if type(value) is list and len(value) > _SHIP_FAST and _combined_output(task, code):
            value = CombinedRecords(value)
        return TaskOutcome(value, runtime.counters_table(), metrics=runtime.metrics)
    except Exception as exc:
        failure = TaskFailure(_portable(exc), traceback.format_exc(), context_of(task, stage_name))
        return TaskOutcome(None, runtime.counters_table(), failure, runtime.metrics)


_SHIP_FAST = 1000  # records: below this the memo costs nothing worth saving


def _combined_output(task: TaskSpec, code: StageCode) -> bool:
    """Is the task's output a combining shuffle's table, as read (no user step after it)?"""
    source = task.input
    return not task.chain and isinstance(source, ShuffleInput) and code.aggregators.get(source.shuffle_id) is not None


class CombinedRecords:
    """A reduce task's combined ``(key, combiner)`` list on its way to the
    driver, pickled without the memo (``core.serialize.dumps_records``):
    3-4x cheaper for small pairs. Only for combined tables: their keys are
    distinct and their values were themselves read from memo-free shuffle
    chunks, so no object is shared that the memo would have written once.
    Unpickles as a plain list.

    >>> pickle.loads(pickle.dumps(CombinedRecords([("a", 1), ("b", 2)])))
    [('a', 1), ('b', 2)]
    """

    __slots__ = ("records",)

    def __init__(self, records: list):
        self.records = records

    def __reduce__(self):
        from ..core.serialize import dumps_records

        return pickle.loads, (dumps_records(self.records),)


class TaskStream:
    """One task's records handed out lazily in the calling process, with
    its runtime active while each record is made (so two streams read in
    turns keep their counters apart); ``runtime`` holds what it counted."""

    def __init__(self, task: TaskSpec, code: StageCode, stage_name: str):
        self.runtime = runtime_of(task, code)
        with self.runtime.active():  # opening the input may count (bad records) or spill
            records = guarded(build_pipeline(task, code), task, stage_name)
        self._records = self.runtime.run_stream(records)

    def __iter__(self) -> Iterator:
        return self._records


def guarded(iterator: Iterator, task: TaskSpec, stage_name: str) -> Iterator:
    """Stream a pipeline in the calling process, adding context to user errors."""
    try:
        yield from iterator
    except Exception as exc:
        attach_context(exc, context_of(task, stage_name), None)
        raise
