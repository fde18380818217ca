"""The runner contract.

A runner executes the tasks of a stage; it knows nothing about operations.
The execution loop (``plan/execute.py``) is shared by every runner; runners
differ only in how a task runs (style: "one execution loop").
"""
from __future__ import annotations

import os
import shutil
from abc import ABC, abstractmethod
from typing import Any, Iterator

from ..plan.stages import Stage, TaskSpec
from .persisted import PersistedPartitions
from .scratch import Scratch

__all__ = ["Runner"]


class Runner(ABC):
    """Executes stages. Subclasses implement :meth:`run_tasks`."""

    name = "runner"
    #: materialize persisted partitions to pickle files in the scratch folder (True),
    #: or keep what the tasks return (lists, engine references)
    cache_on_disk = True
    #: the runner can hand out a task's records lazily in this process
    streams_in_process = False
    #: a task may read several inputs (``plan.stages.ZippedInput``: the sides of a
    #: co-partitioned join); a runner that cannot gets the shuffle such a join skips
    zips_inputs = True
    #: a task may read neighbouring partitions of one input (``coalesce`` without a
    #: shuffle); ``None``: as ``zips_inputs``
    coalesces_inputs: bool | None = None
    #: shuffle memory budget per worker (bytes), from ``mf.runner(..., memory_limit=...)``;
    #: None: ``MAPFOLD_MEMORY_LIMIT`` or the default (see ``core/config.py``)
    memory_limit: int | None = None

    def __init__(self):
        self._scratch: str | None = None
        self._scratch_folder: Scratch | None = None
        self._persisted: PersistedPartitions | None = None

    @property
    def persisted(self) -> PersistedPartitions:
        """The persisted partitions this runner holds (``Dataset.persist``);
        released by ``unpersist()`` and by :meth:`close`."""
        if getattr(self, "_persisted", None) is None:  # also for a subclass that skipped __init__
            self._persisted = PersistedPartitions(self.scratch)
        return self._persisted

    @property
    def listeners(self) -> list:
        """The callables told of every job, stage and task event on this
        runner (``plan/events.py``), as Spark's listener bus."""
        if getattr(self, "_listeners", None) is None:
            self._listeners = []
        return self._listeners

    def add_listener(self, listener) -> None:
        """Tell ``listener(event)`` of every event of this runner's jobs.

        >>> import mapfold as mf
        >>> seen = []
        >>> with mf.runner("serial") as r:
        ...     r.add_listener(lambda event: seen.append(event.kind))
        ...     mf.from_sequence([1, 2], partitions=1).count()
        2
        >>> seen
        ['job_started', 'stage_started', 'task_finished', 'stage_finished', 'job_finished']
        """
        self.listeners.append(listener)

    def remove_listener(self, listener) -> None:
        self.listeners.remove(listener)

    #: the live dashboard attached by ``mf.runner(..., dashboard=True)`` (``mapfold.web``), or None
    dashboard = None

    def on_close(self, callback) -> None:
        """Call ``callback()`` when this runner closes (its dashboard stops, its event log closes).

        >>> import mapfold as mf
        >>> closed = []
        >>> with mf.runner("serial") as r:
        ...     r.on_close(lambda: closed.append(True))
        >>> closed
        [True]
        """
        if getattr(self, "_closers", None) is None:
            self._closers = []
        self._closers.append(callback)

    @abstractmethod
    def prepare(self, stage: Stage) -> tuple[str, Any]:
        """Turn a stage's code into what tasks are sent with (pickle it, or not)."""

    @abstractmethod
    def run_tasks(self, stage: Stage, prepared: tuple[str, Any], tasks: list[TaskSpec],
                  ordered: bool = True) -> Iterator[tuple[TaskSpec, Any]]:
        """Yield ``(task, TaskOutcome)`` for each task (in order when ``ordered``)."""

    def shuffle_writer(self, shuffle) -> Any:
        """The map-side finisher of ``shuffle`` when this runner moves shuffle
        data itself, or ``None`` (the default) for mapfold's own file shuffle:
        bucket files in the job's scratch folder, read by ``shuffle.reader``.

        A runner that returns a finisher here (the cluster runners: the data
        travels through the engine) must make the map stage's task values
        behave like ``shuffle.writer.MapOutput``: ``bucket(i)`` -> a list of
        whatever its own ``run_tasks`` understands in ``ShuffleInput.outputs``
        of the reduce tasks. The engines return ``shuffle.packed.PackingWriter``:
        mapfold's own combine and spill, only the transport is theirs.
        """
        return None

    def stream(self, stage: Stage, prepared, task: TaskSpec) -> Iterator | None:
        """Records of one task, lazily, when the runner can stream in process:
        an iterable with a ``runtime`` (``runners.tasks.TaskStream``), whose
        counters and metrics the job adds when the stream is exhausted."""
        return None

    def scratch(self) -> str:
        """A private folder (mode 0700) for shuffle and cache files, removed on close."""
        return self._own_scratch(os.environ.get("MAPFOLD_SCRATCH") or None)

    def _own_scratch(self, base: str | None) -> str:
        # the folder's lock tells a later runner whether its driver is alive (runners/scratch.py)
        if self._scratch_folder is None or not self._scratch_folder.exists():
            if self._scratch_folder is not None:
                self._scratch_folder.remove()
            self._scratch_folder = Scratch.make(f"mapfold-{self.name}-", base)
            self._scratch = self._scratch_folder.path
        return self._scratch

    def close(self) -> None:
        """Release the persisted partitions and remove the scratch folder.
        A runner used again after ``close()`` starts afresh (and recomputes)."""
        self.release_persisted()
        if self._scratch_folder is not None:
            self._scratch_folder.remove()
            self._scratch_folder = None
        if self._scratch is not None:  # a folder a subclass set itself
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None
        closers, self._closers = getattr(self, "_closers", None) or [], []
        for callback in closers:
            callback()

    def release_persisted(self) -> None:
        """Release every persisted partition this runner holds. Engine runners
        call it before they stop their engine, whose references it frees."""
        if getattr(self, "_persisted", None) is not None:
            self._persisted.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def describe(self) -> str:
        return self.name

    def parallelism(self) -> int:
        """How many tasks this runner runs at once: its workers (processes),
        its workers' threads (dask), Spark's default parallelism, Ray's CPUs;
        1 on the serial runner. What a scheduler outside mapfold (joblib's
        ``n_jobs=-1``: ``mapfold.ml.joblib_backend``) sizes its work by.

        >>> from mapfold.runners import make_runner
        >>> make_runner("serial").parallelism(), make_runner("processes", workers=3).parallelism()
        (1, 3)
        """
        return getattr(self, "workers", None) or 1
