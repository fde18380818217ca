"""Plan nodes: a Dataset is a node; nodes form a DAG that runners never see.

Narrow nodes carry a *transform*: ``transform(partition_index, iterator) ->
iterator``. Chained narrow nodes fuse into one pipeline per partition when a
stage is compiled. A :class:`ShuffleNode` cuts the plan into stages.

Every node knows its ``partitioner``: how its records are placed by key, or
``None`` when nothing is known. A shuffle sets it; narrow steps that keep
keys (``filter``, ``map_values``, ...) keep their parent's; everything else
drops it. Two nodes with equal partitioners hold each key in the same
partition index, which lets a by-key operation skip its shuffle
(:class:`CombineNode`) and a join read its sides partition by partition
(:class:`ZipNode`): co-partitioning, as in Spark.
"""
from __future__ import annotations

import itertools
import weakref
from typing import Any, Callable

from ..shuffle.local import LocalCombine

__all__ = ["Node", "SourceNode", "NarrowNode", "UnionNode", "ShuffleNode", "PersistNode", "Aggregator", "CombineNode",
           "ZipNode", "copartitioned"]

_ids = itertools.count()


class Node:
    name = "node"
    #: a node whose partitions a runner keeps once computed (only :class:`PersistNode`)
    persisted = False
    #: how records are placed by key (a partitioner from shuffle/partitioner.py), or None: unknown
    partitioner: Any = None

    def __init__(self, num_partitions: int):
        self.id = next(_ids)
        self.num_partitions = num_partitions

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
    def __init__(self, parent: Node, transform: Callable, name: str, preserves_partitioning: bool = False,
                 reads_as: Any = None):
        super().__init__(parent.num_partitions)
        self.parent = parent
        self.transform = transform
        self.name = name
        # a plan.rewrites.Rewrite when this step equals reading a view of its input (declared by
        # the Dataset layer, which knows the operation; the planner applies it where the input has it)
        self.reads_as = reads_as
        # key-preserving steps (filter, map_values) keep a parent's partitioning
        self.partitioner = parent.partitioner if preserves_partitioning else None

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
        state = dict(self.__dict__)
        state["holders"] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.holders = weakref.WeakSet()

    def parents(self) -> list[Node]:
        return [self.parent]

    def label(self) -> str:
        return self.parent.label()
def copartitioned(node: Node, partitioner: Any, num_partitions: int) -> bool:
    """Does ``node`` already place every key where ``partitioner`` would, in
    ``num_partitions`` partitions? Then no shuffle is needed to get there.

    >>> from mapfold.shuffle.partitioner import HashPartitioner
    >>> node = ShuffleNode(SourceNode(None, [None]), 3, HashPartitioner(3))
    >>> copartitioned(node, HashPartitioner(3), 3), copartitioned(node, HashPartitioner(4), 4)
    (True, False)
    """
    return (node.partitioner is not None and node.num_partitions == num_partitions
            and node.partitioner == partitioner)


def _skipped_reason(partitioner: Any) -> str:
    describe = getattr(partitioner, "describe", None)
    return f"input already {describe() if describe else repr(partitioner)}"


class CombineNode(NarrowNode):
    """A by-key operation whose input is already partitioned as its shuffle
    would partition it: each partition is combined on its own (a narrow
    step, ``shuffle/local.py``), with no shuffle; without an aggregator
    (``partition_by``) nothing moves at all. ``skipped`` says why, for
    ``explain()``."""

    def __init__(self, parent: Node, aggregator: Aggregator | None, name: str, transform: LocalCombine | None = None):
        if transform is None:  # a co-partitioned cogroup brings its own (shuffle/local.LocalCogroup)
            transform = _unchanged if aggregator is None else LocalCombine(aggregator, name)
        super().__init__(parent, transform, name, preserves_partitioning=True)
        self.aggregator = aggregator
        self.skipped = _skipped_reason(parent.partitioner)


def _unchanged(index: int, iterator):
    return iterator


class ZipNode(Node):
    """Partition ``i`` is partition ``i`` of every parent, side by side: the
    step above it (a cogroup or join, ``shuffle/local.py``) gets one
    iterator per parent (``sides_of``).

    The parents are co-partitioned (equal partitioners, equal counts), so
    each key's records of every parent meet in one partition: what a
    cogroup needs, without a shuffle. Like PySpark's partitioner-aware
    union, not ``Dataset.union`` (which concatenates partitions). A runner
    that cannot read several inputs in one task (``Runner.zips_inputs``)
    runs ``as_shuffle`` instead: the same records moved into the same
    buckets by an ordinary shuffle.
    """

    name = "zip"

    def __init__(self, parents: list[Node], name: str, tagged: list[Node], shuffled: list[bool]):
        first = parents[0]
        if any(not copartitioned(p, first.partitioner, first.num_partitions) for p in parents):
            raise ValueError("ZipNode needs co-partitioned parents")
        super().__init__(first.num_partitions)
        self._parents = list(parents)
        self.partitioner = first.partitioner
        self.name = name
        self.skipped = _skipped_reason(first.partitioner)
        self.shuffled = list(shuffled)  # which sides were shuffled into this partitioning for the zip
        # read as one shuffle, the records must say which side they are of: ``tagged`` is each side
        # as it was before any shuffle of its own, its records side-tagged
        self.as_shuffle = ShuffleNode(UnionNode(list(tagged)), first.num_partitions, first.partitioner, None,
                                      name=f"{name} (runner cannot zip partitions)")

    def parents(self) -> list[Node]:
        return list(self._parents)


class CoalesceNode(Node):
    """Partition ``g`` is the parent's partitions ``groups[g]``, read one after
    the other in one task: Spark's ``coalesce`` without a shuffle. A runner
    that cannot read several inputs in one task (``Runner.zips_inputs``) runs
    ``fallback`` instead, a plan giving the same partitions through a shuffle.
    """

    name = "coalesce"

    def __init__(self, parent: Node, groups: list[list[int]], fallback: Node):
        super().__init__(len(groups))
        self.parent, self.groups, self.fallback = parent, groups, fallback

    def parents(self) -> list[Node]:
        return [self.parent]

