"""External sort: the records of a ``sort_by`` partition, sorted within a memory budget.

A reduce task of ``sort_by`` receives ``(sort key, record)`` pairs of one
key range. They are buffered under the shuffle's memory model
(``memory.py``: sampled record sizes, no ``getsizeof`` per record); past the
budget the buffer is sorted and written as a sorted run (``spill.py``), and
at the end the runs and the last buffer are k-way merged with
``heapq.merge`` (``merge.py``, in passes past 64 runs). Memory holds one
buffer, or one chunk per run while merging. A partition that fits is sorted
in memory and never touches the disk.

The sort is stable, as ``sorted`` is: runs are cut in arrival order and
merged so that ties come from earlier runs first. Spilled bytes and
records are counted in the running task's metrics, as the reduce side's
other spills.

The budget and the folder come from the running task
(``core/task_context.py``): the runner's ``memory_limit`` on every runner,
and the job's folder where it exists on this machine (else a private
temporary folder, removed after the sort).
"""
from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from itertools import islice
from operator import itemgetter
from typing import Iterable, Iterator

from ..core.config import default_memory_limit
from ..core.task_context import current_task
from .memory import FIRST_BATCH, MemoryBudget, SizeModel, collect_young, paused_gc
from .merge import merge_runs
from .spill import RunWriter, read_records

__all__ = ["external_sorted"]

_first = itemgetter(0)
def external_sorted(pairs: Iterable[tuple], reverse: bool = False, memory_limit: int | None = None,
                    scratch: str | None = None) -> Iterator[tuple]:
    """``(key, record)`` pairs sorted by key (stable), spilling sorted runs past the budget.

    >>> list(external_sorted([(2, "b"), (1, "a"), (2, "c")], memory_limit=1 << 20))
    [(1, 'a'), (2, 'b'), (2, 'c')]
    >>> import random; xs = [(random.random(), i) for i in range(20000)]
    >>> list(external_sorted(xs, reverse=True, memory_limit=64 << 10)) == sorted(xs, key=lambda p: p[0], reverse=True)
    True
    """
    task = current_task()
    if memory_limit is None:
        memory_limit = (task.memory_limit if task else None) or default_memory_limit(1)
    if scratch is None and task is not None and task.scratch and os.path.isdir(task.scratch):
        scratch = task.scratch
    budget, model = MemoryBudget(memory_limit), SizeModel()
    own_folder = scratch is None
    folder = tempfile.mkdtemp(prefix="mapfold-sort-") if own_folder else scratch
    writer = RunWriter(os.path.join(folder, f"sort-{uuid.uuid4().hex[:12]}.runs"), memory_limit)
    runs = []
    buffer: list = []
    iterator = iter(pairs)
    size = FIRST_BATCH

    def write_run(records: list) -> None:  # already sorted
        run = writer.write(records, budget.chunk_records(model.record + 8), sorted=True)
        writer.flush()
        runs.append(run)
        if task is not None:
            task.spilled(run.length, run.records)

    try:
        with paused_gc():  # the buffer grows: no full collections over it (memory.py)
            while True:
                batch = list(islice(iterator, size))
                if not batch:
                    break
                buffer += batch
                model.observe(batch, pairs=False)
                collect_young()
                if budget.buffer_over(model.buffered(len(buffer))):
                    buffer.sort(key=_first, reverse=reverse)
                    write_run(buffer)
                    buffer = []
                size = model.batch_size(budget.limit)
            buffer.sort(key=_first, reverse=reverse)
        if not runs:
            yield from buffer
            return
        if buffer:
            write_run(buffer)
            buffer = []
        yield from merge_runs(runs, writer, budget.chunk_records(model.record + 8), reverse=reverse)
    finally:
        writer.close()
        if os.path.exists(writer.path):
            os.unlink(writer.path)
        if own_folder:
            shutil.rmtree(folder, ignore_errors=True)
