"""Float sums by int key in numpy: ``reduce_by_key(operator.add)`` over Python pairs.

A graph's shares per node (PageRank), weights per id: records made one at a
time by user code, ``(int, float)`` each, summed per key. The dict loop
(``combine._add_loop``) pays a lookup and a store per record, and on a table
of every key of a partition most lookups miss the cache. Here a batch of
pairs becomes two numpy columns (``zip(*batch)`` and ``np.array``: C loops),
and the sums are taken at once: ``np.unique`` numbers the keys,
``np.bincount`` adds the values.

Exactness is kept, not assumed: the answer is bit for bit the dict loop's.

* ``np.bincount`` adds each value to its key's sum in record order, one
  IEEE double addition at a time, as ``old + value`` does; a sum starts at
  ``0.0``, and ``0.0 + v == v`` for every float but ``-0.0`` (so a batch
  holding a ``-0.0`` leaves the path).
* The keys come out in the order of their first record (``np.unique``'s
  first indices, sorted), the dict's insertion order; the next batch adds
  to those sums in that order.
* Only exact ``int`` keys within int64 and exact ``float`` values take this
  path (``True`` or ``1.0`` keys, int values, anything else: the dict loop).

Leaving the path (a batch that does not qualify, or sums past their share
of the memory budget) turns the sums into the dict the loop would have
built by then, and the loop goes on from there, spills included.

numpy is optional (the ``numeric`` extra); without it the dict loop runs.
"""
from __future__ import annotations

from itertools import chain, islice
from operator import itemgetter
from typing import Iterator

from .columnar import sums_int_columns
from .memory import FIRST_BATCH, MemoryBudget, SizeModel, collect_young
from .spill import column_list

__all__ = ["FloatSums", "float_sums_apply", "float_sums_run", "float_sums_absorb"]

_INT, _FLOAT, _PAIR = {int}, {float}, {2}
_first, _second = itemgetter(0), itemgetter(1)
_COLUMN_BYTES = 16  # a key and a value
_WORKING = 6  # np.unique's sort, inverse and copies: about this many times the columns at a compaction
_ENTRY_BYTES = 100  # one key and sum as Python objects in the dict handed out at the end
_MAX_BATCH = 1 << 16


def _numpy():
    try:
        import numpy
    except ImportError:
        return None
    return numpy


def float_sums_apply(aggregator) -> bool:
    """Does a shuffle combining with ``aggregator`` try numpy float sums
    (a plain sum, and numpy importable)?

    >>> import operator
    >>> from mapfold.plan.nodes import Aggregator
    >>> float_sums_apply(Aggregator(None, operator.add, operator.add)) == (_numpy() is not None)
    True
    >>> float_sums_apply(Aggregator(None, max, max))
    False
    """
    return sums_int_columns(aggregator) and _numpy() is not None


class FloatSums:
    """Sums of float values by int key, in numpy columns, in first-record order.

    >>> sums = FloatSums()
    >>> sums.add_pairs([(3, 0.5), (1, 0.25), (3, 0.125)])
    True
    >>> sums.add_pairs([(1, 2.0), ("a", 1.0)])  # a str key: nothing added
    False
    >>> sums.to_dict()
    {3: 0.625, 1: 0.25}
    """

    def __init__(self) -> None:
        self._np = _numpy()
        self._keys: list = []  # int64 arrays; the first, after a compaction, holds the sums so far
        self._values: list = []
        self._held = 0  # rows in the arrays
        self._distinct = 0  # rows of the first array after the last compaction
        self.records = 0

    def add_pairs(self, batch: list) -> bool:
        """Add ``(key, value)`` records; False (and nothing added) unless every
        one is an ``(int, float)`` pair this path sums exactly."""
        if not batch:
            return True
        try:
            if set(map(len, batch)) != _PAIR:
                return False
        except TypeError:  # a record without a length: the loop says what is wrong with it
            return False
        return self.add_columns(list(map(_first, batch)), list(map(_second, batch)))

    def add_columns(self, keys, values) -> bool:
        """Add a column of keys and one of values (lists of equal length, or the
        int64 and float64 arrays a map side's sums travel as); False (and
        nothing added) unless they are int keys and float values summed exactly here."""
        if not len(keys):
            return True
        np = self._np
        if type(keys) is np.ndarray:
            if keys.dtype != np.int64 or type(values) is not np.ndarray or values.dtype != np.float64:
                return False
            key_column, value_column = keys, values
        else:
            if type(keys[0]) is not int or set(map(type, keys)) != _INT or set(map(type, values)) != _FLOAT:
                return False
            try:
                key_column = np.fromiter(keys, np.int64, len(keys))
            except OverflowError:  # an int past int64
                return False
            value_column = np.fromiter(values, np.float64, len(values))
        zeros = value_column == 0.0
        if zeros.any() and np.signbit(value_column[zeros]).any():  # -0.0: 0.0 + -0.0 is 0.0
            return False
        self._keys.append(key_column)
        self._values.append(value_column)
        self._held += len(key_column)
        self.records += len(key_column)
        if self._held > max(2 * self._distinct, 1 << 20):  # the work stays linear: compact when doubled
            self._compact()
        return True

    @property
    def numpy(self):
        """The numpy module the sums are held in."""
        return self._np

    def nbytes(self) -> int:
        """What the sums may need at their next compaction, and as Python objects after it."""
        return self._held * _COLUMN_BYTES * _WORKING + self._distinct * _ENTRY_BYTES

    def over(self, budget: MemoryBudget) -> bool:
        """Must the sums leave numpy for the dict loop, which spills?"""
        return budget.over(self.nbytes())

    def _compact(self) -> None:
        if len(self._keys) > 1 or self._held > self._distinct:
            np = self._np
            keys = np.concatenate(self._keys) if len(self._keys) > 1 else self._keys[0]
            values = np.concatenate(self._values) if len(self._values) > 1 else self._values[0]
            unique, sums = _sums_in_first_order(np, keys, values)
            self._keys, self._values = [unique], [sums]
            self._held = self._distinct = len(unique)

    def to_dict(self) -> dict:
        """The sums as ``{key: sum}`` in first-record order; the sums start again, empty."""
        keys, values = self.take_columns()
        return dict(zip(keys.tolist(), values.tolist()))

    def take_columns(self) -> tuple:
        """The distinct keys (int64) and their sums (float64) as numpy
        columns, in first-record order; the sums start again, empty.

        >>> sums = FloatSums()
        >>> sums.add_pairs([(3, 0.5), (1, 0.25), (3, 0.125)])
        True
        >>> [column.tolist() for column in sums.take_columns()]
        [[3, 1], [0.625, 0.25]]
        """
        np = self._np
        if not self._keys:
            return np.empty(0, np.int64), np.empty(0, np.float64)
        self._compact()
        (keys,), (values,) = self._keys, self._values
        self._keys, self._values, self._held, self._distinct = [], [], 0, 0
        return keys, values


def _sums_in_first_order(np, keys, values) -> tuple:
    """The distinct ``keys`` in the order of their first row, and each one's
    sum of ``values`` added in row order (``np.bincount``: one ``+=`` per row)."""
    n = len(keys)
    rows = np.arange(n)
    low, high = int(keys.min()), int(keys.max())
    if high - low < 4 * n + 1024:  # dense ids (node numbers): a slot per possible key
        slots = keys - low
        sums = np.bincount(slots, weights=values, minlength=high - low + 1)
        first = np.full(high - low + 1, n, dtype=np.int64)
        np.minimum.at(first, slots, rows)
        # the rows that are their key's first are in row order already: no sort by first row
        order = slots[first[slots] == rows]
        return order + low, sums[order]
    order = np.argsort(keys)  # sparse keys: numbered by sorting
    ordered = keys[order]
    starts = np.empty(n, dtype=bool)
    starts[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=starts[1:])
    group = np.empty(n, dtype=np.int64)
    group[order] = np.cumsum(starts) - 1
    starts = np.flatnonzero(starts)
    sums = np.bincount(group, weights=values, minlength=len(starts))
    by_first = np.argsort(np.minimum.reduceat(order, starts))
    return ordered[starts][by_first], sums[by_first]


def float_sums_run(iterator: Iterator, budget: MemoryBudget, model: SizeModel) -> tuple[FloatSums, Iterator | None]:
    """A map task's records summed in numpy while they qualify: ``(sums,
    rest)``, where ``rest`` is ``None`` when every record was summed (the
    caller may take the sums as columns), else the records from the first
    one not summed (the sums are then what the loop goes on from).

    ``model`` is fed a sample, as the loop's batches would feed it.

    >>> sums, rest = float_sums_run(iter([(1, 0.5), (2, 1.0), (1, 0.5)]), MemoryBudget(1 << 20), SizeModel())
    >>> rest is None, sums.to_dict(), sums.records
    (True, {1: 1.0, 2: 1.0}, 3)
    >>> sums, rest = float_sums_run(iter([(1, 0.5), ("x", 1.0)]), MemoryBudget(1 << 20), SizeModel())
    >>> sums.to_dict(), list(rest), sums.records
    ({}, [(1, 0.5), ('x', 1.0)], 0)
    """
    sums = FloatSums()
    iterator = iter(iterator)
    size = FIRST_BATCH
    while True:
        batch = list(islice(iterator, size))
        if not batch:
            return sums, None
        if not sums.add_pairs(batch):  # the loop takes this batch on, and says what is wrong with it
            return sums, chain(batch, iterator)
        model.observe(batch[:8])
        collect_young()  # the caller holds automatic collection paused (memory.py)
        if sums.over(budget):
            return sums, iterator
        size = min(_MAX_BATCH, max(FIRST_BATCH, model.batch_size(budget.limit)))


def float_sums_absorb(chunks: Iterator[tuple], budget: MemoryBudget, model: SizeModel) -> tuple[dict, Iterator]:
    """The reduce side's unsorted runs (``(segment, chunk)`` pairs, in order)
    summed in numpy while their chunks are columns of int keys and float
    values: ``(table, rest)``: the dict the loop would hold after those
    chunks, and the chunks from the first one not summed.

    >>> class Run: columnar = True
    >>> table, rest = float_sums_absorb(iter([(Run, ([1, 2], [0.5, 1.0])), (Run, ([2], [0.25]))]),
    ...                                 MemoryBudget(1 << 20), SizeModel())
    >>> table, list(rest)
    ({1: 0.5, 2: 1.25}, [])
    """
    sums = FloatSums()
    for segment, chunk in chunks:
        if not segment.columnar or not sums.add_columns(*chunk):
            return sums.to_dict(), chain([(segment, chunk)], chunks)
        if model.record <= 0:  # nothing sampled yet
            keys, values = chunk
            model.observe(list(zip(column_list(keys[:8]), column_list(values[:8]))))
        if sums.over(budget):
            break
    return sums.to_dict(), chunks
