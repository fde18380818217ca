"""The combine loops: folding a batch of ``(key, value)`` records into a dict.

This is the hot path of every combining shuffle (map side, and reduce side
with ``merge_combiners``). One loop per common shape, each with its
functions bound to locals, so the common cases pay no generic call:

* ``reduce_by_key(operator.add)`` (sums, concatenations): ``a + b`` inline,
  no call at all;
* ``reduce_by_key(func)``: one call per repeated key, none for a new key;
* ``group_by_key``: ``list.append`` on the key's group;
* a cogroup of co-partitioned sides (``local.LocalCogroup``): ``append``
  on the list of the record's side (``cogroup_loop``);
* anything else: ``create`` / ``merge`` as given.

Each loop looks a key up once (``dict.get`` with a sentinel) and stores
once: a third fewer dict operations than ``in``, ``[]`` and a store.

Equivalent to ``for k, v in batch: table[k] = merge(table[k], v) if k in
table else create(v)``; cheaper because of the special cases above
(benchmarks/reduce_by_key.py: the ``operator.add`` loop is about 25%
faster than the generic one).

The loops are fed by :class:`BudgetedBatches`, the one way a combining
table is filled under the memory budget (``writer.ShuffleWriter``'s map
side, and ``local.LocalCombine`` / ``local.LocalCogroup``, which combine a
partition without a shuffle): the records come in batches sized by the
memory model, and after each batch the consumer is told it is time to
weigh its table against the budget.
"""
from __future__ import annotations

import operator
from itertools import islice
from typing import Callable, Iterator

from . import aggregators as agg
from .memory import FIRST_BATCH, SizeModel, collect_young

__all__ = ["combine_loop", "merge_loop", "cogroup_loop", "BudgetedBatches"]


_MISSING = object()  # no stored combiner is this object (None may be one)


# One ``get`` and one store per record rather than ``in``, ``[]`` and a store:
# a third fewer dict lookups, about 25% faster per record.
def _add_loop(table: dict, batch: list) -> None:
    get, missing = table.get, _MISSING
    for key, value in batch:
        old = get(key, missing)
        if old is missing:
            table[key] = value
        else:
            table[key] = old + value


def _reduce_loop(merge: Callable):
    def loop(table: dict, batch: list) -> None:
        get, missing = table.get, _MISSING
        for key, value in batch:
            old = get(key, missing)
            if old is missing:
                table[key] = value
            else:
                table[key] = merge(old, value)
    return loop


def _append_loop(table: dict, batch: list) -> None:
    get = table.get
    for key, value in batch:
        group = get(key)
        if group is None:
            table[key] = [value]
        else:
            group.append(value)


def _extend_loop(table: dict, batch: list) -> None:
    get = table.get
    for key, values in batch:
        group = get(key)
        if group is None:
            table[key] = values
        else:
            group.extend(values)


def _generic_loop(create: Callable, merge: Callable):
    def loop(table: dict, batch: list) -> None:
        get, missing = table.get, _MISSING
        for key, value in batch:
            old = get(key, missing)
            if old is missing:
                table[key] = create(value)
            else:
                table[key] = merge(old, value)
    return loop


def _two_sides_loop(table: dict, batch) -> None:
    get = table.get
    for key, (side, value) in batch:
        groups = get(key)
        if groups is None:
            groups = table[key] = ([], [])
        groups[side].append(value)


def cogroup_loop(sides: int) -> Callable[[dict, list], None]:
    """The loop grouping side-tagged ``(key, (side, value))`` records into one
    list per side: ``{key: ([values of side 0], [values of side 1], ...)}``.

    >>> table = {}
    >>> cogroup_loop(2)(table, [("a", (0, 1)), ("b", (1, 2)), ("a", (1, 3))])
    >>> table
    {'a': ([1], [3]), 'b': ([], [2])}
    """
    if sides == 2:
        return _two_sides_loop
    empty = range(sides)

    def loop(table: dict, batch) -> None:
        get = table.get
        for key, (side, value) in batch:
            groups = get(key)
            if groups is None:
                groups = table[key] = tuple([] for _ in empty)
            groups[side].append(value)
    return loop


def combine_loop(create: Callable | None, merge: Callable) -> Callable[[dict, list], None]:
    """The fastest loop doing ``create``/``merge`` (``create=None``: identity).

    >>> table = {}
    >>> combine_loop(None, operator.add)(table, [("a", 1), ("b", 2), ("a", 3)])
    >>> table
    {'a': 4, 'b': 2}
    """
    if create is None or create is agg.identity:
        if merge is operator.add:
            return _add_loop
        return _reduce_loop(merge)
    if create is agg.to_list and merge is agg.append:
        return _append_loop
    return _generic_loop(create, merge)


def merge_loop(merge_combiners: Callable) -> Callable[[dict, list], None]:
    """The loop that merges ``(key, combiner)`` records into a table.

    >>> table = {"a": [1]}
    >>> merge_loop(agg.extend)(table, [("a", [2]), ("b", [3])])
    >>> table
    {'a': [1, 2], 'b': [3]}
    """
    if merge_combiners is agg.extend:
        return _extend_loop
    return combine_loop(None, merge_combiners)


_END = object()
_SAMPLES = 8  # recent records the size model is fed with


class BudgetedBatches:
    """The records of ``iterator`` in batches for a combine loop, sized so that
    at most a sixteenth of the budget arrives between two looks at the table.

    Each round is a batch (an ``islice`` straight through the pipeline: no
    list, so each record tuple is freed at once, which keeps allocation
    cheap), then one record peeked, to learn whether the input goes on,
    handed out as a batch of its own and kept as a sample for the size
    ``model``. While that one-record batch is out, :attr:`due` is true: the
    consumer, having folded it in, weighs its table (the records folded
    since its last spill are :attr:`held`; it sets ``held = 0`` when it
    spills) and may spill or stop. Stopping leaves ``iterator`` right after
    the last record handed out. Young garbage is collected between batches
    (``memory.collect_young``), as the caller holds automatic collection
    paused.

    >>> batches = BudgetedBatches(iter([("a", 1), ("b", 2), ("a", 3)]), 1 << 20)
    >>> table = {}
    >>> for batch in batches:
    ...     combine_loop(None, operator.add)(table, batch)
    >>> table
    {'a': 4, 'b': 2}
    """

    def __init__(self, iterator: Iterator, limit: int, model: SizeModel | None = None):
        self.iterator, self.limit = iterator, limit
        self.model = SizeModel() if model is None else model
        self.due = False  # the batch out is the peeked record: time to weigh the table
        self.held = 0  # records folded since the consumer last reset it (its last spill)
        self.records = 0  # records handed out, up to the last batch (whose length is not known)

    def __iter__(self) -> Iterator:
        iterator, model, limit = self.iterator, self.model, self.limit
        size, samples = FIRST_BATCH, []
        while True:
            yield islice(iterator, size)
            record = next(iterator, _END)
            if record is _END:
                return
            self.records += size + 1
            self.held += size + 1
            samples.append(record)
            if len(samples) > _SAMPLES:
                del samples[0]
            model.observe(samples)
            collect_young()
            self.due = True
            yield (record,)
            self.due = False
            size = model.batch_size(limit)
