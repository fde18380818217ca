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
from ..core.task_context import TaskSettings
from ..core.progress import Progress
from ..shuffle.local import LocalCombine
from .nodes import Node, ShuffleNode
from .stages import CachedInput, ShuffleInput, Stage, compile_stage, leaf_inputs

if TYPE_CHECKING:  # the loop only calls the runner it is handed; runners sit above plan
    from ..runners.base import Runner

__all__ = ["Job", "Materialize"]


class Materialize:
    """Finisher that keeps a persisted partition: a list, or a pickle file."""

    def __init__(self, directory: str | None):
        self.directory = directory

    def __call__(self, partition: int, iterator: Iterator) -> Any:
        records = list(iterator)
        if self.directory is None:
            return records
        import pickle

        path = os.path.join(self.directory, f"part-{partition:05d}.pkl")
        with open(path, "wb") as f:
            pickle.dump(records, f, protocol=pickle.HIGHEST_PROTOCOL)
        return path


class Job:
    """One action on one runner: plans, runs, sums counters, cleans up."""

    def __init__(self, runner: "Runner", progress: bool | None = None):
        self.runner = runner
        self.counters = Counters()
        self.progress = Progress(progress)
        self.directory: str | None = None
        self.stats: dict[str, Any] = {"stages": [], "spilled_bytes": 0, "spilled_records": 0}
        self._spilled_so_far = [0, 0]  # bytes, records: shown live in the progress bar
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
            dep = self._compile(shuffle.parent, writer, f"{shuffle.name} (map side)")
            dep.shuffle_of = shuffle
            self._plan(dep, ordered, seen)
        for node in stage.cache_deps:
            if ("cache", node.id) in seen or self._cached(node) is not None:
                continue
            seen.add(("cache", node.id))
            directory = None
            if self.runner.cache_on_disk:  # in the runner's scratch: close() removes it
                directory = self.runner.persisted.folder(node)
                self._cache_dirs[node.id] = directory
            dep = self._compile(node, Materialize(directory), f"persist {node.label()}", materializing=node)
            dep.cache_of = node
            self._plan(dep, ordered, seen)
        ordered.append(stage)

    def _compile(self, node: Node, finisher: Callable, name: str, partitions=None, materializing=None) -> Stage:
        stage = compile_stage(node, finisher, name, partitions, materializing,
                              zips_inputs=getattr(self.runner, "zips_inputs", True))
        transforms = stage.code.transforms
        for node_id, transform in transforms.items():
            if isinstance(transform, LocalCombine):  # a skipped shuffle: it combines under this job's budget
                transforms[node_id] = transform.bound(self.memory_limit.value,
                                                      os.path.join(self._job_dir(), f"combine-{node_id}"),
                                                      self.runner.scratch())
        return stage

    def claim(self, node: Node) -> None:
        """Record this job as the last run of ``node`` and of every node it
        computes to get it, so that ``counters`` and ``bad_records`` read on a
        Dataset upstream of the action (``events`` after ``events.map(...)
        .save_parquet(...)``) report this run. A persisted node already
        computed on this runner is read from its cache, not computed: it and
        its ancestors keep the run that did compute them.
        """
        stack, seen = [node], set()
        while stack:
            current = stack.pop()
            if current.id in seen:
                continue
            seen.add(current.id)
            if current.persisted and self._cached(current) is not None:
                continue
            current.last_job = self
            stack.extend(current.parents())

    def _cached(self, node: Node):
        """The partitions of persisted ``node`` this job's runner holds, or None."""
        return self.runner.persisted.get(node)

    def prepare(self, node: Node, finisher: Callable, name: str, partitions=None) -> list[tuple[Stage, Any]]:
        stage = self._compile(node, finisher, name, partitions)
        ordered: list[Stage] = []
        self._plan(stage, ordered, set())
        # what every task gets from its runtime (core/task_context.py): travels with the stage's code
        settings = TaskSettings(memory_limit=self.memory_limit.value, scratch=self._job_dir())
        for s in ordered:
            s.code.settings = settings
        # pickle all code first: an unpicklable function fails before any task runs
        return [(s, self.runner.prepare(s)) for s in ordered]

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
            shuffle = getattr(stage, "shuffle_of", None)
            if shuffle is not None:
                shuffle_outputs[shuffle.id] = values
                for out in values:
                    self.stats["spilled_bytes"] += out.spilled_bytes
                    self.stats["spilled_records"] += out.spilled_records
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
        finally:
            self.progress.close()
            self.cleanup()

    def stream(self, node: Node, name: str = "iterate") -> Iterator:
        """Records of ``node`` in partition order, lazily where the runner can."""
        from .finishers import to_list

        try:
            plan = self.prepare(node, to_list, name)
        except BaseException:
            self.cleanup()
            raise
        if not self.runner.streams_in_process:
            for _, records in self.run(node, to_list, name, prepared=plan):
                yield from records
            return
        try:
            stage, code = plan[-1]
            self._fill_inputs(stage, self._run_dependencies(plan[:-1]))
            self.progress.close()
            for task in stage.tasks:
                records = self.runner.stream(stage, code, task)
                yield from records
                self._add_outcome(records.runtime.counters_table(), records.runtime.metrics)
        finally:
            self.progress.close()
            self.cleanup()

    def _run_stage(self, stage: Stage, code, ordered: bool) -> Iterator:
        self.progress.stage(stage.name, len(stage.tasks))
        self.stats["stages"].append((stage.id, stage.name, len(stage.tasks)))
        map_stage = getattr(stage, "shuffle_of", None) is not None
        for task, outcome in self.runner.run_tasks(stage, code, stage.tasks, ordered=ordered):
            if outcome.failure is not None:
                outcome.failure.reraise()
            self._add_outcome(outcome.counters, outcome.metrics)
            if map_stage:  # a map task's output says what it spilled
                self._count_shown(getattr(outcome.value, "spilled_bytes", 0), getattr(outcome.value, "spilled_records", 0))
            self.progress.advance(**self._spill_postfix())
            yield task, outcome.value

    def _add_outcome(self, counters: dict, metrics: dict) -> None:
        """A finished task's user counters, and its metrics (reduce-side spills) into the stats."""
        self.counters.add(counters)
        for name, amount in (metrics or {}).items():
            self.stats[name] = self.stats.get(name, 0) + amount
        if metrics:
            self._count_shown(metrics.get("spilled_bytes", 0), metrics.get("spilled_records", 0))

    def _count_shown(self, spilled_bytes: int, spilled_records: int) -> None:
        self._spilled_so_far[0] += spilled_bytes or 0
        self._spilled_so_far[1] += spilled_records or 0

    def _spill_postfix(self) -> dict:
        """What the progress bar shows beside the tasks: the job's spills so far."""
        spilled_bytes, spilled_records = self._spilled_so_far
        if not spilled_bytes:
            return {}
        return {"spilled": f"{spilled_bytes / 1e6:.1f} MB, {spilled_records:,} records"}

    def cleanup(self) -> None:
        for directory in self._cache_dirs.values():
            shutil.rmtree(directory, ignore_errors=True)
        self._cache_dirs.clear()
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None
