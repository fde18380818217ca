"""The shuffle's memory budget: estimating what a table holds, cheaply.

Calling ``sys.getsizeof`` on every record would cost more than the combine
loop itself, and reading the process RSS (as PySpark does) mixes in
everything else the process holds (and never goes down after a spill). So
we *model* the memory of the structures the shuffle owns and measure the
model's parameters on samples:

* Records arrive in batches (lists of up to a few thousand records, cut
  with ``islice``). After each batch we deep-size a handful of records
  spread over the batch (:func:`deep_size`, which itself samples long
  containers) and keep a moving average of key and value sizes.
* A combining table (``reduce_by_key``, ``aggregate_by_key``...) holds
  ``entries x (key + combiner)`` plus the dict's own arrays
  (``sys.getsizeof(table)``, exact and O(1)). Combiner sizes are sampled from
  the newest and the oldest entries of the table (dicts keep insertion
  order; both ends are O(1) to reach); we take the *median*, so a few
  heavy keys under skew do not swing it.
* A collecting table (``group_by_key``, ``cogroup``: each record's value is
  kept) holds ``entries x (key + empty group) + values x value size``: the
  number of values held is known exactly, so skew cannot fool it.
* A plain buffer (``partition_by``, ``repartition``, ``sort_by``) holds
  ``records x record size``.

A table spills at half the budget (:attr:`MemoryBudget.TABLE_SHARE`): the
other half is the spill's own working memory (the sorted run it builds is
about as large as the table) and the moment a dict resizes. Plain buffers
flush at 80%.

Cost: one estimate per batch, about 20 ``getsizeof`` calls, well under 1%
of the loop (measured with benchmarks/reduce_by_key.py). Sizes count the
objects' own bytes (shared objects such as small ints are counted once per
use), so estimates err high, and a table spills a little early rather than
late. Checked against ``tracemalloc`` for 400,000 ``(str, int)`` records
over 170,000 keys: within 10% for a summing table and for a grouping one. The budget covers what the shuffle holds; the interpreter, the
user's functions and the current batch come on top.

**The cyclic garbage collector** is paused while a table grows
(:func:`paused_gc`). A growing table of lists (``group_by_key``) or tuples
makes CPython run full collections over everything alive again and again;
pausing them cut the CPU time of benchmarks/reduce_by_key.py by 25%
(``reduce_by_key``) and 45% (``group_by_key``). So that cyclic garbage made
by user functions in the pipeline is still freed, the shuffle collects the
youngest generation (``gc.collect(0)``: only objects made since the last
batch, cheap) after every batch.
"""
from __future__ import annotations

import gc
from itertools import islice
from sys import getsizeof

from ..core.collector import paused_gc  # the shuffle's modules take it from here

__all__ = ["deep_size", "SizeModel", "MemoryBudget", "FIRST_BATCH", "MAX_BATCH", "paused_gc", "collect_young",
           "release_free_memory"]

FIRST_BATCH = 1024
MAX_BATCH = 8192  # records between two estimates: checking less often gained <2% (benchmarks/reduce_by_key.py)
_POINTER = 8
_SAMPLE = 8  # records (or table entries) deep-sized per estimate


def deep_size(obj, depth: int = 3) -> int:
    """Approximate bytes held by ``obj`` and what it contains.

    Containers with more than a few items are measured on a sample and
    scaled: O(1) per call whatever their length.

    >>> deep_size("abc") == __import__("sys").getsizeof("abc")
    True
    >>> 10_000 * 28 < deep_size(list(range(10_000, 20_000))) < 10_000 * 40
    True
    """
    size = getsizeof(obj)
    if depth <= 0:
        return size
    kind = type(obj)
    if kind is tuple or kind is list:
        n = len(obj)
        if n == 0:
            return size
        if n <= _SAMPLE:
            return size + sum(deep_size(x, depth - 1) for x in obj)
        step = n // _SAMPLE
        return size + n * sum(deep_size(obj[i * step], depth - 1) for i in range(_SAMPLE)) // _SAMPLE
    if kind is dict:
        n = len(obj)
        if n == 0:
            return size
        sample = list(islice(obj.items(), _SAMPLE))
        return size + n * sum(deep_size(k, depth - 1) + deep_size(v, depth - 1) for k, v in sample) // len(sample)
    if kind is set or kind is frozenset:
        n = len(obj)
        if n == 0:
            return size
        sample = list(islice(obj, _SAMPLE))
        return size + n * sum(deep_size(x, depth - 1) for x in sample) // len(sample)
    return size


class SizeModel:
    """Moving averages of key, value and record sizes, fed from batches."""

    def __init__(self):
        self.key = 0.0
        self.value = 0.0
        self.record = 0.0
        self._seen = False

    def observe(self, batch: list, pairs: bool = True, count_values=None) -> None:
        """Sample a batch of records (``(key, value)`` pairs when ``pairs``).

        With ``count_values`` the values are groups (reduce side of
        ``group_by_key``): ``value`` is then the size per grouped value.
        """
        n = len(batch)
        if n == 0:
            return
        step = max(1, n // _SAMPLE)
        sample = batch[::step][:_SAMPLE]
        record = sum(deep_size(r) for r in sample) / len(sample)
        if pairs:
            key = sum(deep_size(r[0]) for r in sample) / len(sample)
            value = sum(deep_size(r[1]) for r in sample)
            if count_values is None:
                value /= len(sample)
            else:
                value /= max(1, sum(count_values(r[1]) for r in sample))
        else:
            key = value = 0.0
        if not self._seen:
            self.key, self.value, self.record, self._seen = key, value, record, True
        else:  # exponential moving average: adapts when record shapes drift
            self.key += (key - self.key) / 4
            self.value += (value - self.value) / 4
            self.record += (record - self.record) / 4

    def batch_size(self, limit: int) -> int:
        """Records per batch (between two estimates): at most 1/16 of the
        budget can arrive unseen."""
        if self.record <= 0:
            return FIRST_BATCH
        return int(max(16, min(MAX_BATCH, limit // 16 // (self.record + _POINTER))))

    def combining_table(self, table: dict) -> float:
        n = len(table)
        if n == 0:
            return 0.0
        return getsizeof(table) + n * (self.key + _combiner_size(table, median=True))

    def collecting_table(self, table: dict, values_held: int) -> float:
        n = len(table)
        if n == 0:
            return 0.0
        # the smallest sampled group stands for an empty one (its values are counted apart)
        base = max(0.0, _combiner_size(table, median=False) - self.value)
        return getsizeof(table) + n * (self.key + base) + values_held * (self.value + _POINTER)

    def buffered(self, records: int) -> float:
        return records * (self.record + _POINTER)


def _combiner_size(table: dict, median: bool) -> float:
    values = table.values()
    sample = list(islice(values, _SAMPLE // 2)) + list(islice(reversed(values), _SAMPLE // 2))
    sizes = sorted(deep_size(v) for v in sample)
    return float(sizes[len(sizes) // 2] if median else sizes[0])


class MemoryBudget:
    """A byte limit and the chunking it implies for spill files.

    >>> MemoryBudget(64 << 20).chunk_records(100.0)
    2621
    """

    #: runs merged at once; more runs are merged in passes
    MAX_FANIN = 64

    def __init__(self, limit: int):
        if limit <= 0:
            raise ValueError(f"memory limit must be positive, not {limit}")
        self.limit = limit

    #: share of the budget a table may fill before it spills: spilling a table
    #: builds its sorted ``(hash, key, value)`` run (about the table's size
    #: again) and a growing dict briefly holds its old and new arrays
    TABLE_SHARE = 0.5
    #: share for plain buffers, which are written as they are (no sorted copy)
    BUFFER_SHARE = 0.8

    def over(self, estimate: float) -> bool:
        """Must a combining (sorting) table spill?"""
        return estimate > self.limit * self.TABLE_SHARE

    def buffer_over(self, estimate: float) -> bool:
        """Must plain record buffers be flushed?"""
        return estimate > self.limit * self.BUFFER_SHARE

    @property
    def chunk_bytes(self) -> int:
        # a merge holds one chunk per run: MAX_FANIN chunks stay within limit / 4
        return int(min(1 << 20, max(16 << 10, self.limit // (4 * self.MAX_FANIN))))

    def chunk_records(self, record_size: float) -> int:
        """Records per pickled chunk of a spill run, from their in-memory size."""
        return int(max(16, min(100_000, self.chunk_bytes // max(1.0, record_size))))


#: young container objects (net of frees) past which a batch ends with a young collection
YOUNG_LIMIT = 100_000


def collect_young() -> None:
    """Free cyclic garbage made since the last young collection, once there is
    enough of it: a collection walks every young object still alive (a block
    of records being read, say), so collecting after every batch cost 5% of a
    ``reduce_by_key`` over pairs read in blocks (benchmarks/reduce_by_key.py)."""
    if gc.get_count()[0] > YOUNG_LIMIT:
        gc.collect(0)


def release_free_memory() -> None:
    """Hand memory the shuffle freed back to the system, at the end of a task.

    A spilled table is freed, but glibc's malloc and Arrow's pool keep the
    pages for reuse, so a worker's resident size only ever grows, and the
    next task (or the next job) starts high. ``malloc_trim(0)`` (as Dask's
    worker memory trimming does) and ``release_unused()`` give them back; both
    take about a millisecond.

    >>> release_free_memory()  # nothing to see: the resident size goes down
    """
    import sys

    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):  # not glibc (musl): nothing to trim
            pass
    pyarrow = sys.modules.get("pyarrow")
    if pyarrow is not None:
        try:
            pyarrow.default_memory_pool().release_unused()
        except AttributeError:  # pyarrow before 13
            pass
