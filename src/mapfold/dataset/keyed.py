"""Wide (by-key) operations: everything here goes through a shuffle.

One aggregation primitive, the rest thin (as PySpark's rdd.py):
``combine_by_key`` does the work; ``reduce_by_key``, ``fold_by_key``,
``aggregate_by_key``, ``group_by_key`` and ``count_by_key`` are a few lines
on top. Joins are a ``cogroup`` of tagged records.

Keys go to buckets by ``stable_hash`` (``core/hashing.py``: the same bucket
in every process), so they must be hashable; they need not be orderable
(except for ``sort_by``). ``func``/``merge`` functions must be associative
and commutative: combiners meet in no fixed order.

Co-partitioning (as Spark): a Dataset knows its ``partitioner`` after a
by-key operation, a join or ``partition_by``, and keeps it through steps
that keep keys (``map_values``, ``flat_map_values``, ``filter``,
``persist``, ``map_partitions(..., preserves_partitioning=True)``). A
by-key operation whose input already has the partitioner it would shuffle
into (the same kind, count and function: ``shuffle/partitioner.py``)
combines each partition on its own instead (``plan/nodes.CombineNode``);
``partition_by`` into the partitioning a Dataset already has moves
nothing. A join or ``cogroup`` shuffles only the sides not already
partitioned its way, then reads partition ``i`` of every side in one task
(``plan/nodes.ZipNode``). ``explain()`` shows each skipped shuffle and why.

Memory: each worker's shuffle holds at most its **memory budget** in tables
and buffers, and spills sorted runs to disk past it (``shuffle/writer.py``,
``shuffle/reader.py`` explain how). The budget is one setting per runner:
``mf.runner("processes", memory_limit="512MB")`` (or
``make_runner(..., memory_limit=...)``), else the ``MAPFOLD_MEMORY_LIMIT``
environment variable, else a quarter of the machine's RAM shared by the
workers; ``explain()`` after a run shows the budget, where it came from,
and the bytes and records spilled.
"""
from __future__ import annotations

from itertools import product, repeat
from typing import Any, Callable

from ..plan.nodes import Aggregator, CombineNode, ShuffleNode, ZipNode, copartitioned
from ..shuffle import aggregators as agg
from ..shuffle.groups import SideValues
from ..shuffle.local import LocalCogroup, LocalJoin
from ..shuffle.partitioner import HashPartitioner, partitioner_for
from ..shuffle.records import pair_error
from . import transforms as t
from .checks import check_bool, check_callable, check_count, check_datasets, check_fraction

__all__ = ["KeyedMixin"]


class KeyedMixin:
    node: Any

    def _shuffle(self, partitions, partitioner, aggregator, name):
        from .dataset import Dataset

        check_count(partitions, "partitions", name, optional=True)
        n = partitions or self.node.num_partitions
        partitioner = partitioner or HashPartitioner(n)
        if copartitioned(self.node, partitioner, n):  # every key is where the shuffle would put it
            return Dataset(CombineNode(self.node, aggregator, name), (self,))
        return Dataset(ShuffleNode(self.node, n, partitioner, aggregator, name=name), (self,))

    @property
    def partitioner(self):
        """How this Dataset's records are placed by key, or ``None`` if unknown.

        >>> import operator
        >>> from mapfold import from_sequence
        >>> summed = from_sequence([("a", 1), ("b", 2)]).reduce_by_key(operator.add, partitions=4)
        >>> summed.partitioner, summed.map_values(str).partitioner, summed.map(str).partitioner
        (HashPartitioner(4), HashPartitioner(4), None)
        """
        return self.node.partitioner

    def combine_by_key(self, create: Callable, merge_value: Callable, merge_combiners: Callable,
                       partitions: int | None = None, partitioner=None):
        """Per key: ``create`` a combiner from the first value, ``merge_value``
        further values into it, ``merge_combiners`` across map tasks.

        >>> from mapfold import from_sequence
        >>> pairs = from_sequence([("a", 1), ("b", 2), ("a", 3)], partitions=2)
        >>> sorted(pairs.combine_by_key(lambda v: [v], lambda c, v: c + [v], lambda c, d: c + d)
        ...        .map_values(sorted).collect(runner="serial"))
        [('a', [1, 3]), ('b', [2])]
        """
        for func, arg in ((create, "create"), (merge_value, "merge_value"), (merge_combiners, "merge_combiners")):
            check_callable(func, arg, "combine_by_key")
        check_callable(partitioner, "partitioner", "combine_by_key", optional=True)
        return self._shuffle(partitions, partitioner, Aggregator(create, merge_value, merge_combiners),
                             "combine_by_key")

    def _combine(self, aggregator: Aggregator, partitions, name: str):
        return self._shuffle(partitions, None, aggregator, name)

    def reduce_by_key(self, func: Callable[[Any, Any], Any], partitions: int | None = None):
        """Merge the values of each key with an associative ``func``
        (combined on the map side before the shuffle).

        >>> import operator
        >>> from mapfold import from_sequence
        >>> sorted(from_sequence([("a", 1), ("b", 2), ("a", 3)]).reduce_by_key(operator.add).collect(runner="serial"))
        [('a', 4), ('b', 2)]
        """
        check_callable(func, "func", "reduce_by_key")
        return self._combine(Aggregator(agg.identity, func, func), partitions, "reduce_by_key")

    def fold_by_key(self, zero: Any, func: Callable[[Any, Any], Any], partitions: int | None = None):
        """Like :meth:`reduce_by_key`, starting each key from a copy of ``zero``
        in every partition (as PySpark: ``zero`` must be neutral for ``func``).

        >>> import operator
        >>> from mapfold import from_sequence
        >>> sorted(from_sequence([("a", 1), ("a", 3)]).fold_by_key(0, operator.add).collect(runner="serial"))
        [('a', 4)]
        """
        check_callable(func, "func", "fold_by_key")
        return self._combine(Aggregator(agg.CreateFromZero(zero, func), func, func), partitions, "fold_by_key")

    def aggregate_by_key(self, zero: Any, seq_op: Callable, comb_op: Callable, partitions: int | None = None):
        """Per key, fold values into a copy of ``zero`` with ``seq_op``;
        merge partial results with ``comb_op``.

        >>> from mapfold import from_sequence
        >>> pairs = from_sequence([("a", 1), ("a", 3), ("b", 5)])
        >>> sorted(pairs.aggregate_by_key((0, 0), lambda acc, v: (acc[0] + v, acc[1] + 1),
        ...        lambda x, y: (x[0] + y[0], x[1] + y[1])).collect(runner="serial"))
        [('a', (4, 2)), ('b', (5, 1))]
        """
        check_callable(seq_op, "seq_op", "aggregate_by_key")
        check_callable(comb_op, "comb_op", "aggregate_by_key")
        return self._combine(Aggregator(agg.CreateFromZero(zero, seq_op), seq_op, comb_op), partitions,
                             "aggregate_by_key")

    def group_by_key(self, partitions: int | None = None):
        """``(key, values)`` per key.

        ``values`` is a ``list`` when the group fits in the memory budget.
        A group too big for it streams from disk: ``values`` is then a
        :class:`~mapfold.shuffle.groups.SpilledValues`, a re-iterable
        sequence with ``len()`` that turns into a list when pickled, best
        consumed inside the job (``.map_values(len)``,
        ``.flat_map_values(...)``); its file is removed with its last
        reference, or when the runner closes (see ``shuffle/groups.py``).
        Prefer :meth:`reduce_by_key` or :meth:`aggregate_by_key` when the
        groups are only summarised: they combine before the shuffle.

        >>> from mapfold import from_sequence
        >>> sorted(from_sequence([("a", 1), ("b", 2), ("a", 3)]).group_by_key()
        ...        .map_values(sorted).collect(runner="serial"))
        [('a', [1, 3]), ('b', [2])]
        """
        return self._combine(Aggregator(agg.to_list, agg.append, agg.extend, collects=len), partitions,
                             "group_by_key")

    def group_by(self, key_func: Callable, partitions: int | None = None):
        """``(key_func(x), [x, ...])`` groups.

        >>> from mapfold import from_sequence
        >>> sorted(from_sequence(["aa", "b", "cc"]).group_by(len).map_values(sorted).collect(runner="serial"))
        [(1, ['b']), (2, ['aa', 'cc'])]
        """
        check_callable(key_func, "key_func", "group_by")
        check_count(partitions, "partitions", "group_by", optional=True)
        return self.key_by(key_func).group_by_key(partitions)

    def count_by_key(self, runner=None, progress=None) -> dict:
        """Action: ``{key: number of records}``.

        >>> from mapfold import from_sequence
        >>> from_sequence([("a", 1), ("a", 2), ("b", 0)]).count_by_key(runner="serial") == {"a": 2, "b": 1}
        True
        """
        return self.keys().count_by_value(runner=runner, progress=progress)

    def distinct(self, partitions: int | None = None):
        """Each distinct record once (records must be hashable).

        >>> from mapfold import from_sequence
        >>> sorted(from_sequence([1, 2, 1, 3, 2]).distinct().collect(runner="serial"))
        [1, 2, 3]
        """
        check_count(partitions, "partitions", "distinct", optional=True)
        return self.map(_with_none).reduce_by_key(agg.keep_first, partitions).keys()

    def cogroup(self, *others, partitions: int | None = None):
        """``(key, (values_in_self, values_in_other, ...))`` for every key of any side.

        Each side's values are a ``list``; for a key with more values than
        fit in the memory budget, they are read-only re-iterable views that
        stream from disk, as :meth:`group_by_key`'s groups do (``len()``
        works, pickling gives a list; ``shuffle/groups.py``). The sides are
        tagged and grouped together, so a hot key's values never need to fit
        in memory, in a join either.

        >>> from mapfold import from_sequence
        >>> a, b = from_sequence([("k", 1)]), from_sequence([("k", 2), ("j", 3)])
        >>> sorted(a.cogroup(b).collect(runner="serial"))
        [('j', ([], [3])), ('k', ([1], [2]))]
        """
        check_datasets(others, "cogroup", "each argument")
        check_count(partitions, "partitions", "cogroup", optional=True)
        return self._cogroup(others, partitions, "cogroup")

    def _cogroup(self, others, partitions, operation: str, join: tuple[bool, bool] | None = None):
        """The cogroup of ``self`` and ``others``; for ``join=(keep_left,
        keep_right)`` (two sides), its pairs instead."""
        sides = [self] + list(others)
        n = partitions or max(side.num_partitions for side in sides)
        target = _cogroup_partitioner(sides, n, partitions)
        tags = tuple(_Tag(i, operation) for i in range(len(sides)))
        # a record-level map that keeps the partitioning: a non-pair record fails naming the join's side
        tagged = [side._narrow(t.Map(tag), f"tag side {i}", preserves_partitioning=True)
                  for i, (tag, side) in enumerate(zip(tags, sides))]
        group = Aggregator(agg.to_list, agg.append, agg.extend, collects=len)
        split = _SplitSides(len(sides))
        kept = [copartitioned(side.node, target, n) for side in sides]
        if not any(kept):
            union = tagged[0].union(*tagged[1:]) if len(tagged) > 1 else tagged[0]
            grouped = union._shuffle(n, target, group, "cogroup").map_values(split)
            return grouped if join is None else grouped._join_pairs(*join)
        # shuffle only the sides not partitioned as `target` (checked for pairs first, as the tags would);
        # then partition i of every side is read in one task, each side's records apart (ZipNode)
        placed = [side.node if keep
                  else ShuffleNode(side._narrow(t.Map(_PairCheck(i, operation)), f"check side {i}").node, n,
                                   target, None, name=f"cogroup side {i}")
                  for i, (keep, side) in enumerate(zip(kept, sides))]
        zipped = ZipNode(placed, "cogroup sides", tagged=[side.node for side in tagged],
                         shuffled=[not keep for keep in kept])
        if join is None:
            return type(self)(CombineNode(zipped, group, "cogroup", LocalCogroup(group, "cogroup", len(sides), split,
                                                                               tags=tags)), tuple(sides))
        local = LocalJoin(group, operation, split, tags, _JoinedPairs(_JoinPairs(*join)), *join)
        return type(self)(CombineNode(zipped, group, operation, local), tuple(sides))

    def join(self, other, partitions: int | None = None):
        """Inner join: ``(key, (v, w))`` for every pair of values sharing a key.

        >>> from mapfold import from_sequence
        >>> a, b = from_sequence([("k", 1), ("j", 0)]), from_sequence([("k", 2), ("k", 3)])
        >>> sorted(a.join(b).collect(runner="serial"))
        [('k', (1, 2)), ('k', (1, 3))]
        """
        _check_join(other, partitions, "join")
        return self._cogroup([other], partitions, "join", (False, False))

    def _join_pairs(self, keep_left: bool, keep_right: bool):
        # one narrow step (a flat_map_values of _JoinPairs, without its call per key)
        return self._narrow(_JoinedPairs(_JoinPairs(keep_left, keep_right)), "join pairs", preserves_partitioning=True)

    def left_outer_join(self, other, partitions: int | None = None):
        """Every value of ``self``; ``None`` where ``other`` has no match."""
        _check_join(other, partitions, "left_outer_join")
        return self._cogroup([other], partitions, "left_outer_join", (True, False))

    def right_outer_join(self, other, partitions: int | None = None):
        """Every value of ``other``; ``None`` where ``self`` has no match."""
        _check_join(other, partitions, "right_outer_join")
        return self._cogroup([other], partitions, "right_outer_join", (False, True))

    def full_outer_join(self, other, partitions: int | None = None):
        """Every value of either side; ``None`` for the missing side."""
        _check_join(other, partitions, "full_outer_join")
        return self._cogroup([other], partitions, "full_outer_join", (True, True))

    def subtract_by_key(self, other, partitions: int | None = None):
        """Records of ``self`` whose key does not occur in ``other``.

        >>> from mapfold import from_sequence
        >>> from_sequence([("a", 1), ("b", 2)]).subtract_by_key(from_sequence([("a", 0)])).collect(runner="serial")
        [('b', 2)]
        """
        _check_join(other, partitions, "subtract_by_key")
        return self._cogroup([other], partitions, "subtract_by_key").flat_map_values(_only_left)

    def partition_by(self, partitions: int, partition_func: Callable | None = None):
        """Move ``(key, value)`` records to ``partition_func(key) % partitions``
        (default: the stable hash)."""
        check_count(partitions, "partitions", "partition_by")
        check_callable(partition_func, "partition_func", "partition_by", optional=True)
        partitioner = partitioner_for(partitions, partition_func)
        return self._shuffle(partitions, partitioner, None, "partition_by")

    def repartition(self, partitions: int):
        """Spread the records evenly over ``partitions`` partitions.

        >>> from mapfold import from_sequence
        >>> from_sequence(range(10), partitions=1).repartition(3).glom().map(len).collect(runner="serial")
        [4, 3, 3]
        """
        check_count(partitions, "partitions", "repartition")
        keyed = self.map_partitions_with_index(_RoundRobin(partitions))
        return keyed._shuffle(partitions, _ModPartitioner(partitions), None, "repartition").values()

    def sort_by(self, key: Callable = None, ascending: bool = True, partitions: int | None = None, runner=None):
        """Records sorted by ``key``, globally: partition ``i`` holds smaller
        keys than partition ``i + 1``. Bounds come from a sample (one pass,
        run now on ``runner``, as Spark's sortByKey). Each output partition
        is sorted within the shuffle's memory budget, spilling sorted runs
        and merging them when it does not fit (``shuffle/sort.py``).

        >>> from mapfold import from_sequence
        >>> from_sequence([3, 1, 2, 5, 4], partitions=2).sort_by(lambda x: x, runner="serial").collect(runner="serial")
        [1, 2, 3, 4, 5]
        """
        from ..shuffle.partitioner import RangePartitioner

        check_callable(key, "key", "sort_by", optional=True)
        check_bool(ascending, "ascending", "sort_by")
        check_count(partitions, "partitions", "sort_by", optional=True)
        key = key or agg.identity
        n = partitions or self.node.num_partitions
        keyed = self.key_by(key)
        bounds = RangePartitioner.from_sample(keyed.keys(), n, runner=runner)
        partitioner = RangePartitioner(bounds, ascending)
        shuffled = keyed._shuffle(len(bounds) + 1, partitioner, None, "sort_by")
        return shuffled.map_partitions(_SortPartition(ascending)).values()

    def sort_by_key(self, ascending: bool = True, partitions: int | None = None, runner=None):
        """``(key, value)`` records sorted by key.

        >>> from mapfold import from_sequence
        >>> from_sequence([("b", 1), ("a", 2)]).sort_by_key(runner="serial").collect(runner="serial")
        [('a', 2), ('b', 1)]
        """
        check_bool(ascending, "ascending", "sort_by_key")
        check_count(partitions, "partitions", "sort_by_key", optional=True)
        return self.sort_by(_key_of, ascending, partitions, runner)

    def count_approx_distinct(self, relative_error: float = 0.05, runner=None, progress=None) -> int:
        """Approximate number of distinct records (HyperLogLog from Apache DataSketches).

        >>> from mapfold import from_sequence
        >>> abs(from_sequence(range(5000)).count_approx_distinct(runner="serial") - 5000) < 500
        True
        """
        from ..shuffle.sketch import HllFinisher, merge_sketches

        from ..core.extras import require

        check_fraction(relative_error, "relative_error", "count_approx_distinct")
        # checked on the driver, so a missing package fails before any task runs
        require("datasketches", "sketch", "count_approx_distinct()'s HyperLogLog sketches")
        finisher = HllFinisher.for_error(relative_error)
        return merge_sketches(self._partition_values(finisher, "count_approx_distinct", runner, progress), finisher)


def _check_join(other, partitions, method: str) -> None:
    check_datasets((other,), method)
    check_count(partitions, "partitions", method, optional=True)


def _cogroup_partitioner(sides: list, n: int, partitions: int | None):
    """Where a cogroup puts its keys: as Spark, the partitioning a side
    already has when it fits (``n`` partitions, and no other count asked
    for explicitly), else the stable hash into ``n``."""
    if partitions is None:
        for side in sides:
            if side.node.partitioner is not None and side.num_partitions == n:
                return side.node.partitioner
    return HashPartitioner(n)


def _with_none(x):
    return (x, None)


def _key_of(record):
    return record[0]


class _PairCheck:
    """A ``(key, value)`` record as it is; any other record fails here, saying
    which operation and side wanted a pair (``shuffle/records.py``)."""

    def __init__(self, side: int, operation: str = "cogroup"):
        self.side, self.operation = side, operation

    def __call__(self, record):
        if type(record) is tuple and len(record) == 2:
            return record
        self._check(record)
        return (record[0], record[1])

    def _check(self, record) -> None:
        if self.side == 0:
            where = "on the Dataset it is called on"
        else:
            where = f"on argument {self.side}" if self.operation == "cogroup" else "on the other Dataset"
        error = pair_error(record, self.operation, where)
        if error is not None:
            raise error


class _Tag(_PairCheck):
    """``(key, value)`` -> ``(key, (side, value))``, checked as :class:`_PairCheck` checks."""

    def __call__(self, record):
        if type(record) is tuple and len(record) == 2:
            return (record[0], (self.side, record[1]))
        self._check(record)
        return (record[0], (self.side, record[1]))


class _SplitSides:
    """``[(side, value), ...]`` of one key -> one group of values per side."""

    def __init__(self, sides: int):
        self.sides = sides

    def __call__(self, tagged) -> tuple:
        if type(tagged) is not list:  # a group spilled to disk: views that stream it
            return tuple(SideValues(tagged, side) for side in range(self.sides))
        groups = tuple([] for _ in range(self.sides))
        appends = [group.append for group in groups]
        for side, value in tagged:
            appends[side](value)
        return groups


class _JoinPairs:
    def __init__(self, keep_left: bool, keep_right: bool):
        self.keep_left, self.keep_right = keep_left, keep_right

    def __call__(self, groups):
        left, right = groups
        if not right:
            return zip(left, repeat(None)) if self.keep_left else ()
        if not left:
            return zip(repeat(None), right) if self.keep_right else ()
        if type(left) is list and type(right) is list:
            if len(left) == 1 == len(right):  # the common case of a join on unique keys: no iterator to build
                return ((left[0], right[0]),)
            return product(left, right)  # lazily: a hot key's pairs never sit in one list
        return _pairs(left, right)  # a side streams from disk: never hold it whole


class _JoinedPairs:
    """The narrow transform ``(key, (left, right))`` -> ``(key, (v, w))`` per
    pair: ``flat_map_values(_JoinPairs(...))`` with the common case, one
    value on each side, done inline (no call, no iterator per key)."""

    def __init__(self, pairs: _JoinPairs):
        self.pairs = pairs

    def __call__(self, index: int, iterator):
        pairs, list_ = self.pairs, list
        for key, groups in iterator:  # a cogroup's records: (key, (left, right)) always
            left, right = groups
            if type(left) is list_ and type(right) is list_ and len(left) == 1 == len(right):
                yield key, (left[0], right[0])
            else:
                for pair in pairs(groups):
                    yield key, pair


def _pairs(left, right):
    for v in left:
        for w in right:
            yield v, w


def _only_left(groups):
    left, right = groups
    return [] if right else left


class _RoundRobin:
    def __init__(self, partitions: int):
        self.partitions = partitions

    def __call__(self, index, iterator):
        start = index * 7919  # spread partitions' first records over the targets
        return ((start + i, x) for i, x in enumerate(iterator))


class _ModPartitioner:
    def __init__(self, buckets: int):
        self.buckets = buckets

    def __call__(self, key: int) -> int:
        return key % self.buckets


class _SortPartition:
    def __init__(self, ascending: bool):
        self.ascending = ascending

    def __call__(self, iterator):
        from ..shuffle.sort import external_sorted

        return external_sorted(iterator, reverse=not self.ascending)

