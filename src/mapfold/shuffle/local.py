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
from typing import Iterator

from itertools import chain
from typing import Callable

from ..core.config import default_memory_limit
from ..core.task_context import current_task
from .combine import BudgetedBatches, cogroup_loop
from .memory import MemoryBudget, paused_gc, release_free_memory
from .reader import _merge_bucket
from .spill import RunWriter
from .writer import MapOutput, ShuffleWriter

__all__ = ["LocalCombine", "LocalCogroup"]


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
                 scratch: str | None = None, keep_dir: str | None = None):
        super().__init__(aggregator, name, memory_limit, scratch, keep_dir)
        self.sides, self.split = sides, split

    def bound(self, memory_limit: int, scratch: str, keep_dir: str) -> "LocalCogroup":
        return LocalCogroup(self.aggregator, self.name, self.sides, self.split, memory_limit, scratch, keep_dir)

    def __call__(self, index: int, iterator: Iterator) -> Iterator:
        limit = self.memory_limit or default_memory_limit(1)
        loop = cogroup_loop(self.sides)
        budget = MemoryBudget(limit)
        iterator = iter(iterator)
        batches = BudgetedBatches(iterator, limit)  # the map side's batches and looks at the table (combine.py)
        model = batches.model
        table: dict = {}
        over = False
        try:
            with paused_gc():
                for batch in batches:
                    loop(table, batch)
                    if batches.due and budget.over(model.collecting_table(table, batches.held)):
                        over = True
                        break
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


def _tagged(table: dict) -> Iterator:
    """The table's values as tagged records again, emptying it as they go."""
    while table:
        key, groups = table.popitem()
        for side, values in enumerate(groups):
            for value in values:
                yield key, (side, value)
