"""Shuffles, joins and sorts on every runner, compared with the serial runner
(shuffled output has no order: compare sorted)."""
from __future__ import annotations

import operator

import mapfold as mf


def _same(ds, runner, serial, key=repr):
    got = sorted(ds.collect(runner=runner), key=key)
    want = sorted(ds.collect(runner=serial), key=key)
    assert got == want
    return got


WORDS = ("a rose is a rose is a rose but the rose is not a tulip and a tulip is not a rose " * 3).split()


def pairs(partitions=3):
    return mf.from_sequence(WORDS, partitions=partitions).map(lambda w: (w, 1))


def test_reduce_by_key(runner, serial):
    got = _same(pairs().reduce_by_key(operator.add), runner, serial)
    assert dict(got) == {w: WORDS.count(w) for w in set(WORDS)}


def test_reduce_by_key_into_more_and_fewer_partitions(runner, serial):
    _same(pairs().reduce_by_key(operator.add, partitions=5), runner, serial)
    _same(pairs(4).reduce_by_key(operator.add, partitions=1), runner, serial)


def test_fold_aggregate_combine_by_key(runner, serial):
    _same(pairs().fold_by_key(100, operator.add), runner, serial)
    _same(pairs().aggregate_by_key((0, 0), lambda a, v: (a[0] + v, a[1] + 1),
                                   lambda a, b: (a[0] + b[0], a[1] + b[1])), runner, serial)
    _same(pairs().combine_by_key(lambda v: [v], lambda c, v: c + [v], lambda c, d: c + d).map_values(len),
          runner, serial)


def test_group_by_key_and_group_by(runner, serial):
    _same(pairs().group_by_key().map_values(sorted), runner, serial)
    _same(mf.from_sequence(WORDS, partitions=2).group_by(len).map_values(sorted), runner, serial)


def test_count_by_key_and_distinct(runner, serial):
    assert pairs().count_by_key(runner=runner) == pairs().count_by_key(runner=serial)
    assert _same(mf.from_sequence(WORDS, partitions=4).distinct(), runner, serial) == sorted(set(WORDS), key=repr)


def test_joins(runner, serial):
    left = mf.from_sequence([(1, "a"), (2, "b"), (2, "bb"), (3, "c")], partitions=2)
    right = mf.from_sequence([(2, "x"), (3, "y"), (3, "yy"), (4, "z")], partitions=3)
    assert _same(left.join(right), runner, serial) == [(2, ("b", "x")), (2, ("bb", "x")), (3, ("c", "y")), (3, ("c", "yy"))]
    _same(left.left_outer_join(right), runner, serial)
    _same(left.right_outer_join(right), runner, serial)
    _same(left.full_outer_join(right), runner, serial)
    _same(left.cogroup(right).map_values(lambda groups: tuple(sorted(g) for g in groups)), runner, serial)
    assert _same(left.subtract_by_key(right), runner, serial) == [(1, "a")]


def test_partition_by_and_repartition(runner, serial):
    keyed = mf.from_sequence(range(40), partitions=3).map(lambda x: (x % 6, x))
    spread = keyed.partition_by(3)
    assert sorted(map(sorted, spread.glom().collect(runner=runner))) == sorted(map(sorted, spread.glom().collect(runner=serial)))
    even = mf.from_sequence(range(10), partitions=1).repartition(3)
    assert sorted(even.glom().map(len).collect(runner=runner)) == [3, 3, 4]
    assert sorted(even.collect(runner=runner)) == list(range(10))


def test_sort_by_is_global(runner, serial):
    data = [(i * 7919) % 101 for i in range(101)]
    ds = mf.from_sequence(data, partitions=4)
    assert ds.sort_by(lambda x: x, runner=runner).collect(runner=runner) == sorted(data)
    assert ds.sort_by(lambda x: x, ascending=False, partitions=3, runner=runner).collect(runner=runner) == sorted(data, reverse=True)
    keyed = ds.map(lambda x: (str(x), x))
    assert keyed.sort_by_key(runner=runner).collect(runner=runner) == keyed.sort_by_key(runner=serial).collect(runner=serial)


def test_chained_shuffles_and_union_with_a_shuffle(runner, serial):
    counts = pairs().reduce_by_key(operator.add)
    by_count = counts.map(lambda kv: (kv[1], kv[0])).group_by_key().map_values(sorted)
    _same(by_count, runner, serial)
    mixed = counts.union(mf.from_sequence([("zzz", 0)]))
    _same(mixed, runner, serial)
    top = counts.sort_by(lambda kv: (-kv[1], kv[0]), runner=runner).take(3, runner=runner)
    assert top == counts.sort_by(lambda kv: (-kv[1], kv[0]), runner=serial).take(3, runner=serial)


def test_persisted_shuffle_output_is_reused(runner, serial):
    counts = pairs().reduce_by_key(operator.add).persist()
    try:
        assert sorted(counts.collect(runner=runner)) == sorted(counts.collect(runner=serial))
        assert counts.filter(lambda kv: kv[1] > 10).count(runner=runner) == counts.filter(lambda kv: kv[1] > 10).count(runner=serial)
    finally:
        counts.unpersist()
