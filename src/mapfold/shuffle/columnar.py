"""Map-side sums in columns: ``reduce_by_key(operator.add)`` over int64 blocks.

When a map task's input can hand out its records as columns (a
``key<TAB>int`` file read by ``read_key_value``, parsed by Arrow: see
``io/keyvalue.py``) and the shuffle only sums the values, the task need not
build a Python pair per record at all: each block of keys and int64 values
is summed by key with Arrow's hash aggregation (C++), and the partial sums
are summed again when they pile up. Only the task's distinct keys ever
become Python objects, once, at the end, when the table is cut into
buckets like any other.

Exactness is kept, not assumed:

* Only Arrow ``string`` keys and ``int64`` values take this path (floats
  would be summed in another order than Python's, so they do not).
* Python ints do not overflow; int64 sums can. Each block adds
  ``rows x max |value|`` to a bound of every partial sum; before that
  bound could pass 2**63 the path is left.
Leaving the path turns the partial sums into the ordinary Python table and
the rest of the input into pairs, and the task goes on as any combining
task (spills included): the answer is the same either way.

Memory: the caller (``ShuffleWriter.consume_columns``) flushes the partial
sums as unsorted runs when they pass their share of the budget.
"""
from __future__ import annotations

import operator
from itertools import chain
from typing import Iterator

from . import aggregators as agg

__all__ = ["ColumnSum", "sums_int_columns", "pairs_of"]

_LIMIT = 1 << 63


def sums_int_columns(aggregator) -> bool:
    """Is this shuffle a plain sum (``reduce_by_key(operator.add)``)?

    >>> from mapfold.plan.nodes import Aggregator
    >>> sums_int_columns(Aggregator(None, operator.add, operator.add)), sums_int_columns(None)
    (True, False)
    """
    return (aggregator is not None and aggregator.create in (None, agg.identity)
            and aggregator.merge_value is operator.add and aggregator.merge_combiners is operator.add
            and getattr(aggregator, "collects", None) is None)


def pairs_of(blocks) -> Iterator[tuple]:
    """The ``(key, value)`` records of ``(keys, values)`` column blocks.

    >>> list(pairs_of([(["a", "b"], [1, 2]), (["c"], [3])]))
    [('a', 1), ('b', 2), ('c', 3)]
    """
    return chain.from_iterable(zip(_as_list(keys), _as_list(values)) for keys, values in blocks)


def _as_list(column) -> list:
    return column if isinstance(column, list) else column.to_pylist()


class ColumnSum:
    """Sums of int64 values by string key, in Arrow tables.

    ``slices``/``to_lists``/``to_dict`` hand the sums out and start again
    empty (the caller writes them out and goes on).

    >>> import pyarrow as pa
    >>> total = ColumnSum()
    >>> total.add(pa.array(["a", "b", "a"]), pa.array([1, 2, 3]))
    True
    >>> sorted(total.to_dict().items())
    [('a', 4), ('b', 2)]
    """

    def __init__(self, compact_bytes: int = 256 << 20):
        self._first_compaction = compact_bytes
        import pyarrow as pa
        import pyarrow.compute as pc

        self._pa, self._pc = pa, pc
        self._parts: list = []
        # Partial sums are summed again only when they pass ``compact_bytes`` (and at
        # the end): one hash aggregation over many rows costs less than repeated
        # ones over a growing table of ~a million distinct keys (5 s vs 1 s at 20 M
        # rows, benchmarks/reduce_by_key.py); the threshold doubles past what
        # compaction leaves, so the work stays linear.
        self._compact_at = compact_bytes
        self._nbytes = 0
        self._bound = 0  # no partial sum can exceed this in absolute value
        self.records = 0

    def add(self, keys, values) -> bool:
        """Sum a block in; False (and nothing added) if it cannot be done exactly here."""
        pa = self._pa
        if isinstance(keys, list) or isinstance(values, list):
            return False
        if keys.type != pa.string() or values.type != pa.int64():
            return False
        n = len(values)
        if n == 0:
            return True
        low, high = self._pc.min_max(values).values()
        largest = max(abs(low.as_py()), abs(high.as_py()))
        if self._bound + n * largest >= _LIMIT:
            return False
        self._bound += n * largest
        table = pa.table([keys, values], names=["key", "value"])
        part = _sum_by_key(table)
        self._parts.append(part)
        self._nbytes += part.nbytes
        self.records += n
        if self._nbytes > self._compact_at and len(self._parts) > 1:
            self._compact()
            self._compact_at = max(self._compact_at, 2 * self._nbytes)
        return True

    @property
    def nbytes(self) -> int:
        """Bytes held by the partial sums."""
        return self._nbytes

    def _compact(self) -> None:
        table = _sum_by_key(self._pa.concat_tables(self._parts))
        self._parts, self._nbytes = [table], table.nbytes

    def to_dict(self) -> dict:
        """The sums as a Python dict ``{key: int}``."""
        return dict(zip(*self.to_lists()))

    def to_lists(self) -> tuple[list, list]:
        """The keys and their sums, as two Python lists."""
        keys: list = []
        values: list = []
        for some_keys, some_values in self.slices(None):
            keys += some_keys
            values += some_values
        return keys, values

    def slices(self, rows: int | None) -> Iterator[tuple[list, list]]:
        """The keys and their sums as Python lists, ``rows`` at a time (all at
        once for None); afterwards the sums start again, empty.

        >>> import pyarrow as pa
        >>> total = ColumnSum(); _ = total.add(pa.array(["a", "b", "c"]), pa.array([1, 2, 3]))
        >>> [len(keys) for keys, _ in total.slices(2)], total.nbytes
        ([2, 1], 0)
        """
        if not self._parts:
            return
        if len(self._parts) > 1:
            self._compact()
        (table,) = self._parts
        self._parts, self._nbytes, self._bound, self.records = [], 0, 0, 0
        self._compact_at = self._first_compaction
        step = rows or max(1, table.num_rows)
        for start in range(0, table.num_rows, step):
            piece = table.slice(start, step)
            yield piece.column("key").to_pylist(), piece.column("value").to_pylist()


def _sum_by_key(table):
    summed = table.group_by("key").aggregate([("value", "sum")])
    return summed.select(["key", "value_sum"]).rename_columns(["key", "value"])
