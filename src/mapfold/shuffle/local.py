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

from ..core.config import default_memory_limit
from ..core.task_context import current_task
from .memory import paused_gc, release_free_memory
from .reader import _merge_bucket
from .spill import RunWriter
from .writer import MapOutput, ShuffleWriter

__all__ = ["LocalCombine"]


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
