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

The budget is the running task's (``memory_limit``), and what spilled is
reported as the task's metrics. The same writer serves every runner: an
engine that moves the buckets itself has the run file packed into bytes
afterwards (``packed.py``).
"""
from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from itertools import chain, islice
from operator import itemgetter
from typing import Iterator

import xxhash

from ..core.config import default_memory_limit
from ..core.hashing import int64_array_buckets, int_bucket_positions, stable_hash
from ..core.task_context import current_task
from . import aggregators as agg
from .columnar import ColumnSum, pairs_of, sums_int_columns
from .combine import BudgetedBatches, combine_loop
from .float_sums import FloatSums, float_sums_apply, float_sums_run
from .memory import FIRST_BATCH, MemoryBudget, SizeModel, collect_young, paused_gc, release_free_memory
from .partitioner import HashPartitioner
from .records import add_pairs_note, checked_pairs
from .spill import RunWriter, Segment

__all__ = ["ShuffleWriter", "MapOutput", "hashed_buckets", "bucket_columns", "column_views"]

_by_hash = itemgetter(0)


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


def bucket_columns(all_keys: list, all_values: list, buckets: int, partitioner) -> list[tuple[list, list]]:
    """Unique keys and their values cut into buckets, as ``(keys, values)`` per bucket.

    The hot loop of a map task's end (one pass per distinct key): int keys
    are hashed and grouped by bucket in Arrow, all at once, and each bucket's
    keys and values gathered in C (``core.hashing.int_bucket_positions``); str
    keys, the common case, are hashed inline rather than through
    ``stable_hash``.

    >>> bucket_columns(["a", "b"], [1, 2], 1, None)
    [(['a', 'b'], [1, 2])]
    """
    if buckets == 1:
        return [(all_keys, all_values)]
    keys: list[list] = [[] for _ in range(buckets)]
    values: list[list] = [[] for _ in range(buckets)]
    key_appends = [part.append for part in keys]
    value_appends = [part.append for part in values]
    if type(partitioner) is HashPartitioner:
        positions = int_bucket_positions(all_keys, buckets)  # int keys: hashed and grouped in Arrow
        if positions is not None:
            return [_gathered(all_keys, all_values, where) for where in positions]
        xxh64, str_ = xxhash.xxh64_intdigest, str
        for key, value in zip(all_keys, all_values):
            if type(key) is str_:  # = stable_hash(key), without the call
                bucket = xxh64(key.encode("utf-8", "surrogatepass")) % buckets
            else:
                bucket = stable_hash(key) % buckets
            key_appends[bucket](key)
            value_appends[bucket](value)
    else:
        for key, value in zip(all_keys, all_values):
            bucket = partitioner(key)
            key_appends[bucket](key)
            value_appends[bucket](value)
    return list(zip(keys, values))


def _gathered(keys: list, values: list, positions: list[int]) -> tuple[list, list]:
    """``keys[i]`` and ``values[i]`` for ``i`` in ``positions``, gathered in C."""
    if len(positions) > 1:
        pick = itemgetter(*positions)
        return list(pick(keys)), list(pick(values))
    return [keys[i] for i in positions], [values[i] for i in positions]


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
        self.name = getattr(shuffle, "name", "shuffle")

    def __call__(self, partition: int, iterator: Iterator) -> MapOutput:
        path = os.path.join(self.directory, f"map-{partition:05d}-{uuid.uuid4().hex[:8]}.runs")
        out = MapOutput()
        try:
            with RunWriter(path, self.memory_limit) as writer, paused_gc():
                records = checked_pairs(iterator, self.name)
                if self.aggregator is not None:
                    self._combine(records, writer, out)
                else:
                    self._buffer(records, writer, out)
        except (TypeError, ValueError) as exc:
            add_pairs_note(exc, self.name)
            raise
        finally:
            release_free_memory()
        _report_spills(out)
        return out

    # -- columns ----------------------------------------------------------
    @property
    def takes_views(self) -> dict:
        """The input views this finisher consumes itself: ``{view: (method,
        what explain() says)}`` (``plan/rewrites.py``). Plain sums take
        ``(keys, values)`` blocks (``consume_columns``)."""
        return column_views(self.aggregator)

    def consume_columns(self, partition: int, blocks: Iterator[tuple]) -> MapOutput:
        """Like ``__call__``, from column blocks: sums int64 blocks in Arrow
        (``columnar.py``) and falls back to the record loop for blocks Arrow
        cannot sum exactly.

        Partial sums past their share of the budget are *flushed*: written as
        unsorted runs, as a task's last table is, and the task goes on with
        empty sums. A key may then appear in several runs of one task; the
        reduce side merges unsorted runs anyway (``reader.py``), so no sort
        and no hashing for order is needed here, and memory holds the Arrow
        sums plus, while they are written, their Python copy.
        """
        path = os.path.join(self.directory, f"map-{partition:05d}-{uuid.uuid4().hex[:8]}.runs")
        out = MapOutput()
        budget = MemoryBudget(self.memory_limit)
        # Arrow holds ~25 bytes a sum, but summing them again (Acero's hash aggregation)
        # peaks at ~7x the bytes summed: 1/16 of the table share keeps that under half of it
        share = int(budget.limit * budget.TABLE_SHARE / 16)
        sums = ColumnSum(compact_bytes=share)
        blocks = iter(blocks)
        rest = None
        with RunWriter(path, self.memory_limit) as writer, paused_gc():
            for keys, values in blocks:
                if not sums.add(keys, values):
                    rest = chain([(keys, values)], blocks)
                    break
                if sums.nbytes > share:  # still, after summing the partial sums again
                    out.records += sums.records
                    written, entries = self._flush_sums(sums, writer, out, budget)
                    out.spilled_bytes += written
                    out.spilled_records += entries
                    out.spills += 1
            out.records += sums.records
            if rest is None:
                self._flush_sums(sums, writer, out, budget)
            else:
                self._combine(pairs_of(rest), writer, out, sums.to_dict())
        del sums
        release_free_memory()
        _report_spills(out)
        return out

    def _flush_sums(self, sums: ColumnSum, writer: RunWriter, out: MapOutput, budget: MemoryBudget) -> tuple[int, int]:
        """Write the sums as unsorted columnar runs; (bytes, entries).

        All at once: the share keeps them small enough as Python objects (~5x
        Arrow's bytes), and one run per bucket lets the reduce side load the
        first with one ``dict.update`` (``reader.py``)."""
        written = entries = 0
        for keys, values in sums.slices(None):
            model = SizeModel()
            model.observe(list(zip(keys[:8], values[:8])))
            segments = self._write_columns(keys, values, writer, out, budget.chunk_records(model.key + model.value + 16))
            written += sum(segment.length for segment in segments)
            entries += len(keys)
        writer.flush()
        return written, entries

    # -- combining ------------------------------------------------------
    def _combine(self, iterator: Iterator, writer: RunWriter, out: MapOutput, table: dict | None = None) -> None:
        aggregator = self.aggregator
        loop = combine_loop(aggregator.create, aggregator.merge_value)
        collects = getattr(aggregator, "collects", None) is not None
        budget = MemoryBudget(self.memory_limit)
        model = SizeModel()
        if table is None and float_sums_apply(aggregator):  # (int, float) pairs summed in numpy (float_sums.py)
            sums, rest = float_sums_run(iterator, budget, model)
            out.records += sums.records
            if rest is None:  # all summed: written from the columns, no dict in between
                self._write_sums(sums, writer, out, budget, model)
                return
            table, iterator = sums.to_dict(), rest
        batches = BudgetedBatches(iterator, budget.limit, model)  # see combine.py: batches, then a look at the table
        table = {} if table is None else table
        for batch in batches:
            loop(table, batch)
            if batches.due:
                estimate = model.collecting_table(table, batches.held) if collects else model.combining_table(table)
                if budget.over(estimate):
                    self._spill(table, writer, out, budget, model, estimate / max(1, len(table)))
                    table, batches.held = {}, 0
        out.records += batches.records
        self._write_last(table, writer, out, budget, model)

    def _spill(self, table: dict, writer: RunWriter, out: MapOutput, budget: MemoryBudget, model: SizeModel,
               entry_size: float) -> None:
        chunk = budget.chunk_records(entry_size)
        groups = self.aggregator.merge_combiners is agg.extend
        for bucket, triples in enumerate(hashed_buckets(table.items(), self.buckets, self.partitioner)):
            if not triples:
                continue
            values = None
            if groups:  # long groups go in pieces of about one chunk's worth of values, a chunk's worth a chunk
                values = budget.chunk_records(model.value + 8)
                triples = list(split_groups(triples, values))
            segment = writer.write(triples, chunk, sorted=True, chunk_values=values)
            out.add(bucket, segment)
            # records: values for groups (each record's value is kept), else table entries
            out.spilled_records += sum(len(t[2]) for t in triples) if groups else segment.records
            out.spilled_bytes += segment.length
        out.spills += 1
        writer.flush()

    def _write_last(self, table: dict, writer: RunWriter, out: MapOutput, budget: MemoryBudget,
                    model: SizeModel) -> None:
        if table:
            chunk = budget.chunk_records(model.combining_table(table) / len(table))
            self._write_columns(list(table), list(table.values()), writer, out, chunk)

    def _write_sums(self, sums: FloatSums, writer: RunWriter, out: MapOutput, budget: MemoryBudget,
                    model: SizeModel) -> None:
        """Write numpy float sums by int key as unsorted columnar runs, hash
        bucketed in numpy: the same buckets, and within each the same key
        order, as the dict the loop would have built (``_write_last``)."""
        keys, values = sums.take_columns()
        if not len(keys):
            return
        chunk = budget.chunk_records(model.key + model.value + 16)
        if self.buckets == 1:
            out.add(0, writer.write_columns(keys, values, chunk))
            return
        if type(self.partitioner) is not HashPartitioner:  # the user's partitioner takes Python keys
            self._write_columns(keys.tolist(), values.tolist(), writer, out, chunk)
            return
        np = sums.numpy
        where = int64_array_buckets(keys, self.buckets)
        order = np.argsort(where, kind="stable")  # stable: each bucket keeps the keys' order
        ends = np.cumsum(np.bincount(where, minlength=self.buckets)).tolist()
        keys, values = keys[order], values[order]
        for bucket, (start, end) in enumerate(zip([0] + ends, ends)):
            if end > start:
                out.add(bucket, writer.write_columns(keys[start:end], values[start:end], chunk))

    def _write_columns(self, keys: list, values: list, writer: RunWriter, out: MapOutput, chunk: int) -> list[Segment]:
        segments = []
        for bucket, (keys, values) in enumerate(bucket_columns(keys, values, self.buckets, self.partitioner)):
            if keys:
                segments.append(writer.write_columns(keys, values, chunk))
                out.add(bucket, segments[-1])
        return segments

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


def column_views(aggregator) -> dict:
    """What a map side combining with ``aggregator`` takes as column blocks.

    >>> import operator
    >>> from mapfold.plan.nodes import Aggregator
    >>> list(column_views(Aggregator(None, operator.add, operator.add)))
    ['key_value_columns']
    >>> column_views(None)
    {}
    """
    if not (sums_int_columns(aggregator) and _has_arrow()):
        return {}
    return {"key_value_columns": ("consume_columns", "reduce_by_key(operator.add) → Arrow column sums")}


def _report_spills(out: MapOutput) -> None:
    """A map task's spills and the entries it wrote into the buckets are its
    metrics (``core/task_context.py``), on every runner."""
    task = current_task()
    if task is None:
        return
    if out.spills:
        task.spilled(out.spilled_bytes, out.spilled_records)
    task.wrote(sum(segment.records for segments in out.files.values() for segment in segments))


def _has_arrow() -> bool:
    import importlib.util

    return importlib.util.find_spec("pyarrow") is not None
