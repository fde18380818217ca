"""``Dataset``: the lazy, partitioned collection users hold.

Transformations return new Datasets (plans); actions (``collect``,
``count``, ``reduce``, ``save_text``, iteration...) run them on a runner.
Wide (by-key) operations live in ``keyed.py``, actions in ``actions.py``.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

from ..plan.nodes import NarrowNode, Node, PersistNode, UnionNode
from ..plan.rewrites import Rewrite
from . import transforms as t
from .checks import check_bool, check_callable, check_count, check_datasets, check_fraction
from .actions import ActionsMixin
from .combining import CombiningMixin
from .keyed import KeyedMixin
from .statistics import StatisticsMixin
from .writers import WritersMixin

__all__ = ["Dataset"]

WORDS = Rewrite("words", replaces=1, label="flat_map(str.split) → word path (text split once per block)")


class Dataset(ActionsMixin, KeyedMixin, StatisticsMixin, CombiningMixin, WritersMixin):
    """A lazy, immutable, partitioned collection of records.

    >>> import mapfold as mf
    >>> words = mf.from_sequence(["a b", "b c", "c"], partitions=2).flat_map(str.split)
    >>> sorted(words.count_by_value(runner="serial").items())
    [('a', 1), ('b', 2), ('c', 2)]
    """

    def __init__(self, node: Node, derived_from: tuple = ()):
        self.node = node
        # the Datasets this one was made from: an action on it is their run too (dataset/runs.py)
        self.derived_from = tuple(derived_from)
        self._last_job = None  # the last action called on this Dataset (explain, take's rounds)
        self._computed_by = None  # the last run that computed it: last_run, counters, bad_records

    def __getstate__(self):
        # a closure that captured a Dataset ships its plan, never its runs (a Job holds a runner)
        return {"node": self.node, "derived_from": (), "_last_job": None, "_computed_by": None}

    def __repr__(self) -> str:
        return f"<Dataset {self.node.label()} partitions={self.num_partitions}>"

    @property
    def num_partitions(self) -> int:
        return self.node.num_partitions

    def _narrow(self, transform, name: str, preserves_partitioning: bool = False) -> "Dataset":
        return Dataset(NarrowNode(self.node, transform, name, preserves_partitioning), (self,))

    # -- narrow transformations -----------------------------------------
    def map(self, func: Callable[[Any], Any]) -> "Dataset":
        """Apply ``func`` to every record.

        >>> from mapfold import from_sequence
        >>> from_sequence([1, 2, 3]).map(lambda x: x * 2).collect(runner="serial")
        [2, 4, 6]
        """
        check_callable(func, "func", "map")
        return self._narrow(t.Map(func), "map")

    def flat_map(self, func: Callable[[Any], Iterable]) -> "Dataset":
        """Apply ``func`` to every record and flatten the iterables it returns.

        >>> from mapfold import from_sequence
        >>> from_sequence(["a b", "c"]).flat_map(str.split).collect(runner="serial")
        ['a', 'b', 'c']
        """
        check_callable(func, "func", "flat_map")
        # flat_map(str.split) *is* a text source's words: the planner reads them where it can
        reads_as = WORDS if func is str.split else None
        return Dataset(NarrowNode(self.node, t.FlatMap(func), "flat_map", reads_as=reads_as), (self,))

    def filter(self, predicate: Callable[[Any], bool]) -> "Dataset":
        """Keep the records for which ``predicate`` is true.

        >>> from mapfold import from_sequence
        >>> from_sequence(range(6)).filter(lambda x: x % 2).collect(runner="serial")
        [1, 3, 5]
        """
        check_callable(predicate, "predicate", "filter")
        return self._narrow(t.Filter(predicate), "filter", preserves_partitioning=True)

    def map_values(self, func: Callable[[Any], Any]) -> "Dataset":
        """Apply ``func`` to the value of every ``(key, value)`` record.

        >>> from mapfold import from_sequence
        >>> from_sequence([("a", 1)]).map_values(str).collect(runner="serial")
        [('a', '1')]
        """
        check_callable(func, "func", "map_values")
        return self._narrow(t.MapValues(func), "map_values", preserves_partitioning=True)

    def flat_map_values(self, func: Callable[[Any], Iterable]) -> "Dataset":
        """One ``(key, item)`` per item of ``func(value)``.

        >>> from mapfold import from_sequence
        >>> from_sequence([("a", "xy")]).flat_map_values(list).collect(runner="serial")
        [('a', 'x'), ('a', 'y')]
        """
        check_callable(func, "func", "flat_map_values")
        return self._narrow(t.FlatMapValues(func), "flat_map_values", preserves_partitioning=True)

    def key_by(self, func: Callable[[Any], Any]) -> "Dataset":
        """Make ``(func(x), x)`` records.

        >>> from mapfold import from_sequence
        >>> from_sequence(["aa", "b"]).key_by(len).collect(runner="serial")
        [(2, 'aa'), (1, 'b')]
        """
        check_callable(func, "func", "key_by")
        return self._narrow(t.KeyBy(func), "key_by")

    def keys(self) -> "Dataset":
        """The keys of ``(key, value)`` records."""
        return self.map(_first)

    def values(self) -> "Dataset":
        """The values of ``(key, value)`` records."""
        return self.map(_second)

    def map_partitions(self, func: Callable[[Iterable], Iterable], preserves_partitioning: bool = False) -> "Dataset":
        """Apply ``func`` to each partition's iterator; it returns an iterable.

        ``preserves_partitioning=True`` promises that ``func`` keeps every
        record's key (as PySpark's argument of that name): the result keeps
        this Dataset's partitioner, so a later by-key operation or join
        with the same partitioning skips its shuffle.

        >>> from mapfold import from_sequence
        >>> from_sequence(range(4), partitions=2).map_partitions(lambda it: [sum(it)]).collect(runner="serial")
        [1, 5]
        """
        check_callable(func, "func", "map_partitions")
        return self._narrow(t.MapPartitions(func), "map_partitions", preserves_partitioning)

    def map_partitions_with_index(self, func: Callable[[int, Iterable], Iterable],
                                  preserves_partitioning: bool = False) -> "Dataset":
        """Like :meth:`map_partitions`, with the partition number first.

        >>> from mapfold import from_sequence
        >>> from_sequence("ab", partitions=2).map_partitions_with_index(lambda i, it: [(i, *it)]).collect(runner="serial")
        [(0, 'a'), (1, 'b')]
        """
        check_callable(func, "func", "map_partitions_with_index")
        return self._narrow(t.MapPartitionsWithIndex(func), "map_partitions_with_index", preserves_partitioning)

    def glom(self) -> "Dataset":
        """One list per partition."""
        return self.map_partitions(_as_single_list)

    def sample(self, fraction: float, seed: int = 0, with_replacement: bool = False) -> "Dataset":
        """A random sample of about ``fraction`` of the records, reproducible by ``seed``.

        >>> from mapfold import from_sequence
        >>> ds = from_sequence(range(1000))
        >>> ds.sample(0.1, seed=1).collect(runner="serial") == ds.sample(0.1, seed=1).collect(runner="serial")
        True
        """
        check_bool(with_replacement, "with_replacement", "sample")
        check_fraction(fraction, "fraction", "sample", None if with_replacement else 1,
                       hint="" if with_replacement else " (more than 1 needs with_replacement=True)")
        check_count(seed, "seed", "sample", minimum=None)
        return self._narrow(t.Sample(fraction, seed, with_replacement), "sample", preserves_partitioning=True)

    def union(self, *others: "Dataset") -> "Dataset":
        """The records of this Dataset followed by those of ``others``.

        >>> from mapfold import from_sequence
        >>> from_sequence([1]).union(from_sequence([2, 3])).collect(runner="serial")
        [1, 2, 3]
        """
        check_datasets(others, "union", "each argument")
        return Dataset(UnionNode([self.node] + [o.node for o in others]), (self, *others))

    def zip_with_index(self, runner=None) -> "Dataset":
        """``(record, index)`` pairs; counts the partitions first (one pass).

        >>> from mapfold import from_sequence
        >>> from_sequence("abc", partitions=2).zip_with_index(runner="serial").collect(runner="serial")
        [('a', 0), ('b', 1), ('c', 2)]
        """
        sizes = self._partition_values(_count_partition, "count partitions", runner=runner)
        offsets, total = [], 0
        for size in sizes:
            offsets.append(total)
            total += size
        return self._narrow(t.ZipWithIndex(offsets), "zip_with_index")

    # -- persistence --------------------------------------------------------
    def persist(self) -> "Dataset":
        """A Dataset with the same records whose partitions, once computed,
        are kept by the runner that computed them and reused by later actions
        on that runner (and by the Datasets built on it).

        Where they are kept is the runner's choice, so there is no storage
        level to pass: in memory on the serial runner, in pickle files in the
        processes runner's scratch folder, in the engine on dask, Ray and
        Spark (``MEMORY_AND_DISK``). They are released by :meth:`unpersist`,
        by closing the runner, or when this Dataset and everything built on
        it are gone.

        Unlike PySpark's ``persist``, which marks the RDD it is called on and
        returns it, this returns a *new* Dataset and leaves this one as it
        was: plan nodes are shared by every Dataset built on them
        (``a.map(f)`` made before ``a.persist()`` shares ``a``'s node), and
        marking a shared node would change those plans behind their backs.
        Keep the Dataset it returns: ``links = links.persist()``. Persisting a
        persisted Dataset returns it unchanged.

        >>> import mapfold as mf
        >>> squares = mf.from_sequence(range(4), partitions=2).map(lambda x: x * x)
        >>> kept = squares.persist()
        >>> kept is squares, kept.is_cached, squares.is_cached
        (False, True, False)
        >>> with mf.runner("serial") as r:
        ...     kept.sum(), kept.map(str).collect(), len(r.persisted)
        (14, ['0', '1', '4', '9'], 1)
        >>> kept.persist() is kept
        True
        """
        if self.node.persisted:
            return self
        return Dataset(PersistNode(self.node), (self,))

    cache = persist

    @property
    def is_cached(self) -> bool:
        """Whether this Dataset is persisted (returned by :meth:`persist`), as
        PySpark's ``RDD.is_cached``: marked, whether or not computed yet."""
        return self.node.persisted

    def unpersist(self) -> "Dataset":
        """Release the kept partitions on every runner holding them (their
        files removed, their engine objects freed), and return the Dataset
        :meth:`persist` was called on.

        This Dataset stays persisted (its plan is immutable): an action on it,
        or on a Dataset built on it, computes and keeps its partitions again.
        PySpark's ``unpersist`` instead unmarks the RDD; here, use the Dataset
        it returns to stop keeping them.

        >>> import mapfold as mf
        >>> with mf.runner("serial") as r:
        ...     kept = mf.from_sequence([1, 2, 3]).persist()
        ...     kept.count(), len(r.persisted)
        ...     plain = kept.unpersist()
        ...     len(r.persisted), plain.is_cached, plain.count()
        (3, 1)
        (0, False, 3)
        """
        if not self.node.persisted:
            return self
        for store in list(self.node.holders):
            store.release(self.node)
        # a sibling of the Dataset persist() was called on (same plan node, same origins), with runs of its own
        origins = tuple(d for source in self.derived_from for d in source.derived_from)
        return Dataset(self.node.parent, origins)


def _first(record):
    return record[0]


def _second(record):
    return record[1]


def _as_single_list(iterator):
    return [list(iterator)]


def _count_partition(partition, iterator) -> int:
    from ..plan.finishers import count

    return count(partition, iterator)
