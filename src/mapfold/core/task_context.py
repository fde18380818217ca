"""What a running task is given: its budget, folder, counters and metrics.

The runner builds one :class:`TaskRuntime` around every task and throws it
away when the task is done (Spark's ``TaskContext``, Dask's
``get_worker()``). Code deep inside a task (the shuffle reader, the external
sort, ``increment_counter`` in a user's function) finds it with
:func:`current_task`, which answers only while that task's code is running:
a runtime is *activated* around each step of the task (a whole task on most
runners, each ``next()`` of a record stream on the serial runner), so two
tasks interleaved in one thread never see each other's counters, and nothing
a task learned is left behind for the next one.

Counters are the user's (``increment_counter``, bad records); metrics are
mapfold's own (spilled bytes and records): they travel apart, so no counter
group is reserved.
"""
from __future__ import annotations

import contextlib
import os
import socket
import sys
import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Callable, Iterator

from .counters import SAMPLE_LIMIT, SAMPLES, Counters
from .errors import MapfoldError

try:  # the worker's peak resident memory, once per task (the dashboard's worker memory)
    import resource
except ImportError:  # not on Windows
    resource = None
# ru_maxrss is in KiB on Linux, in bytes on macOS
_RSS_UNIT = 1 if sys.platform == "darwin" else 1024

__all__ = ["TaskSettings", "TaskRuntime", "current_task", "count_written", "increment_counter", "keep_sample"]


@dataclass(frozen=True)
class TaskSettings:
    """What the job decides for every task of a stage; travels with the stage's code.

    ``scratch``: the job's private folder, where the tasks of a local runner
    spill (None, or a folder missing on an engine worker: a task makes its
    own temporary folder and removes it).
    ``shuffle_files``: on a local cluster that mapfold started (its workers
    share the driver's disk), the job's folder, where an engine shuffle's map
    tasks leave large buckets as run files and hand the engine only their
    references (``shuffle/packed.py``); removed with the job. None elsewhere:
    the engine moves the bytes.
    """

    memory_limit: int | None = None
    scratch: str | None = None
    shuffle_files: str | None = None


_active: ContextVar["TaskRuntime | None"] = ContextVar("mapfold_task", default=None)


class TaskRuntime:
    """One task's world while it runs.

    >>> runtime = TaskRuntime(TaskSettings(memory_limit=1 << 20), partition=3)
    >>> with runtime.active():
    ...     current_task().increment("words", "long")
    ...     current_task().spilled(100, 2)
    >>> runtime.counters_table(), runtime.metrics["spilled_bytes"], sorted(runtime.metrics)
    ({'words': {'long': 1}}, 100, ['max_rss', 'seconds', 'spilled_bytes', 'spilled_records', 'worker'])
    >>> current_task() is None
    True
    """

    def __init__(self, settings: TaskSettings | None = None, stage: int | None = None, partition: int | None = None,
                 attempt: int | Callable[[], int] = 1):
        self.settings = settings or TaskSettings()
        self.stage, self.partition = stage, partition
        self._attempt = attempt
        self.counters = Counters()
        self.metrics: dict = {}  # spilled_bytes, spilled_records, records; seconds, worker, max_rss once it ran

    @property
    def attempt(self) -> int:
        """Which attempt at this task this is (1 the first time). A runner
        whose engine retries tasks by itself hands a function that asks the
        engine, called here once, the first time someone wants to know.

        >>> TaskRuntime(attempt=lambda: 2).attempt, TaskRuntime().attempt
        (2, 1)
        """
        if callable(self._attempt):
            self._attempt = int(self._attempt())
        return self._attempt

    @property
    def memory_limit(self) -> int | None:
        return self.settings.memory_limit

    @property
    def scratch(self) -> str | None:
        return self.settings.scratch

    def increment(self, group: str, name: str, amount: int = 1) -> None:
        self.counters[group][name] += amount

    def keep_sample(self, group: str, item, limit: int) -> None:
        kept = self.counters.samples.setdefault(group, [])
        if len(kept) < limit:
            kept.append(item)

    def spilled(self, spilled_bytes: int, records: int = 0) -> None:
        """Count bytes (and records) this task wrote to disk past its budget."""
        self.metrics["spilled_bytes"] = self.metrics.get("spilled_bytes", 0) + spilled_bytes
        self.metrics["spilled_records"] = self.metrics.get("spilled_records", 0) + records

    def wrote(self, records: int) -> None:
        """Count records this task handed on (to the driver, a shuffle, a file): ``metrics["records"]``.

        >>> runtime = TaskRuntime()
        >>> runtime.wrote(3); runtime.wrote(2); runtime.metrics["records"]
        5
        """
        self.metrics["records"] = self.metrics.get("records", 0) + records

    def counters_table(self) -> dict:
        """The counters as they travel back: ``{group: {name: n}}`` plus kept samples."""
        table = self.counters.as_dict()
        if self.counters.samples:
            table[SAMPLES] = {group: list(items) for group, items in self.counters.samples.items()}
        return table

    @contextlib.contextmanager
    def active(self) -> Iterator["TaskRuntime"]:
        """Make this the running task here; its time adds to ``metrics["seconds"]``."""
        token = _active.set(self)
        start = time.perf_counter()
        try:
            yield self
        finally:
            _active.reset(token)
            self._timed(time.perf_counter() - start)

    def run_stream(self, records: Iterator) -> Iterator:
        """``records``, with this runtime active while each one is produced
        (``metrics["seconds"]``: from the first record asked to the last)."""
        iterator = iter(records)
        start = time.perf_counter()
        try:
            while True:
                token = _active.set(self)
                try:
                    record = next(iterator)
                except StopIteration:
                    return
                finally:
                    _active.reset(token)
                yield record
        finally:
            self._timed(time.perf_counter() - start)

    def _timed(self, seconds: float) -> None:
        self.metrics["seconds"] = self.metrics.get("seconds", 0.0) + seconds
        self.metrics["worker"] = f"{socket.gethostname()}:{os.getpid()}"
        if resource is not None:  # one getrusage per task: the worker process's peak so far
            self.metrics["max_rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * _RSS_UNIT


def current_task() -> TaskRuntime | None:
    """The runtime of the task whose code is running here, or None outside tasks."""
    return _active.get()


def count_written(records: int) -> None:
    """Tell the running task (if any) that it handed on ``records`` records.

    Finishers and sinks call it once per task, with a count they have anyway
    (a list's length, a file's records, a shuffle's entries): no per-record cost.

    >>> count_written(5)  # outside a task: nothing to tell
    >>> runtime = TaskRuntime()
    >>> with runtime.active():
    ...     count_written(5)
    >>> runtime.metrics["records"]
    5
    """
    task = _active.get()
    if task is not None:
        task.wrote(records)


def _running() -> TaskRuntime:
    runtime = _active.get()
    if runtime is None:
        raise MapfoldError(
            "increment_counter() and keep_sample() count for the task they run in; call them from a "
            "function of a Dataset's transformation (map, filter, ...), not from the driver"
        )
    return runtime


def increment_counter(group: str, name: str, amount: int = 1) -> None:
    """Add ``amount`` to counter ``name`` of ``group`` for the running task
    (Hadoop's and mrjob's counters). The job sums them over its tasks:
    ``ds.counters`` after an action.

    >>> import mapfold as mf
    >>> def check(x):
    ...     if x < 0:
    ...         mf.increment_counter("quality", "negative")
    ...     return abs(x)
    >>> ds = mf.from_sequence([1, -2, -3]).map(check)
    >>> ds.collect(runner="serial"), ds.counters
    ([1, 2, 3], {'quality': {'negative': 2}})
    """
    _running().increment(group, name, amount)


def keep_sample(group: str, item, limit: int = SAMPLE_LIMIT) -> None:
    """Keep ``item`` in the running task's sample of ``group`` (the first ``limit``).

    >>> runtime = TaskRuntime()
    >>> with runtime.active():
    ...     keep_sample("bad", "line 3")
    >>> runtime.counters_table()
    {'__samples__': {'bad': ['line 3']}}
    """
    _running().keep_sample(group, item, limit)
