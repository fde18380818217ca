"""Plan nodes: a Dataset is a node; nodes form a DAG that runners never see.

Narrow nodes carry a *transform*: ``transform(partition_index, iterator) ->
iterator``. Chained narrow nodes fuse into one pipeline per partition when a
stage is compiled. A :class:`ShuffleNode` cuts the plan into stages.
"""
from __future__ import annotations

import itertools
import weakref
from typing import Any, Callable

__all__ = ["Node", "SourceNode", "NarrowNode", "UnionNode", "ShuffleNode", "PersistNode", "Aggregator"]

_ids = itertools.count()


class Node:
    name = "node"
    #: a node whose partitions a runner keeps once computed (only :class:`PersistNode`)
    persisted = False

    def __init__(self, num_partitions: int):
        self.id = next(_ids)
        self.num_partitions = num_partitions
        # the last Job that computed this node, set by Job.claim: the run whose
        # counters and bad records a Dataset holding this node reports
        self.last_job = None

    def __getstate__(self):
        # a closure that captured a Dataset ships its plan, never a run (a Job holds a runner)
        state = dict(self.__dict__)
        state["last_job"] = None
        return state

    def parents(self) -> list["Node"]:
        return []

    def label(self) -> str:
        return self.name


class SourceNode(Node):
    name = "source"

    def __init__(self, source, partitions: list):
        super().__init__(len(partitions))
        self.source = source
        self.input_partitions = partitions

    def label(self) -> str:
        describe = getattr(self.source, "describe", None)
        return describe() if describe else type(self.source).__name__


class NarrowNode(Node):
    def __init__(self, parent: Node, transform: Callable, name: str, preserves_partitioning: bool = False):
        super().__init__(parent.num_partitions)
        self.parent = parent
        self.transform = transform
        self.name = name
        # key-preserving steps (filter, map_values) keep a parent's hash partitioning
        self.partitioner = getattr(parent, "partitioner", None) if preserves_partitioning else None

    def parents(self) -> list[Node]:
        return [self.parent]


class UnionNode(Node):
    name = "union"

    def __init__(self, parents: list[Node]):
        super().__init__(sum(p.num_partitions for p in parents))
        self._parents = parents

    def parents(self) -> list[Node]:
        return list(self._parents)

    def locate(self, index: int) -> tuple[Node, int]:
        for parent in self._parents:
            if index < parent.num_partitions:
                return parent, index
            index -= parent.num_partitions
        raise IndexError(index)


class Aggregator:
    """How a shuffle combines values per key (PySpark's combineByKey triple).

    ``collects``: for combiners that keep every value (``group_by_key``,
    ``cogroup``), a function giving the number of values a combiner holds;
    the shuffle's memory model counts values instead of sampling combiners.
    """

    def __init__(self, create: Callable, merge_value: Callable, merge_combiners: Callable,
                 collects: Callable | None = None):
        self.create = create
        self.merge_value = merge_value
        self.merge_combiners = merge_combiners
        self.collects = collects


class ShuffleNode(Node):
    """Records of ``(key, value)`` moved to ``num_partitions`` buckets by key."""

    name = "shuffle"

    def __init__(self, parent: Node, num_partitions: int, partitioner: Any, aggregator: Aggregator | None = None,
                 name: str = "shuffle"):
        super().__init__(num_partitions)
        self.parent = parent
        self.partitioner = partitioner
        self.aggregator = aggregator
        self.name = name

    def parents(self) -> list[Node]:
        return [self.parent]


class PersistNode(Node):
    """The records of ``parent``, kept by the runner that computes them.

    ``Dataset.persist()`` wraps its node in a new one of these instead of
    marking the node itself: other Datasets built on that node (``a.map(f)``
    made before ``a.persist()``) keep their plan. The partitions never live
    here: each runner keeps them in its own ``runners.persisted.PersistedPartitions``,
    keyed by this node's id. ``holders`` is a weak set of those stores, so
    that ``unpersist()`` can release the partitions on every runner holding
    them without a registry of runners; a closed or dropped runner leaves it
    by itself.
    """

    name = "persist"
    persisted = True

    def __init__(self, parent: Node):
        super().__init__(parent.num_partitions)
        self.parent = parent
        # the records are the parent's: so is its partitioning
        self.partitioner = getattr(parent, "partitioner", None)
        self.holders: weakref.WeakSet = weakref.WeakSet()

    def __getstate__(self):
        # a plan shipped in a closure holds no runner's store
        state = super().__getstate__()
        state["holders"] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.holders = weakref.WeakSet()

    def parents(self) -> list[Node]:
        return [self.parent]

    def label(self) -> str:
        return self.parent.label()
