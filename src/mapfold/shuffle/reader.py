"""Reduce side of a shuffle: read one bucket's runs from every map task.

Without an aggregator the records of all runs are streamed as they are.

With one, the reduce task is an external merge (as PySpark's
``ExternalMerger``, with runs ordered by key hash instead of partitioned
again):

1. The *unsorted* runs (each map task's last table) are merged into one
   dict with ``merge_combiners``, batch by batch (one pickled chunk at a
   time), under the same memory model as the map side. Past the budget the
   dict is sorted by ``stable_hash(key)`` and spilled as a sorted run to the
   task's own run file.
2. If nothing is sorted anywhere (no map task and no reduce step spilled,
   the common case), the dict is the answer: ``(key, combiner)`` per key.
3. Otherwise the dict is spilled too, and all sorted runs (map-side spills
   and reduce-side spills) are k-way merged by hash (``merge.py``, in
   passes if there are many) and equal keys combined with ``==``: memory
   holds one chunk per run and the combiners of one hash. For
   ``group_by_key`` a group larger than a quarter of the budget streams to
   disk as it grows (``groups.py``), so even one key with more values than
   fit in memory finishes.

Reduce-side spills are the running task's metrics
(``core/task_context.py``). An engine that moves the buckets itself hands
the same merge memory-backed runs (``packed.py``).
"""
from __future__ import annotations

import os
import uuid
from itertools import chain
from operator import itemgetter
from typing import Iterator

from ..core.config import default_memory_limit
from ..core.task_context import current_task
from . import aggregators as agg
from .combine import merge_loop
from .float_sums import float_sums_absorb, float_sums_apply
from .groups import GroupStore
from .memory import MemoryBudget, SizeModel, paused_gc, release_free_memory
from .merge import combine_sorted, group_sorted, merge_runs
from .spill import RunWriter, Segment, column_list, read_chunks, read_records
from .writer import hashed_buckets, split_groups

__all__ = ["read_bucket"]

_second = itemgetter(1)


def read_bucket(source, aggregator) -> Iterator:
    """The records of one reduce task: ``source`` is a ShuffleInput."""
    segments = [segment for output in source.outputs for segment in output]
    if aggregator is None:
        return chain.from_iterable(map(read_records, segments))
    if len(segments) == 1 and not segments[0].sorted:
        return read_records(segments[0])  # one map task's table: keys already unique
    limit = getattr(source, "memory_limit", None) or default_memory_limit(1)
    scratch = getattr(source, "scratch", None)
    if scratch is None:
        scratch = os.path.dirname(segments[0].path) if segments else "."
    keep_dir = getattr(source, "keep_dir", None) or scratch
    return _merge_bucket(segments, aggregator, limit, scratch, keep_dir, source.partition)


def _count_spill(segment: Segment, records: int | None = None) -> None:
    task = current_task()
    if task is not None:  # the running task's metrics, folded into the job's stats
        task.spilled(segment.length, segment.records if records is None else records)


def _merge_bucket(segments: list[Segment], aggregator, limit: int, scratch: str, keep_dir: str,
                  partition: int, own_keep_dir: bool = False) -> Iterator:
    merge = aggregator.merge_combiners
    groups = merge is agg.extend
    count_values = getattr(aggregator, "collects", None)
    budget, model = MemoryBudget(limit), SizeModel()
    tag = f"{partition:05d}-{uuid.uuid4().hex[:8]}"
    writer = RunWriter(os.path.join(scratch, f"reduce-{tag}.runs"), limit)
    # big groups outlive this task (they are handed out lazily): their file goes with the last reference
    store = GroupStore(os.path.join(keep_dir, f"groups-{tag}.pkl"), limit, own_keep_dir) if groups else None
    runs = [segment for segment in segments if segment.sorted]
    try:
        with paused_gc():  # see memory.py: the table grows; no full collections over it
            table = _absorb(segments, merge_loop(merge), budget, model, count_values, writer, runs, groups,
                            float_sums_apply(aggregator))
            if runs:
                runs.extend(_spill(table, writer, budget, model, groups))
                table = None
        if table is not None:
            yield from table.items()
            return
        chunk_records = budget.chunk_records(max(model.record, 64.0))
        merged = merge_runs(runs, writer, chunk_records, None if groups else merge, on_pass=_count_spill,
                            chunk_values=budget.chunk_records(model.value + 8) if groups else None)
        if groups:
            max_values = max(16, int(budget.limit // 4 // (model.value + 8 or 64)))
            yield from group_sorted(merged, store, max_values)
        else:
            for _, key, combiner in combine_sorted(merged, merge):
                yield key, combiner
    finally:
        writer.close()
        if store is not None:  # its file stays while SpilledValues refer to it
            task = current_task()
            if store.bytes_written and task is not None:
                task.spilled(store.bytes_written, 0)
            store.close()
        if os.path.exists(writer.path):
            os.unlink(writer.path)
        release_free_memory()


def _absorb(segments, loop, budget, model, count_values, writer, runs, groups, sums_floats=False) -> dict:
    """Merge the unsorted runs into a table, spilling it when over budget."""
    table: dict = {}
    held = 0
    chunks = ((segment, chunk) for segment in segments if not segment.sorted for chunk in read_chunks(segment))
    if sums_floats:  # (int, float) columns summed in numpy while they last (float_sums.py)
        table, chunks = float_sums_absorb(chunks, budget, model)
    current = None
    for segment, chunk in chunks:
        if segment is not current:
            # A segment's keys are unique (one map task's table): while the table holds
            # nothing but this segment's entries, its chunks go in with one C-level update.
            alone = not table and segment.columnar
            current = segment
        if segment.columnar:
            keys, values = column_list(chunk[0]), column_list(chunk[1])
            if alone:
                table.update(zip(keys, values))
            else:
                loop(table, zip(keys, values))
            sample = list(zip(keys[:: max(1, len(keys) // 8)], values[:: max(1, len(keys) // 8)]))
            values_held = values
        else:
            loop(table, chunk)
            sample = chunk
            values_held = map(_second, chunk)
        model.observe(sample, count_values=count_values)  # (no user code runs here: no young garbage)
        if count_values is not None:
            held += sum(map(count_values, values_held))
            estimate = model.collecting_table(table, held)
        else:
            estimate = model.combining_table(table)
        if budget.over(estimate):
            runs.extend(_spill(table, writer, budget, model, groups))
            table, held = {}, 0
    return table


def _spill(table: dict, writer: RunWriter, budget: MemoryBudget, model: SizeModel, groups: bool) -> list[Segment]:
    if not table:
        return []
    (triples,) = hashed_buckets(table.items(), 1, None)
    records = values = None
    if groups:  # long groups in pieces, and chunks cut by values too: a merge holds one chunk per run
        records = sum(len(t[2]) for t in triples)
        values = budget.chunk_records(model.value + 8)
        triples = split_groups(triples, values)
    segment = writer.write(triples, budget.chunk_records(model.combining_table(table) / len(table)), sorted=True,
                           chunk_values=values)
    writer.flush()
    _count_spill(segment, records)
    return [segment]
