"""Map side of a shuffle: route records to buckets, combine, spill, write.

Each map task writes one append-only run file (``spill.py``) under the
job's private shuffle folder and returns a :class:`MapOutput` listing, per
bucket, the runs (segments) a reduce task must read.

With an aggregator (``reduce_by_key``, ``combine_by_key``,
``group_by_key``...) records are folded into **one** dict for the whole
task, in batches, by the loops of ``combine.py``: per record that is a
dict lookup and a merge, nothing else; the bucket of a key is computed once
per distinct key, when the table is written. After each batch the memory
model (``memory.py``) estimates the table; past the budget the table
**spills**: its entries get their ``stable_hash``, are cut into buckets,
sorted by hash within each bucket and appended to the run file as one
sorted run per bucket; the task goes on with an empty table. At the end the
last table is written unsorted (the reduce side puts unsorted runs into a
dict, so sorting them would be wasted). A task that never spills writes
each bucket once, with no sort.

Without an aggregator (``partition_by``, ``repartition``, ``sort_by``)
records are appended to per-bucket lists, flushed to the run file when the
budget is reached (counted as spilled) and at the end.
"""
from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from itertools import islice
from operator import itemgetter
from typing import Iterator

from ..core.config import default_memory_limit
from ..core.hashing import stable_hash
from . import aggregators as agg
from .combine import combine_loop
from .memory import FIRST_BATCH, MemoryBudget, SizeModel, collect_young, paused_gc
from .partitioner import HashPartitioner
from .spill import RunWriter, Segment

__all__ = ["ShuffleWriter", "MapOutput", "hashed_buckets"]

_by_hash = itemgetter(0)
_END = object()


@dataclass
class MapOutput:
    files: dict = field(default_factory=dict)  # bucket -> [Segment, ...]
    records: int = 0  # records read (combining: up to the last batch, which is not counted)
    spilled_bytes: int = 0
    spilled_records: int = 0
    spills: int = 0

    def bucket(self, index: int) -> list[Segment]:
        return self.files.get(index, [])

    def add(self, bucket: int, segment: Segment) -> None:
        self.files.setdefault(bucket, []).append(segment)


def hashed_buckets(items, buckets: int, partitioner) -> list[list]:
    """``(hash, key, value)`` triples of ``(key, value)`` items, per bucket,
    each bucket sorted by hash (what a spill writes)."""
    parts: list[list] = [[] for _ in range(buckets)]
    appends = [part.append for part in parts]
    if buckets == 1:
        append = appends[0]
        for key, value in items:
            append((stable_hash(key), key, value))
    elif type(partitioner) is HashPartitioner:
        for key, value in items:
            h = stable_hash(key)
            appends[h % buckets]((h, key, value))
    else:
        for key, value in items:
            appends[partitioner(key)]((stable_hash(key), key, value))
    for part in parts:
        part.sort(key=_by_hash)
    return parts


def split_groups(triples: list, max_values: int) -> Iterator:
    """Cut ``(h, key, values)`` triples with long value lists into pieces of
    ``max_values``, so one group never makes one huge pickled chunk."""
    for h, key, values in triples:
        if len(values) <= max_values:
            yield h, key, values
        else:
            for start in range(0, len(values), max_values):
                yield h, key, values[start:start + max_values]


class ShuffleWriter:
    """The finisher of a map stage: ``(partition, records) -> MapOutput``."""

    def __init__(self, shuffle, directory: str, memory_limit: int | None = None):
        self.buckets = shuffle.num_partitions
        self.partitioner = shuffle.partitioner
        self.aggregator = shuffle.aggregator
        self.directory = directory
        self.memory_limit = memory_limit or default_memory_limit(1)

    def __call__(self, partition: int, iterator: Iterator) -> MapOutput:
        path = os.path.join(self.directory, f"map-{partition:05d}-{uuid.uuid4().hex[:8]}.runs")
        out = MapOutput()
        with RunWriter(path) as writer, paused_gc():
            if self.aggregator is not None:
                self._combine(iter(iterator), writer, out)
            else:
                self._buffer(iter(iterator), writer, out)
        return out

    # -- combining ------------------------------------------------------
    def _combine(self, iterator: Iterator, writer: RunWriter, out: MapOutput) -> None:
        aggregator = self.aggregator
        loop = combine_loop(aggregator.create, aggregator.merge_value)
        collects = getattr(aggregator, "collects", None) is not None
        budget, model = MemoryBudget(self.memory_limit), SizeModel()
        table: dict = {}
        held = 0  # records folded into the current table
        size = FIRST_BATCH
        samples: list = []
        while True:
            # The loop pulls `size` records straight through the pipeline (islice, no
            # list: each record tuple is freed at once, which keeps allocation cheap);
            # then one record is peeked to learn whether the input goes on, and kept
            # as a sample for the memory model.
            loop(table, islice(iterator, size))
            record = next(iterator, _END)
            if record is _END:
                break
            loop(table, (record,))
            held += size + 1
            out.records += size + 1
            samples.append(record)
            if len(samples) > 8:
                del samples[0]
            model.observe(samples)
            collect_young()
            estimate = model.collecting_table(table, held) if collects else model.combining_table(table)
            if budget.over(estimate):
                self._spill(table, writer, out, budget, model, estimate / max(1, len(table)))
                table, held = {}, 0
            size = model.batch_size(budget.limit)
        self._write_last(table, writer, out, budget, model)

    def _spill(self, table: dict, writer: RunWriter, out: MapOutput, budget: MemoryBudget, model: SizeModel,
               entry_size: float) -> None:
        chunk = budget.chunk_records(entry_size)
        groups = self.aggregator.merge_combiners is agg.extend
        for bucket, triples in enumerate(hashed_buckets(table.items(), self.buckets, self.partitioner)):
            if not triples:
                continue
            if groups:  # long groups go in pieces of about one chunk's worth of values
                triples = list(split_groups(triples, budget.chunk_records(model.value + 8)))
            segment = writer.write(triples, chunk, sorted=True)
            out.add(bucket, segment)
            # records: values for groups (each record's value is kept), else table entries
            out.spilled_records += sum(len(t[2]) for t in triples) if groups else segment.records
            out.spilled_bytes += segment.length
        out.spills += 1
        writer.flush()

    def _write_last(self, table: dict, writer: RunWriter, out: MapOutput, budget: MemoryBudget,
                    model: SizeModel) -> None:
        if not table:
            return
        chunk = budget.chunk_records(model.combining_table(table) / len(table))
        n, partitioner = self.buckets, self.partitioner
        if n == 1:
            parts = [list(table.items())]
        else:
            parts = [[] for _ in range(n)]
            appends = [part.append for part in parts]
            if type(partitioner) is HashPartitioner:
                for item in table.items():
                    appends[stable_hash(item[0]) % n](item)
            else:
                for item in table.items():
                    appends[partitioner(item[0])](item)
        for bucket, items in enumerate(parts):
            if items:
                out.add(bucket, writer.write(items, chunk))

    # -- no combining ---------------------------------------------------
    def _buffer(self, iterator: Iterator, writer: RunWriter, out: MapOutput) -> None:
        n, partitioner = self.buckets, self.partitioner
        budget, model = MemoryBudget(self.memory_limit), SizeModel()
        parts: list[list] = [[] for _ in range(n)]
        held = 0
        size = FIRST_BATCH
        hashed = type(partitioner) is HashPartitioner
        while True:
            batch = list(islice(iterator, size))
            if not batch:
                break
            if n == 1:
                parts[0].extend(batch)
            else:
                appends = [part.append for part in parts]
                if hashed:
                    for record in batch:
                        appends[stable_hash(record[0]) % n](record)
                else:
                    for record in batch:
                        appends[partitioner(record[0])](record)
            out.records += len(batch)
            held += len(batch)
            model.observe(batch)
            collect_young()
            if budget.buffer_over(model.buffered(held)):
                written = self._flush(parts, writer, out, budget, model)
                out.spilled_records += held
                out.spilled_bytes += written
                out.spills += 1
                parts, held = [[] for _ in range(n)], 0
            size = model.batch_size(budget.limit)
        self._flush(parts, writer, out, budget, model)

    def _flush(self, parts: list, writer: RunWriter, out: MapOutput, budget: MemoryBudget, model: SizeModel) -> int:
        chunk = budget.chunk_records(model.record + 8)
        written = 0
        for bucket, records in enumerate(parts):
            if records:
                segment = writer.write(records, chunk)
                out.add(bucket, segment)
                written += segment.length
        writer.flush()
        return written
