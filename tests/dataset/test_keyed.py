"""The by-key (wide) operations on every runner, against plain Python."""
from __future__ import annotations

import operator
import random
from collections import Counter, defaultdict

import pytest

import mapfold as mf

rng = random.Random(42)
WORDS = ["apple", "pear", "fig", "kiwi", "plum", "lime", "date", "é", "", "ü" * 3]
PAIRS = [(rng.choice(WORDS), rng.randrange(-50, 50)) for _ in range(600)]
MIXED_KEYS = [1, 1.0, 2.5, "a", b"a", None, True, (1, "a"), frozenset({1, 2}), ("x", (None, 2.0))]
MIXED = [(rng.choice(MIXED_KEYS), i) for i in range(300)]


def reference_groups(pairs):
    groups = defaultdict(list)
    for k, v in pairs:
        groups[k].append(v)
    return groups


def as_sorted_groups(records):
    return sorted((repr(k), sorted(v)) for k, v in records)


@pytest.mark.parametrize("partitions", [None, 1, 5])
def test_reduce_by_key(runner, partitions):
    ds = mf.from_sequence(PAIRS, partitions=4)
    got = dict(ds.reduce_by_key(operator.add, partitions).collect(runner=runner))
    expected = {k: sum(v) for k, v in reference_groups(PAIRS).items()}
    assert got == expected


def test_reduce_by_key_generic_function_and_mixed_keys(runner):
    got = mf.from_sequence(MIXED, partitions=3).reduce_by_key(max).collect(runner=runner)
    expected = {k: max(v) for k, v in reference_groups(MIXED).items()}
    assert dict(got) == expected
    assert len(got) == len(expected)  # 1, 1.0 and True are one key, as in a dict


def test_fold_and_aggregate_by_key(runner):
    ds = mf.from_sequence(PAIRS, partitions=4)
    folded = dict(ds.fold_by_key(0, operator.add).collect(runner=runner))
    assert folded == {k: sum(v) for k, v in reference_groups(PAIRS).items()}
    stats = dict(ds.aggregate_by_key((0, 0), lambda a, v: (a[0] + v, a[1] + 1),
                                     lambda a, b: (a[0] + b[0], a[1] + b[1])).collect(runner=runner))
    assert stats == {k: (sum(v), len(v)) for k, v in reference_groups(PAIRS).items()}


def test_aggregate_by_key_mutable_zero_is_copied(runner):
    ds = mf.from_sequence(PAIRS, partitions=4)
    got = dict(ds.aggregate_by_key(set(), lambda s, v: s | {v}, operator.or_).collect(runner=runner))
    assert got == {k: set(v) for k, v in reference_groups(PAIRS).items()}


def test_combine_by_key(runner):
    ds = mf.from_sequence(PAIRS, partitions=3)
    got = ds.combine_by_key(lambda v: [v], lambda c, v: c + [v], lambda c, d: c + d).collect(runner=runner)
    assert as_sorted_groups(got) == as_sorted_groups(reference_groups(PAIRS).items())


def test_group_by_key_and_group_by(runner):
    ds = mf.from_sequence(PAIRS, partitions=4)
    assert as_sorted_groups(ds.group_by_key(3).collect(runner=runner)) == \
        as_sorted_groups(reference_groups(PAIRS).items())
    words = [w for w, _ in PAIRS]
    got = mf.from_sequence(words, partitions=3).group_by(len).collect(runner=runner)
    assert as_sorted_groups(got) == as_sorted_groups(reference_groups((len(w), w) for w in words).items())


def test_count_by_key_and_distinct(runner):
    ds = mf.from_sequence(MIXED, partitions=4)
    assert ds.count_by_key(runner=runner) == dict(Counter(k for k, _ in MIXED))
    keys = ds.keys().distinct(3).collect(runner=runner)
    assert sorted(map(repr, keys)) == sorted(map(repr, set(k for k, _ in MIXED)))
    assert sorted(mf.from_sequence([3, 1, 3, 2, 1]).distinct().collect(runner=runner)) == [1, 2, 3]


def test_empty_dataset(runner):
    empty = mf.from_sequence([], partitions=2)
    assert empty.reduce_by_key(operator.add).collect(runner=runner) == []
    assert empty.group_by_key().collect(runner=runner) == []
    assert empty.join(mf.from_sequence([("a", 1)])).collect(runner=runner) == []
    assert empty.sort_by_key().collect(runner=runner) == []
    assert empty.count_by_key(runner=runner) == {}


def test_subtract_by_key_and_cogroup(runner):
    left = mf.from_sequence([("a", 1), ("b", 2), ("a", 3), ("c", 4)], partitions=2)
    right = mf.from_sequence([("a", 9), ("d", 0)], partitions=3)
    assert sorted(left.subtract_by_key(right).collect(runner=runner)) == [("b", 2), ("c", 4)]
    got = {k: tuple(sorted(side) for side in sides) for k, sides in left.cogroup(right).collect(runner=runner)}
    assert got == {"a": ([1, 3], [9]), "b": ([2], []), "c": ([4], []), "d": ([], [0])}
    third = mf.from_sequence([("d", "x")])
    three = dict(left.cogroup(right, third, partitions=2).collect(runner=runner))
    assert three["d"] == ([], [0], ["x"])


@pytest.mark.parametrize("ascending", [True, False])
def test_sort_by_is_global(runner, ascending):
    values = [rng.randrange(10_000) for _ in range(2000)]
    ds = mf.from_sequence(values, partitions=5).sort_by(lambda x: -x if False else x, ascending=ascending,
                                                        partitions=4, runner=runner)
    parts = ds.glom().collect(runner=runner)
    flat = [x for part in parts for x in part]
    assert flat == sorted(values, reverse=not ascending)
    assert sum(1 for p in parts if p) > 1  # range partitioned, not all in one partition


def test_sort_by_key(runner):
    ds = mf.from_sequence([(w, i) for i, w in enumerate(WORDS * 3)], partitions=3)
    got = ds.sort_by_key(runner=runner).collect(runner=runner)
    assert [k for k, _ in got] == sorted(WORDS * 3)
    got = ds.sort_by_key(ascending=False, runner=runner).keys().collect(runner=runner)
    assert got == sorted(WORDS * 3, reverse=True)


def test_repartition_and_partition_by(runner):
    ds = mf.from_sequence(range(100), partitions=1)
    parts = ds.repartition(4).glom().collect(runner=runner)
    assert len(parts) == 4 and sorted(x for p in parts for x in p) == list(range(100))
    assert max(map(len, parts)) - min(map(len, parts)) <= 1
    keyed = mf.from_sequence([(i, str(i)) for i in range(40)], partitions=3)
    parts = keyed.partition_by(4, lambda k: k // 10).glom().collect(runner=runner)
    assert [sorted(k for k, _ in p) for p in parts] == [list(range(i * 10, i * 10 + 10)) for i in range(4)]
    hashed = keyed.partition_by(3).glom().collect(runner=runner)
    assert sorted(r for p in hashed for r in p) == sorted(keyed.collect(runner=runner))


def test_count_approx_distinct(runner):
    ds = mf.from_sequence([i % 3000 for i in range(9000)], partitions=4)
    estimate = ds.count_approx_distinct(0.02, runner=runner)
    assert abs(estimate - 3000) < 3000 * 0.08
    with pytest.raises(ValueError):
        ds.count_approx_distinct(0)


def test_bad_partitions_argument():
    with pytest.raises(ValueError, match="positive int"):
        mf.from_sequence([("a", 1)]).reduce_by_key(operator.add, partitions=0)


def test_explain_shows_spill_statistics(serial):
    ds = mf.from_sequence(PAIRS, partitions=2).reduce_by_key(operator.add)
    ds.collect(runner=serial)
    text = ds.explain_string()
    assert "reduce_by_key shuffle" in text
    assert "shuffle memory limit" in text and "spilled: 0 bytes" in text


@pytest.mark.parametrize("records, found, fix", [
    ([1, 2], "found an int: 1", ".key_by(func)"),
    ([([1], 2)], "found a list key in ([1], 2)", "tuple(key)"),
    ([(1, 2, 3)], "found a tuple of 3: (1, 2, 3)", ".map(lambda r: (r[0], r[1:]))"),
    # a dict of two fields used to unpack silently, as its two field names
    ([{"city": "Oslo", "n": 1}], "found a dict: {'city': 'Oslo', 'n': 1}", ".key_by(lambda r: r['city'])"),
])
def test_bad_records_say_what_is_wanted_found_and_the_fix(runner, records, found, fix):
    with pytest.raises(mf.RecordShapeError) as info:
        mf.from_sequence(records).reduce_by_key(operator.add).collect(runner=runner)
    message = str(info.value)
    assert message.startswith("reduce_by_key needs") and found in message and fix in message
    assert isinstance(info.value, TypeError)
    assert any("stage" in note and "partition 0" in note for note in info.value.__notes__)


@pytest.mark.parametrize("name", ["serial", "processes"])  # the engines' PackingWriter is tested below
def test_a_later_bad_record_gets_the_pairs_note(request, name):
    runner = request.getfixturevalue(name)
    with pytest.raises(TypeError, match="cannot unpack") as info:
        mf.from_sequence([("a", 1), 7], partitions=1).reduce_by_key(operator.add).collect(runner=runner)
    assert any("needs (key, value) records" in note and ".key_by(func)" in note for note in info.value.__notes__)


def test_engine_packing_writer_checks_pairs_too():
    from mapfold.shuffle.packed import PackingWriter
    from mapfold.shuffle.partitioner import HashPartitioner

    class Shuffle:
        num_partitions, partitioner, aggregator, name = 2, HashPartitioner(2), None, "partition_by"

    with pytest.raises(mf.RecordShapeError, match="partition_by needs .* found a str: 'word'"):
        PackingWriter(Shuffle())(0, iter(["word"]))
    with pytest.raises(TypeError) as info:
        PackingWriter(Shuffle())(0, iter([("a", 1), 5]))
    assert any("needs (key, value) records" in note for note in info.value.__notes__)


def test_user_errors_get_no_pairs_hint(runner):
    with pytest.raises(ValueError, match="invalid literal") as info:
        mf.from_sequence(["a"]).map(int).map(lambda x: (x, x)).reduce_by_key(max).collect(runner=runner)
    assert not any("needs (key, value)" in note for note in getattr(info.value, "__notes__", []))


@pytest.mark.parametrize("name", ["serial", "processes"])
@pytest.mark.parametrize("method", ["map_values", "flat_map_values"])
def test_values_of_dict_records_fail_with_the_fix(request, name, method):
    # a dict of two fields used to unpack silently, as its two field names
    runner = request.getfixturevalue(name)
    ds = getattr(mf.from_sequence([{"city": "Oslo", "n": 1}]), method)(lambda v: [v])
    with pytest.raises(mf.RecordShapeError, match=rf"{method} needs \(key, value\) records .* found a dict"):
        ds.collect(runner=runner)
