"""The one execution loop every runner shares.

An action compiles its stage, then the stages it depends on (shuffle map
stages, persisted nodes the runner does not hold yet: their partitions go
into the runner's ``persisted`` store, never onto the plan). All their
code is pickled before any task runs, so an unpicklable function fails at
once, before any output exists. Stages then run in dependency order on the
chosen runner.
"""
from __future__ import annotations

import os
import shutil
import uuid
from typing import TYPE_CHECKING, Any, Callable, Iterator

from ..core.counters import Counters
from ..core.partition_files import as_columns, write_partition
from ..core.task_context import TaskSettings, count_written
from ..shuffle.local import LocalCombine
from .events import Event, EventLog, Listeners, ProgressListener
from .nodes import Node, ShuffleNode
from .record import RunRecord
from .stages import CACHE, RESULT, SHUFFLE_MAP, CachedInput, ShuffleInput, Stage, compile_stage, leaf_inputs

if TYPE_CHECKING:  # the loop only calls the runner it is handed; runners sit above plan
    from ..runners.base import Runner

__all__ = ["Job", "Materialize"]


class Materialize:
    """Finisher that keeps a persisted partition: a list, or a file of
    ``core.partition_files`` (its arrays read back mapped, dict records in columns)."""

    def __init__(self, directory: str | None):
        self.directory = directory

    def __call__(self, partition: int, iterator: Iterator) -> Any:
        records = list(iterator)
        count_written(len(records))
        if self.directory is None:
            return records
        path = os.path.join(self.directory, f"part-{partition:05d}.pkl")
        write_partition(path, as_columns(records))
        return path


class Job:
    """One action on one runner: plans, runs, sums counters, cleans up."""

    def __init__(self, runner: "Runner", progress: bool | None = None):
        self.runner = runner
        self.id = uuid.uuid4().hex[:12]
        self.counters = Counters()
        self.directory: str | None = None
        self.stats: dict[str, Any] = {"stages": [], "spilled_bytes": 0, "spilled_records": 0}
        self.record: RunRecord | None = None  # made when the action starts (Job.start)
        self._progress = ProgressListener(progress)
        self._listeners: Listeners | None = None
        self._memory_limit = None
        # folders made for persisted partitions not computed yet: removed if the job fails first
        self._cache_dirs: dict[int, str] = {}

    @property
    def memory_limit(self):
        """The shuffle memory budget per worker (a Setting, value in bytes)."""
        if self._memory_limit is None:
            from ..core.config import memory_limit_setting

            workers = getattr(self.runner, "workers", None) or 1
            self._memory_limit = memory_limit_setting(getattr(self.runner, "memory_limit", None), workers)
            self.stats["memory_limit"] = self._memory_limit
        return self._memory_limit

    # -- planning -----------------------------------------------------------
    def _job_dir(self) -> str:
        if self.directory is None:
            self.directory = os.path.join(self.runner.scratch(), f"job-{uuid.uuid4().hex[:12]}")
            os.makedirs(self.directory, mode=0o700)
        return self.directory

    def _plan(self, stage: Stage, ordered: list, seen: set) -> None:
        for shuffle in stage.shuffle_deps:
            if ("shuffle", shuffle.id) in seen:
                continue
            seen.add(("shuffle", shuffle.id))
            from ..shuffle.writer import ShuffleWriter

            # a cluster runner may move the buckets through its engine (runners/base.py)
            writer = self.runner.shuffle_writer(shuffle)
            if writer is None:
                writer = ShuffleWriter(shuffle, os.path.join(self._job_dir(), f"shuffle-{shuffle.id}"),
                                       self.memory_limit.value)
            dep = self._compile(shuffle.parent, writer, f"{shuffle.name} (map side)", role=SHUFFLE_MAP,
                                shuffle_of=shuffle)
            self._plan(dep, ordered, seen)
        for node in stage.cache_deps:
            if ("cache", node.id) in seen or self._cached(node) is not None:
                continue
            seen.add(("cache", node.id))
            directory = None
            if self.runner.cache_on_disk:  # in the runner's scratch: close() removes it
                directory = self.runner.persisted.folder(node)
                self._cache_dirs[node.id] = directory
            dep = self._compile(node, Materialize(directory), f"persist {node.label()}", materializing=node,
                                role=CACHE)
            self._plan(dep, ordered, seen)
        ordered.append(stage)

    def _compile(self, node: Node, finisher: Callable, name: str, partitions=None, materializing=None,
                 role: str = RESULT, shuffle_of: ShuffleNode | None = None) -> Stage:
        stage = compile_stage(node, finisher, name, partitions, materializing,
                              zips_inputs=getattr(self.runner, "zips_inputs", True), role=role, shuffle_of=shuffle_of,
                              coalesces_inputs=getattr(self.runner, "coalesces_inputs", None))
        transforms = stage.code.transforms
        for node_id, transform in transforms.items():
            if isinstance(transform, LocalCombine):  # a skipped shuffle: it combines under this job's budget
                transforms[node_id] = transform.bound(self.memory_limit.value,
                                                      os.path.join(self._job_dir(), f"combine-{node_id}"),
                                                      self.runner.scratch())
        return stage

    def computes(self, node: Node) -> bool:
        """Does this job compute ``node`` (rather than read it from the
        runner's store: a persisted node this runner already holds)? The
        Dataset layer asks it to know which Datasets this run computed
        (``dataset/runs.py``); no run is recorded on the shared plan.
        """
        return not (node.persisted and self._cached(node) is not None)

    def _cached(self, node: Node):
        """The partitions of persisted ``node`` this job's runner holds, or None."""
        return self.runner.persisted.get(node)

    # -- events and the run record -----------------------------------------
    def start(self, action: str) -> None:
        """Open the run record and tell the listeners the job started."""
        if self.record is not None:
            return
        setting = getattr(self, "runner_setting", None)
        limit = self.memory_limit
        self.record = RunRecord(self.id, action, self.runner.name, setting.source if setting else "argument",
                                limit.value, limit.source)
        listeners = [self._progress, self.record, *getattr(self.runner, "listeners", ())]
        log = os.environ.get("MAPFOLD_EVENT_LOG")
        if log:
            listeners.append(EventLog(log))
        self._listeners = Listeners(listeners)
        self.emit("job_started", data={"action": action, "runner": self.runner.describe()})

    def emit(self, kind: str, stage: Stage | None = None, partition: int | None = None,
             data: dict | None = None) -> None:
        if self._listeners is None:
            return
        self._listeners.emit(Event(kind, self.id, stage.id if stage else None, stage.name if stage else "",
                                   partition, data or {}))

    def finish(self, error: BaseException | None = None) -> None:
        """Tell the listeners how the job ended; the run record closes with it."""
        if self._listeners is None or self.record.finished is not None:
            return
        data = {"counters": self.counters.as_dict()}
        if self.counters.samples:  # the kept samples (bad records), as the counters keep them
            data["samples"] = {group: list(items) for group, items in self.counters.samples.items()}
        if error is None:
            self.emit("job_finished", data=data)
        else:
            self.emit("job_failed", data={**data, "error": f"{type(error).__name__}: {error}"})

    def prepare(self, node: Node, finisher: Callable, name: str, partitions=None) -> list[tuple[Stage, Any]]:
        """Compile and pickle the plan; on failure (an unpicklable function) the
        folders planning made are removed and the run is recorded as failed."""
        self.start(name)
        try:
            stage = self._compile(node, finisher, name, partitions)
            ordered: list[Stage] = []
            self._plan(stage, ordered, set())
            # what every task gets from its runtime (core/task_context.py): travels with the stage's code.
            # A job folder only where planning needed one (shuffles, skipped shuffles, persisted partitions);
            # an engine's shuffle (its buckets moved by the engine) needs none, but its tasks spill: they
            # work in the runner's folder, so what a killed worker leaves goes with the runner's close()
            # (a worker on another machine, where the folder does not exist, makes a private one per task)
            scratch = self.directory
            if scratch is None and any(s.role == SHUFFLE_MAP for s in ordered):
                scratch = self.runner.scratch()
            # a local cluster mapfold started shares this disk: big buckets stay files in the job's folder.
            # Not when the job persists partitions: the engine may recompute one from its map outputs after
            # the job, when the job's folder is gone (the bytes, kept by the engine, have no such end)
            files = None
            roles = {s.role for s in ordered}
            if getattr(self.runner, "shares_scratch", False) and SHUFFLE_MAP in roles and CACHE not in roles:
                files = self._job_dir()
            settings = TaskSettings(memory_limit=self.memory_limit.value, scratch=scratch, shuffle_files=files)
            for s in ordered:
                s.code.settings = settings
            # pickle all code first: an unpicklable function fails before any task runs
            return [(s, self.runner.prepare(s)) for s in ordered]
        except BaseException as exc:
            self.finish(exc)
            self.cleanup()
            raise

    # -- running ------------------------------------------------------------
    def _fill_inputs(self, stage: Stage, shuffle_outputs: dict) -> None:
        for source in (leaf for task in stage.tasks for leaf in leaf_inputs(task.input)):
            if isinstance(source, ShuffleInput):
                source.outputs = [out.bucket(source.partition) for out in shuffle_outputs[source.shuffle_id]]
                source.scratch = os.path.join(self._job_dir(), f"reduce-{source.shuffle_id}")
                source.keep_dir = self.runner.scratch()
                source.memory_limit = self.memory_limit.value
            elif isinstance(source, CachedInput):
                source.data = self._cached_by_id(stage, source.node_id)[source.partition]

    def _cached_by_id(self, stage: Stage, node_id: int):
        for node in stage.cache_deps:
            if node.id == node_id:
                return self._cached(node)
        raise KeyError(node_id)

    def _run_dependencies(self, plan: list) -> dict[int, list]:
        shuffle_outputs: dict[int, list] = {}
        for stage, code in plan:
            self._fill_inputs(stage, shuffle_outputs)
            values = [value for _, value in self._run_stage(stage, code, ordered=True)]
            shuffle = stage.shuffle_of
            if stage.role == SHUFFLE_MAP:  # (what the map side spilled came as the tasks' metrics)
                shuffle_outputs[shuffle.id] = values
            else:  # the runner keeps them (runners/persisted.py), never the shared plan node
                node = stage.cache_of
                self.runner.persisted.put(node, values, self._cache_dirs.pop(node.id, None))
        return shuffle_outputs

    def run(self, node: Node, finisher: Callable, name: str, partitions=None, ordered: bool = True,
            prepared: list | None = None) -> Iterator[tuple[int, Any]]:
        """Yield ``(partition, value)`` of the final stage."""
        try:  # planning makes folders (shuffles, persisted partitions): cleaned up if pickling fails
            plan = prepared if prepared is not None else self.prepare(node, finisher, name, partitions)
            stage, code = plan[-1]
            self._fill_inputs(stage, self._run_dependencies(plan[:-1]))
            for task, value in self._run_stage(stage, code, ordered=ordered):
                yield task.partition, value
        except BaseException as exc:
            if not isinstance(exc, GeneratorExit):  # a consumer that stopped early (take) did not fail
                self.finish(exc)
            raise
        finally:
            self.finish()
            self.cleanup()

    def stream(self, node: Node, name: str = "iterate") -> Iterator:
        """Records of ``node`` in partition order, lazily where the runner can."""
        from .finishers import to_list

        plan = self.prepare(node, to_list, name)
        if not self.runner.streams_in_process:
            for _, records in self.run(node, to_list, name, prepared=plan):
                yield from records
            return
        try:
            stage, code = plan[-1]
            self._fill_inputs(stage, self._run_dependencies(plan[:-1]))
            self.emit("stage_started", stage, data={"tasks": len(stage.tasks)})
            for task in stage.tasks:
                records = self.runner.stream(stage, code, task)
                yield from records
                self._task_done(stage, task, records.runtime.counters_table(), records.runtime.metrics)
            self.emit("stage_finished", stage)
        except BaseException as exc:
            if not isinstance(exc, GeneratorExit):
                self.finish(exc)
            raise
        finally:
            self.finish()
            self.cleanup()

    def _run_stage(self, stage: Stage, code, ordered: bool) -> Iterator:
        self.stats["stages"].append((stage.id, stage.name, len(stage.tasks)))
        if stage.rewrites:  # the plan-time rewrites its tasks ran with (explain shows them)
            self.stats.setdefault("rewrites", {})[stage.id] = stage.rewrites
        self.emit("stage_started", stage, data={"tasks": len(stage.tasks)})
        for task, outcome in self.runner.run_tasks(stage, code, stage.tasks, ordered=ordered):
            if outcome.failure is not None:
                self.emit("task_failed", stage, task.partition, data=_failure_data(outcome))
                outcome.failure.reraise()
            self._task_done(stage, task, outcome.counters, outcome.metrics)
            yield task, outcome.value
        self.emit("stage_finished", stage)

    def _task_done(self, stage: Stage, task, counters: dict, metrics: dict) -> None:
        """A finished task: its user counters into the job's, its spills into the stats, an event."""
        self.counters.add(counters)
        metrics = dict(metrics or {})
        # spills on either side of a shuffle, on every runner, are the task's metrics
        spilled_bytes = metrics.get("spilled_bytes", 0)
        spilled_records = metrics.get("spilled_records", 0)
        for name in ("spilled_bytes", "spilled_records"):
            if name in metrics:
                self.stats[name] = self.stats.get(name, 0) + metrics[name]
        self.emit("task_finished", stage, task.partition,
                  data={"seconds": metrics.get("seconds"), "worker": metrics.get("worker"),
                        "spilled_bytes": spilled_bytes, "spilled_records": spilled_records,
                        "records": metrics.get("records"), "max_rss": metrics.get("max_rss"),
                        **({"counters": counters} if counters else {})})

    def cleanup(self) -> None:
        for directory in self._cache_dirs.values():
            shutil.rmtree(directory, ignore_errors=True)
        self._cache_dirs.clear()
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None


_TRACEBACK_CHARS = 20_000  # a task_failed event keeps the end of a longer worker traceback


def _failure_data(outcome) -> dict:
    """What a ``task_failed`` event says: the error, where it happened, the worker's traceback."""
    failure = outcome.failure
    context = failure.context
    metrics = outcome.metrics or {}
    trace = failure.traceback or ""
    return {"error": f"{type(failure.exception).__name__}: {failure.exception}",
            "context": context.describe(), "location": context.location, "attempts": context.attempts,
            "traceback": trace[-_TRACEBACK_CHARS:], "worker": metrics.get("worker"),
            "seconds": metrics.get("seconds")}
