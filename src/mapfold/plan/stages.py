"""Compiling a plan into stages.

Walking up from the node an action asks for, narrow nodes fuse into the
stage; a shuffle or a persist node ends the walk. A shuffle becomes a
dependency: a stage of its own that must run first; so does a persist node
whose partitions the runner does not hold yet (``plan/execute.py`` decides,
with ``runner.persisted``), else its tasks read them. Each task of a
stage is ``(input, chain)``: where its records come from and the narrow
transforms to apply, each with the partition index it sees.

A :class:`~mapfold.plan.nodes.ZipNode` (the sides of a co-partitioned
cogroup) gives its tasks a :class:`ZippedInput`: partition ``i`` of every
side, each an ``(input, chain)`` of its own, read in one task, each side
an iterator of its own for the cogroup or join step above the zip. A runner that cannot read several inputs in one task compiles it
as the ordinary shuffle it stands for (``zips_inputs=False``).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Callable

from ..core.task_context import TaskSettings
from .nodes import CoalesceNode, NarrowNode, Node, PersistNode, ShuffleNode, SourceNode, UnionNode, ZipNode
from .rewrites import Rewrite, find_rewrite

__all__ = ["Stage", "StageCode", "TaskSpec", "ShuffleInput", "CachedInput", "ZippedInput", "compile_stage",
           "leaf_inputs", "RESULT", "SHUFFLE_MAP", "CACHE"]

# what a stage is, declared by the planner (runners read it, never the stage's code)
RESULT = "result"  # its tasks' values go to the action
SHUFFLE_MAP = "shuffle map"  # the map side of Stage.shuffle_of: its values are map outputs
CACHE = "cache"  # computes persisted Stage.cache_of: the runner keeps its values

_stage_ids = itertools.count(1)


@dataclass
class StageCode:
    """Everything a worker needs to run any task of a stage: shipped once."""

    transforms: dict[int, Callable]
    finisher: Callable  # finisher(partition, iterator) -> value
    aggregators: dict[int, Any] = field(default_factory=dict)  # shuffle id -> Aggregator for reading
    settings: TaskSettings = field(default_factory=TaskSettings)  # the job's budget and folder, for every task


@dataclass
class ShuffleInput:
    shuffle_id: int
    partition: int
    outputs: list = field(default_factory=list)  # map outputs, filled before the task runs
    scratch: str | None = None  # private folder for the reduce task's spills (the job's)
    keep_dir: str | None = None  # private folder for files results may refer to (the runner's)
    memory_limit: int | None = None  # the shuffle memory budget, in bytes

    def describe(self) -> str:
        return f"shuffle {self.shuffle_id} bucket {self.partition}"


@dataclass
class CachedInput:
    node_id: int  # the PersistNode whose kept partition this is
    partition: int
    data: Any = None  # from the runner's store: a list (in memory), a pickle file's path, an engine reference

    def describe(self) -> str:
        return f"cached partition {self.partition} of node {self.node_id}"


@dataclass
class ZippedInput:
    """Partition ``partition`` of several co-partitioned sides: each side an
    ``(input, chain)`` pair, read in turn (``runners/tasks.open_input``)."""

    partition: int
    parts: list  # [(input, chain), ...]
    # the sides of a ZipNode: the step above takes one iterator per side (its ``sides_of``);
    # else (a coalesce's parts) the parts are read one after the other
    separate: bool = False

    def describe(self) -> str:
        return " + ".join(getattr(source, "describe", lambda: type(source).__name__)() for source, _ in self.parts)


def leaf_inputs(source) -> list:
    """The inputs a task reads: ``source`` itself, or each side of a zipped one.

    >>> leaf_inputs(ZippedInput(0, [(CachedInput(1, 0), ()), (ShuffleInput(2, 0), ())]))[1].describe()
    'shuffle 2 bucket 0'
    """
    if isinstance(source, ZippedInput):
        return [leaf for part, _ in source.parts for leaf in leaf_inputs(part)]
    return [source]


@dataclass
class TaskSpec:
    stage: int
    partition: int
    input: Any
    chain: tuple  # ((node_id, index), ...) applied in order
    rewrite: Rewrite | None = None  # a faster view of the input, chosen by the planner (plan/rewrites.py)


@dataclass
class Stage:
    id: int
    name: str
    node: Node
    code: StageCode
    tasks: list[TaskSpec]
    shuffle_deps: list[ShuffleNode]
    cache_deps: list[Node]
    role: str = RESULT  # RESULT, SHUFFLE_MAP or CACHE
    shuffle_of: ShuffleNode | None = None  # the shuffle whose map side this is (SHUFFLE_MAP)
    cache_of: Node | None = None  # the persisted node it computes (CACHE)

    @property
    def rewrites(self) -> list[str]:
        """The plan-time rewrites its tasks got, each once, as ``explain()`` names them."""
        return list(dict.fromkeys(task.rewrite.label for task in self.tasks if task.rewrite is not None))


def compile_stage(node: Node, finisher: Callable, name: str, partitions: list[int] | None = None,
                  materializing: Node | None = None, zips_inputs: bool = True, role: str = RESULT,
                  shuffle_of: ShuffleNode | None = None, coalesces_inputs: bool | None = None) -> Stage:
    if coalesces_inputs is None:
        coalesces_inputs = zips_inputs
    transforms: dict[int, Callable] = {}
    narrow: dict[int, NarrowNode] = {}
    aggregators: dict[int, Any] = {}
    shuffle_deps: dict[int, ShuffleNode] = {}
    cache_deps: dict[int, Node] = {}

    def walk(current: Node, current_index: int) -> tuple[Any, tuple]:
        """Where partition ``current_index`` of ``current`` comes from, and the chain to apply."""
        chain = []
        while True:
            if isinstance(current, PersistNode):
                if current is not materializing:  # read from the runner's store
                    cache_deps[current.id] = current
                    source = CachedInput(current.id, current_index)
                    break
                current = current.parent  # the stage that computes it: its records are the parent's
            elif isinstance(current, NarrowNode):
                transforms[current.id] = current.transform
                narrow[current.id] = current
                chain.append((current.id, current_index))
                current = current.parent
            elif isinstance(current, UnionNode):
                current, current_index = current.locate(current_index)
            elif isinstance(current, ZipNode) and zips_inputs:
                source = ZippedInput(current_index, [walk(parent, current_index) for parent in current.parents()],
                                     separate=True)
                break
            elif isinstance(current, ZipNode):
                current = current.as_shuffle
            elif isinstance(current, CoalesceNode) and coalesces_inputs:
                parts = [walk(current.parent, j) for j in current.groups[current_index]]
                source = ZippedInput(current_index, parts)
                break
            elif isinstance(current, CoalesceNode):
                current = current.fallback
            elif isinstance(current, SourceNode):
                source = current.input_partitions[current_index]
                break
            elif isinstance(current, ShuffleNode):
                shuffle_deps[current.id] = current
                aggregators[current.id] = current.aggregator
                source = ShuffleInput(current.id, current_index)
                break
            else:
                raise TypeError(f"unknown plan node {current!r}")
        return source, tuple(reversed(chain))

    tasks = []
    stage_id = next(_stage_ids)
    indices = range(node.num_partitions) if partitions is None else partitions
    for index in indices:
        source, chain = walk(node, index)
        rewrite = find_rewrite(source, [narrow[node_id] for node_id, _ in chain], finisher)
        tasks.append(TaskSpec(stage_id, index, source, chain, rewrite))
    code = StageCode(transforms, finisher, aggregators)
    return Stage(stage_id, name, node, code, tasks, list(shuffle_deps.values()), list(cache_deps.values()),
                 role, shuffle_of, materializing if role == CACHE else None)
