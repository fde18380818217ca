"""Combining one partition on its own: a by-key operation without a shuffle.

Import rule: this module runs inside workers; it imports only ``core`` and
the shuffle's own modules.

When a Dataset is already partitioned as a by-key operation would
partition it (``plan/nodes.py``: co-partitioning), every key's records are
in one partition already, so the operation is a narrow step: fold each
partition's records into combiners and hand them out. It is the two halves
of a shuffle run back to back in one task, with the transport cut out:

1. the map side's combine (``writer.py``): records fold into one dict
   under the memory budget; past it the dict spills sorted runs to a file
   in the job's folder;
2. if nothing spilled (the common case), the dict *is* the answer: no
   pickling, no file;
3. otherwise the last dict is written too and all runs are merged as a
   reduce task merges its bucket (``reader.py``), so a partition larger
   than the budget, or a ``group_by_key`` hot key, finishes the same way.

Equivalent to ``shuffle.reader.read_bucket`` over ``ShuffleWriter`` output
with one bucket; cheaper because the records are never written unless the
budget demands it.
"""
from __future__ import annotations

import os
import tempfile
import uuid
from itertools import chain
from typing import Callable, Iterable, Iterator

from ..core.config import default_memory_limit
from ..core.task_context import current_task
from .combine import BudgetedBatches, cogroup_loop
from .memory import MemoryBudget, paused_gc, release_free_memory
from .reader import _merge_bucket
from .spill import RunWriter
from .writer import MapOutput, ShuffleWriter

__all__ = ["LocalCombine", "LocalCogroup", "LocalJoin"]


class _OneBucket:
    """What ``ShuffleWriter`` reads of a shuffle: here, one bucket."""

    num_partitions = 1
    partitioner = None

    def __init__(self, aggregator, name: str):
        self.aggregator, self.name = aggregator, name


class _KeepLastTable(ShuffleWriter):
    """The map side's combine, except that the last table stays in memory."""

    last_table: dict | None = None

    def _write_last(self, table, writer, out, budget, model) -> None:
        self.last_table, self._last_args = table, (writer, out, budget, model)

    def _write_sums(self, sums, writer, out, budget, model) -> None:
        self._write_last(sums.to_dict(), writer, out, budget, model)  # a table, kept as the loop's would be

    def write_last_table(self) -> None:
        """Write the kept table as an unsorted run (once something spilled)."""
        ShuffleWriter._write_last(self, self.last_table, *self._last_args)
        self.last_table = None


class LocalCombine:
    """The narrow transform ``(index, records) -> (key, combiner) pairs`` of
    a by-key operation whose input needs no shuffle.

    ``memory_limit`` (bytes), ``scratch`` (where spills go) and
    ``keep_dir`` (where large groups live while referenced) are the job's:
    the execution loop gives them with :meth:`bound` before the stage is
    shipped. Unbound, it uses the default budget and the temporary folder.

    >>> from mapfold.plan.nodes import Aggregator
    >>> import operator
    >>> add = LocalCombine(Aggregator(lambda v: v, operator.add, operator.add), "reduce_by_key")
    >>> sorted(add(0, iter([("a", 1), ("b", 2), ("a", 3)])))
    [('a', 4), ('b', 2)]
    """

    def __init__(self, aggregator, name: str, memory_limit: int | None = None, scratch: str | None = None,
                 keep_dir: str | None = None):
        self.aggregator = aggregator
        self.name = name
        self.memory_limit = memory_limit
        self.scratch = scratch
        self.keep_dir = keep_dir

    def bound(self, memory_limit: int, scratch: str, keep_dir: str) -> "LocalCombine":
        """A copy with the job's budget and folders (the plan node's stays unbound)."""
        return LocalCombine(self.aggregator, self.name, memory_limit, scratch, keep_dir)

    def __call__(self, index: int, iterator: Iterator) -> Iterator:
        limit = self.memory_limit or default_memory_limit(1)
        scratch = self.scratch or tempfile.gettempdir()
        combiner = _KeepLastTable(_OneBucket(self.aggregator, self.name), scratch, limit)
        path = os.path.join(scratch, f"combine-{index:05d}-{uuid.uuid4().hex[:8]}.runs")
        out = MapOutput()
        try:
            with RunWriter(path, limit) as runs, paused_gc():
                combiner._combine(iter(iterator), runs, out)
                if out.files:  # spilled: the last table joins the sorted runs on disk
                    combiner.write_last_table()
            if not out.files:
                yield from combiner.last_table.items()
                return
            # the map side's spills, reported as a reduce task's are (the merge counts its own)
            task = current_task()
            if task is not None:
                task.spilled(out.spilled_bytes, out.spilled_records)
            yield from _merge_bucket(out.bucket(0), self.aggregator, limit, scratch, self.keep_dir or scratch, index)
        finally:
            if os.path.exists(path):
                os.unlink(path)
            release_free_memory()


class LocalCogroup(LocalCombine):
    """A cogroup whose sides are already co-partitioned (``plan/nodes.ZipNode``):
    side-tagged ``(key, (side, value))`` records -> ``(key, (values of side 0,
    values of side 1, ...))``, one list per side.

    The records go straight into one list per side and key
    (``combine.cogroup_loop``), with no grouping of tagged pairs to split
    afterwards. That holds while the table fits the memory budget; past it
    the table becomes what :class:`LocalCombine` groups (``[(side, value),
    ...]`` per key) and that takes over, spilling and streaming a hot key
    from disk as every cogroup does; its groups leave through ``split`` (the
    Dataset layer's splitting of tagged groups into sides). Either way each
    side's values keep their order.

    >>> from mapfold.plan.nodes import Aggregator
    >>> from mapfold.shuffle import aggregators as agg
    >>> group = Aggregator(agg.to_list, agg.append, agg.extend, collects=len)
    >>> sides = LocalCogroup(group, "cogroup", 2, split=None)
    >>> sorted(sides(0, iter([("a", (0, 1)), ("b", (1, 2)), ("a", (1, 3)), ("a", (0, 4))])))
    [('a', ([1, 4], [3])), ('b', ([], [2]))]
    """

    def __init__(self, aggregator, name: str, sides: int, split: Callable | None, memory_limit: int | None = None,
                 scratch: str | None = None, keep_dir: str | None = None, tags: tuple = ()):
        super().__init__(aggregator, name, memory_limit, scratch, keep_dir)
        self.sides, self.split = sides, split
        self.tags = tags  # per side: (key, value) -> (key, (side, value)), failing on a record that is no pair

    def bound(self, memory_limit: int, scratch: str, keep_dir: str) -> "LocalCogroup":
        return LocalCogroup(self.aggregator, self.name, self.sides, self.split, memory_limit, scratch, keep_dir,
                            self.tags)

    def sides_of(self, index: int, iterators: list) -> Iterator:
        """The cogroup of one partition given as one iterator of ``(key,
        value)`` records per side (``plan.stages.ZippedInput``): the sides
        tagged and read one after the other."""
        sides = zip(self.tags, iterators, strict=True)  # a tag a side: a missing one fails, never drops a side
        return self(index, chain.from_iterable(map(tag, side) for tag, side in sides))

    def __call__(self, index: int, iterator: Iterator) -> Iterator:
        limit = self.memory_limit or default_memory_limit(1)
        loop = cogroup_loop(self.sides)
        budget = MemoryBudget(limit)
        iterator = iter(iterator)
        batches = BudgetedBatches(iterator, limit)  # the map side's batches and looks at the table (combine.py)
        table: dict = {}
        try:
            over = _fill(table, batches, loop, budget)
            if not over:
                yield from table.items()
                return
        finally:
            release_free_memory()
        # over the budget: the tagged grouping that spills takes over, from this table on
        # (``iterator`` goes on right after the last record folded in)
        tagged = _tagged(table)
        del table
        rest = LocalCombine.__call__(self, index, chain(tagged, iterator))
        split = self.split
        for key, group in rest:
            yield key, split(group)


class LocalJoin(LocalCogroup):
    """A join of two co-partitioned sides (``join``, ``left_outer_join``,
    ``right_outer_join``, ``full_outer_join``), read side by side.

    Given each side's records apart (:meth:`sides_of`), the right side's
    values go into a table by key under the memory budget, then the left
    side's records stream past it, each paired with its key's right values
    as it comes: no side-tagged records, no group of left values per key,
    no pairing step after the grouping. Out come the left records in their
    order, each with its key's right values in theirs; then, for an outer
    join keeping the right side, the right keys no left record had, in the
    order of their first record. (A cogroup would give each key's pairs
    together; for left keys that are unique, as after a by-key operation,
    that is the same order.)

    A right side past the budget turns into the cogroup that spills
    (:class:`LocalCogroup`), its groups paired by ``pairs``; so does input
    of tagged records one after the other (``__call__``: a runner that
    moved the sides through a shuffle).

    >>> from mapfold.plan.nodes import Aggregator
    >>> from mapfold.shuffle import aggregators as agg
    >>> def tag(side):
    ...     return lambda record: (record[0], (side, record[1]))
    >>> def pairs(index, groups):
    ...     return ((k, (v, w)) for k, (left, right) in groups for v in left for w in right)
    >>> group = Aggregator(agg.to_list, agg.append, agg.extend, collects=len)
    >>> join = LocalJoin(group, "join", None, (tag(0), tag(1)), pairs, keep_left=True, keep_right=False)
    >>> list(join.sides_of(0, [iter([("a", 1), ("b", 2), ("a", 3)]), iter([("a", "x"), ("c", "y")])]))
    [('a', (1, 'x')), ('b', (2, None)), ('a', (3, 'x'))]
    """

    def __init__(self, aggregator, name: str, split: Callable | None, tags: tuple, pairs: Callable,
                 keep_left: bool, keep_right: bool, memory_limit: int | None = None, scratch: str | None = None,
                 keep_dir: str | None = None):
        super().__init__(aggregator, name, 2, split, memory_limit, scratch, keep_dir, tags)
        self.pairs, self.keep_left, self.keep_right = pairs, keep_left, keep_right

    def bound(self, memory_limit: int, scratch: str, keep_dir: str) -> "LocalJoin":
        return LocalJoin(self.aggregator, self.name, self.split, self.tags, self.pairs, self.keep_left,
                         self.keep_right, memory_limit, scratch, keep_dir)

    def __call__(self, index: int, iterator: Iterator) -> Iterator:
        return self.pairs(index, LocalCogroup.__call__(self, index, iterator))

    def sides_of(self, index: int, iterators: list) -> Iterator:
        left, right = iter(iterators[0]), iter(iterators[1])
        tag_left, tag_right = self.tags
        limit = self.memory_limit or default_memory_limit(1)
        budget = MemoryBudget(limit)
        table: dict = {}
        try:
            over = _fill(table, BudgetedBatches(right, limit), _checked_append_loop(tag_right), budget)
        finally:
            release_free_memory()
        if over:  # the right side's values so far, then the rest of both sides, tagged: the cogroup that spills
            tagged = chain(_tagged_side(table, 1), map(tag_right, right), map(tag_left, left))
            del table
            yield from self(index, tagged)
            return
        get = table.get
        keep_left, matched = self.keep_left, (set() if self.keep_right else None)
        for record in left:
            if type(record) is not tuple or len(record) != 2:
                record = _pair_of(tag_left, record)
            key = record[0]
            values = get(key)
            if values is None:
                if keep_left:
                    yield key, (record[1], None)
                continue
            if matched is not None:
                matched.add(key)
            if len(values) == 1:
                yield key, (record[1], values[0])
            else:
                value = record[1]
                for other in values:
                    yield key, (value, other)
        if matched is not None:
            for key, values in table.items():
                if key not in matched:
                    for other in values:
                        yield key, (None, other)


def _fill(table: dict, batches: BudgetedBatches, loop: Callable[[dict, Iterable], None], budget: MemoryBudget) -> bool:
    """Fold ``batches`` into ``table`` with ``loop`` while the table fits
    ``budget``; True when it stopped past the budget (the rest of the
    records still in the batches' iterator)."""
    model = batches.model
    with paused_gc():  # memory.py: the table grows; no full collections over it
        for batch in batches:
            loop(table, batch)
            if batches.due and budget.over(model.collecting_table(table, batches.held)):
                return True
    return False


def _checked_append_loop(tag: Callable) -> Callable[[dict, Iterable], None]:
    """``combine._append_loop`` (a list of values per key) for a side whose
    records are checked as ``tag`` checks them, only where one is no 2-tuple."""
    def loop(table: dict, batch: Iterable) -> None:
        get = table.get
        for record in batch:
            if type(record) is not tuple or len(record) != 2:
                record = _pair_of(tag, record)
            values = get(record[0])
            if values is None:
                table[record[0]] = [record[1]]
            else:
                values.append(record[1])
    return loop


def _pair_of(tag: Callable, record) -> tuple:
    """``record`` as a ``(key, value)`` tuple, through ``tag``'s check (which
    fails naming the side on a record that is no pair)."""
    key, (_, value) = tag(record)
    return key, value


def _tagged_side(table: dict, side: int) -> Iterator:
    """A table of one side's values per key as tagged records again, emptying it as they go."""
    while table:
        key, values = table.popitem()
        for value in values:
            yield key, (side, value)


def _tagged(table: dict) -> Iterator:
    """The table's values as tagged records again, emptying it as they go."""
    while table:
        key, groups = table.popitem()
        for side, values in enumerate(groups):
            for value in values:
                yield key, (side, value)
