"""The shuffle for an engine that moves the buckets itself (dask, spark, ray).

Import rule: this module runs inside engine workers; it imports only
``core`` and the shuffle's own modules, never an engine.

The algorithm is the one every runner uses: the map task's records go
through :class:`~mapfold.shuffle.writer.ShuffleWriter` (one combine dict,
spilled as sorted runs past the task's ``memory_limit``, the last table in
columns) into a run file in the task's folder; only the *transport*
differs. Instead of leaving the file for reduce tasks to open, the map task
**packs** each bucket's runs into bytes (:class:`PackedBuckets`: the
pickled chunks exactly as they are on disk, in memory-backed
:class:`~mapfold.shuffle.spill.Segment`\\ s) and removes the file; the engine
keeps and moves those bytes (Dask futures, Ray objects, Spark's shuffle).
A reduce task given the packed runs of its bucket from every map task
reads them with :func:`read_packed`: the same merge as
``reader.read_bucket`` (unsorted runs into one dict under the budget,
sorted runs k-way merged, big groups streamed to disk).

So ``memory_limit`` means the same on every runner, and spills on an
engine's workers are the task's metrics, as everywhere.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass, replace
from itertools import chain
from typing import Iterator

from ..core.config import default_memory_limit
from ..core.task_context import TaskRuntime, current_task
from .reader import _merge_bucket
from .spill import Segment, read_records
from .writer import MapOutput, ShuffleWriter, column_views

__all__ = ["PackedBuckets", "PackingWriter", "RunSpool", "file_threshold", "read_packed", "task_folder"]


@dataclass
class PackedBuckets:
    """One map task's output for an engine: ``lists[b]`` holds bucket ``b``'s
    runs as memory-backed segments (``Segment.data``)."""

    lists: list
    records: int = 0

    def sizes(self) -> dict:
        """Records per non-empty bucket (combined entries, or values moved)."""
        return {b: sum(s.records for s in runs) for b, runs in enumerate(self.lists) if runs}


@contextlib.contextmanager
def task_folder(task: TaskRuntime | None, prefix: str = "mapfold-task-") -> Iterator[str]:
    """The running task's folder: the job's when it exists on this machine,
    else a private temporary folder (mode 0700) removed afterwards.

    >>> with task_folder(None) as folder:
    ...     os.path.isdir(folder)
    True
    >>> os.path.exists(folder)
    False
    """
    scratch = task.scratch if task is not None else None
    if scratch and os.path.isdir(scratch):
        yield scratch
        return
    folder = tempfile.mkdtemp(prefix=prefix)  # mkdtemp makes it 0700
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _limit(task: TaskRuntime | None) -> int:
    return (task.memory_limit if task is not None else None) or default_memory_limit(1)


class PackingWriter:
    """The map-side finisher of an engine shuffle: ``ShuffleWriter`` under
    the running task's budget, its runs packed for the engine.

    >>> from mapfold.shuffle.partitioner import HashPartitioner
    >>> from mapfold.shuffle import aggregators as agg
    >>> from mapfold.plan.nodes import Aggregator
    >>> import operator
    >>> class Shuffle:  # stands in for a ShuffleNode
    ...     num_partitions, partitioner, name = 2, HashPartitioner(2), "reduce_by_key"
    ...     aggregator = Aggregator(agg.identity, operator.add, operator.add)
    >>> out = PackingWriter(Shuffle())(0, iter([("a", 1), ("b", 2), ("a", 3)]))
    >>> len(out.lists), sum(out.sizes().values())
    (2, 2)
    >>> sorted(read_packed([b for b in out.lists if b], Shuffle.aggregator, 0))
    [('a', 4), ('b', 2)]
    """

    def __init__(self, shuffle):
        self.shuffle = shuffle
        self.buckets = shuffle.num_partitions
        self.name = getattr(shuffle, "name", "shuffle")

    def _writer(self, folder: str, task: TaskRuntime | None) -> ShuffleWriter:
        return ShuffleWriter(self.shuffle, folder, _limit(task))

    @property
    def takes_views(self) -> dict:
        """As ``ShuffleWriter.takes_views``: plain sums take column blocks."""
        return column_views(self.shuffle.aggregator)

    def __call__(self, partition: int, iterator: Iterator) -> PackedBuckets:
        task = current_task()
        with _map_folder(task) as folder:
            return self._pack(self._writer(folder, task)(partition, iterator), task)

    def consume_columns(self, partition: int, blocks: Iterator[tuple]) -> PackedBuckets:
        task = current_task()
        with _map_folder(task) as folder:
            return self._pack(self._writer(folder, task).consume_columns(partition, blocks), task)

    def _pack(self, out: MapOutput, task: TaskRuntime | None = None) -> PackedBuckets:
        """Each bucket's runs as bytes read back from the run file, which is then removed;
        on a cluster sharing the job's folder (``TaskSettings.shuffle_files``) a bucket
        larger than :func:`file_threshold`, or every bucket of a task that spilled,
        stays in the file, as references."""
        lists: list[list] = [[] for _ in range(self.buckets)]
        paths = {segment.path for runs in out.files.values() for segment in runs}
        handles = {path: open(path, "rb") for path in paths}
        shared = _shuffle_files(task)
        threshold = file_threshold(_limit(task))
        kept: set = set()
        spilled = any(segment.sorted for runs in out.files.values() for segment in runs)
        try:
            for bucket, runs in out.files.items():
                if shared and (spilled or sum(segment.length for segment in runs) > threshold):
                    lists[bucket].extend(runs)  # file-backed: the reduce task opens them
                    kept.update(segment.path for segment in runs)
                    continue
                for segment in runs:
                    f = handles[segment.path]
                    f.seek(segment.offset)
                    lists[bucket].append(replace(segment, path="", offset=0, data=f.read(segment.length)))
        finally:
            for path, f in handles.items():
                f.close()
                if path not in kept:  # a kept file goes with the job's folder
                    os.unlink(path)
        return PackedBuckets(lists, out.records)


def file_threshold(limit: int) -> int:
    """Above this many bytes (a sixteenth of the task's budget) a bucket stays
    a run file where the workers share the job's folder.

    >>> file_threshold(64 << 20) == 4 << 20
    True
    """
    return max(1, limit // 16)


def _shuffle_files(task: TaskRuntime | None) -> str | None:
    folder = getattr(task.settings, "shuffle_files", None) if task is not None else None
    return folder if folder and os.path.isdir(folder) else None


@contextlib.contextmanager
def _map_folder(task: TaskRuntime | None) -> Iterator[str]:
    """Where a map task writes its run file: the job's shared folder when it
    has one (a kept file is then already where the job's cleanup finds it)."""
    shared = _shuffle_files(task)
    if shared is not None:
        yield shared
        return
    with task_folder(task, "mapfold-map-") as folder:
        yield folder


class RunSpool:
    """Runs that arrive as bytes (Spark hands a reduce task its bucket's
    batches one by one), written to one file as they come so that the task
    holds file-backed segments, not every map task's bytes at once.

    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> with RunSpool(folder) as spool:
    ...     runs = spool.add([Segment("", 0, 3, 1, data=b"abc")])
    ...     spool.flush()
    ...     (runs[0].data, open(runs[0].path, "rb").read())
    (None, b'abc')
    >>> os.listdir(folder)
    []
    """

    def __init__(self, folder: str):
        self.path = os.path.join(folder, f"spool-{uuid.uuid4().hex[:12]}.runs")
        self._file = None

    def add(self, runs):
        """``runs`` with each in-memory segment moved to the spool file; anything
        that is not a list of segments (a persisted partition's records) as it is."""
        if not isinstance(runs, list) or not runs or not all(isinstance(r, Segment) for r in runs):
            return runs
        moved = []
        for segment in runs:
            if segment.data is None:
                moved.append(segment)
                continue
            if self._file is None:
                self._file = open(self.path, "wb")
            offset = self._file.tell()
            self._file.write(segment.data)
            moved.append(replace(segment, path=self.path, offset=offset, data=None))
        return moved

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if os.path.exists(self.path):
            os.unlink(self.path)

    def __enter__(self) -> "RunSpool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_packed(batches: list, aggregator, partition: int) -> Iterator:
    """Reduce side of an engine shuffle: one bucket's packed runs from every
    map task (``batches``: a list of run lists), merged as ``read_bucket``
    merges files, under the running task's budget.
    """
    segments = [segment for runs in batches for segment in runs]
    if aggregator is None:
        return chain.from_iterable(map(read_records, segments))
    if len(segments) == 1 and not segments[0].sorted:
        return read_records(segments[0])  # one map task's table: keys already unique
    return _merged(segments, aggregator, partition)


def _merged(segments: list[Segment], aggregator, partition: int) -> Iterator:
    task = current_task()
    with task_folder(task, "mapfold-reduce-") as folder:
        # groups larger than the budget outlive the task (the engine pickles results after it): a
        # folder of their own, made only if one spills, removed with its last group; in the runner's
        # folder when the task works there (so it goes with the runner), else beside the private one
        shared = task is not None and folder == task.scratch
        keep = os.path.join(folder if shared else tempfile.gettempdir(), f"mapfold-groups-{uuid.uuid4().hex[:12]}")
        yield from _merge_bucket(segments, aggregator, _limit(task), folder, keep, partition, own_keep_dir=True)
