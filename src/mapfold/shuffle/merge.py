"""K-way merge of sorted runs by key hash.

Sorted runs hold ``(hash, key, value)`` triples in ascending
``stable_hash(key)`` order (``spill.py``). ``heapq.merge`` with
``key=itemgetter(0)`` interleaves any number of them into one stream in
hash order, holding one chunk per run; it compares hashes only, so keys
never need to be orderable.

All entries of one key then arrive next to each other, though entries of
*different* keys that share a hash (rare: 64-bit hashes) may interleave.
So each consumer walks the stream one hash at a time and tells keys apart
with ``==`` inside it:

* :func:`combine_sorted` merges the combiners of equal keys
  (``reduce_by_key`` and friends): it holds the combiners of one hash,
  never a whole group;
* :func:`group_sorted` gathers the values of equal keys for
  ``group_by_key``, moving a group that outgrows its share of the budget to
  disk as it grows (``groups.py``).

More runs than :attr:`MemoryBudget.MAX_FANIN` are merged in passes: the
first ``MAX_FANIN`` runs are merged (and, for combiners, combined) into one
new run appended to the task's run file, until few enough remain. This
bounds open files and read buffers whatever the number of spills.
"""
from __future__ import annotations

import heapq
from operator import itemgetter
from typing import Callable, Iterable, Iterator

from .groups import GroupBuilder, GroupStore
from .memory import MemoryBudget
from .spill import RunWriter, Segment, read_records

__all__ = ["merge_runs", "combine_sorted", "group_sorted"]

_by_hash = itemgetter(0)


def merge_runs(runs: list[Segment], writer: RunWriter, chunk_records: int,
               merge_combiners: Callable | None = None, fanin: int = MemoryBudget.MAX_FANIN,
               on_pass: Callable[[Segment], None] | None = None, reverse: bool = False,
               chunk_values: int | None = None) -> Iterator[tuple]:
    """One stream of ``(hash, key, value)`` in hash order from sorted ``runs``.

    Any runs of tuples sorted on their first item merge the same way
    (``sort.py``: ``(sort key, record)`` pairs; ``reverse`` for descending runs).
    ``chunk_values``: the runs hold groups' pieces; the runs of a pass are
    cut by values too (``RunWriter.write``).

    >>> import tempfile, os
    >>> w = RunWriter(os.path.join(tempfile.mkdtemp(), "r.runs"))
    >>> a = w.write([(1, "a", 1), (5, "e", 5)], 10, sorted=True)
    >>> b = w.write([(2, "b", 2), (5, "e", 6)], 10, sorted=True); w.flush()
    >>> [k for _, k, _ in merge_runs([a, b], w, 10)]
    ['a', 'b', 'e', 'e']
    """
    if fanin < 2:
        raise ValueError(f"fanin must be at least 2, not {fanin}")
    pending = list(runs)
    while len(pending) > fanin:
        group, pending = pending[:fanin], pending[fanin:]
        merged: Iterable = heapq.merge(*(read_records(run) for run in group), key=_by_hash, reverse=reverse)
        if merge_combiners is not None:
            merged = combine_sorted(merged, merge_combiners)
        segment = writer.write(merged, chunk_records, sorted=True, chunk_values=chunk_values)
        writer.flush()
        if on_pass is not None:
            on_pass(segment)
        pending.insert(0, segment)  # where its runs were: ties keep coming from earlier runs first
    return heapq.merge(*(read_records(run) for run in pending), key=_by_hash, reverse=reverse)


def combine_sorted(merged: Iterable[tuple], merge_combiners: Callable) -> Iterator[tuple]:
    """Merge the combiners of equal keys in a hash-ordered stream.

    >>> list(combine_sorted([(1, "a", 1), (1, "a", 2), (1, "z", 7), (3, "c", 1)], lambda x, y: x + y))
    [(1, 'a', 3), (1, 'z', 7), (3, 'c', 1)]
    """
    current = None
    entries: list = []  # [key, combiner] of the current hash
    for h, key, value in merged:
        if h != current:
            for entry in entries:
                yield current, entry[0], entry[1]
            current, entries = h, [[key, value]]
            continue
        for entry in entries:
            if entry[0] == key:
                entry[1] = merge_combiners(entry[1], value)
                break
        else:
            entries.append([key, value])
    for entry in entries:
        yield current, entry[0], entry[1]


def group_sorted(merged: Iterable[tuple], store: GroupStore, max_values: int) -> Iterator[tuple]:
    """``(key, values)`` from a hash-ordered stream of ``(hash, key, list)``;
    a group past ``max_values`` values goes to ``store`` as it grows.

    >>> import tempfile, os
    >>> store = GroupStore(os.path.join(tempfile.mkdtemp(), "g"))
    >>> list(group_sorted([(1, "a", [1]), (1, "a", [2, 3]), (2, "b", [4])], store, 100))
    [('a', [1, 2, 3]), ('b', [4])]
    """
    current = None
    builders: list = []  # [key, GroupBuilder] of the current hash
    for h, key, values in merged:
        if h != current:
            for key_, builder in builders:
                yield key_, builder.result()
            current, builders = h, []
        for entry in builders:
            if entry[0] == key:
                entry[1].extend(values)
                break
        else:
            builder = GroupBuilder(store, max_values)
            builder.extend(values)
            builders.append([key, builder])
    for key_, builder in builders:
        yield key_, builder.result()
