"""Co-partitioning: Datasets know their partitioner, and by-key operations and
joins on input already partitioned their way skip the shuffle (as Spark).

Every result is compared with plain Python and the serial runner; the
skipped shuffles are counted in the last run's stages (``explain()``), and
shown not to be skipped when the partition count or the partitioner differs.
"""
from __future__ import annotations

import operator
from collections import Counter, defaultdict

import pytest

import mapfold as mf
from mapfold.shuffle import partitioner as partitioners
from mapfold.shuffle.partitioner import HashPartitioner

PAIRS = [(i % 13, i) for i in range(300)]


def map_stages(ds: mf.Dataset) -> int:
    """How many shuffle map stages the last run of ``ds`` ran."""
    text = ds.explain_string()
    run = text[text.index("last run:"):]
    return sum(1 for line in run.splitlines() if "(map side)" in line)


def sums(pairs) -> dict:
    out: dict = defaultdict(int)
    for k, v in pairs:
        out[k] += v
    return dict(out)


def groups(pairs) -> dict:
    out: dict = defaultdict(list)
    for k, v in pairs:
        out[k].append(v)
    return {k: sorted(vs) for k, vs in out.items()}


def inner_join(left, right) -> list:
    return sorted((k, (v, w)) for k, v in left for k2, w in right if k == k2)


def by_three(key) -> int:
    return key // 3


# -- which Datasets know their partitioner ------------------------------------------


def test_by_key_operations_and_key_keeping_steps_know_their_partitioner():
    pairs = mf.from_sequence(PAIRS, partitions=3)
    summed = pairs.reduce_by_key(operator.add)
    assert summed.partitioner == HashPartitioner(3)
    for kept in (summed.map_values(str), summed.flat_map_values(lambda v: [v, v]), summed.filter(bool),
                 summed.map_partitions(lambda it: it, preserves_partitioning=True), summed.sample(0.5),
                 pairs.group_by_key(5), pairs.combine_by_key(int, operator.add, operator.add, 4),
                 pairs.fold_by_key(0, operator.add), pairs.aggregate_by_key(0, operator.add, operator.add),
                 pairs.join(pairs), pairs.cogroup(pairs, pairs), pairs.partition_by(3)):
        assert isinstance(kept.partitioner, HashPartitioner), kept
    for dropped in (summed.map(lambda kv: kv), summed.flat_map(lambda kv: [kv]), summed.key_by(str),
                    summed.map_partitions(lambda it: it), summed.keys(), summed.union(summed), pairs,
                    pairs.sort_by_key(runner="serial"), pairs.repartition(3)):
        assert dropped.partitioner is None, dropped


def test_partitioners_are_equal_only_when_they_place_keys_the_same_way():
    assert HashPartitioner(4) == HashPartitioner(4) != HashPartitioner(5)
    FuncPartitioner = partitioners.FuncPartitioner
    assert FuncPartitioner(by_three, 4) == FuncPartitioner(by_three, 4)
    assert FuncPartitioner(by_three, 4) != FuncPartitioner(lambda key: key // 3, 4)  # the same object only
    assert FuncPartitioner(by_three, 4) != HashPartitioner(4)
    pairs = mf.from_sequence(PAIRS, partitions=3)
    assert pairs.partition_by(4, mf.core.hashing.stable_hash).partitioner == HashPartitioner(4)


def test_persist_keeps_the_partitioner(serial):
    links = mf.from_sequence(PAIRS, partitions=3).partition_by(3).persist()
    try:
        assert links.partitioner == HashPartitioner(3)
        links.count(runner=serial)
        assert links.partitioner == HashPartitioner(3)
        reused = links.reduce_by_key(operator.add)
        assert dict(reused.collect(runner=serial)) == sums(PAIRS)
        assert map_stages(reused) == 0  # the persisted, partitioned links: read where they lie
    finally:
        links.unpersist()


# -- results: every runner gives plain Python's answers --------------------------------


def copartitioned_cases(pairs: mf.Dataset, other: mf.Dataset) -> dict:
    summed = pairs.reduce_by_key(operator.add)  # hash-partitioned into 3
    grouped = pairs.partition_by(3)
    custom = pairs.partition_by(3, by_three)
    return {
        "reduce after reduce": summed.map_values(lambda v: v % 7).reduce_by_key(operator.add),
        "group after partition_by": grouped.group_by_key().map_values(sorted),
        "fold after filter": summed.filter(lambda kv: kv[0] % 2).fold_by_key(0, operator.add),
        "aggregate after custom partition_by": custom.aggregate_by_key(0, operator.add, operator.add),
        "join co-partitioned": grouped.join(summed),
        "join, other side shuffled": summed.join(other),
        "left outer, other side shuffled": other.left_outer_join(summed),
        "cogroup of three": summed.cogroup(grouped, other).map_values(lambda g: tuple(sorted(s) for s in g)),
        "subtract co-partitioned": grouped.subtract_by_key(summed.filter(lambda kv: kv[0] < 5)),
        "partition_by again": summed.partition_by(3),
    }


def python_cases() -> dict:
    other = [(k, -k) for k in range(0, 20, 2)]
    total = sums(PAIRS)
    return {
        "reduce after reduce": sums((k, v % 7) for k, v in total.items()),
        "group after partition_by": groups(PAIRS),
        "fold after filter": {k: v for k, v in total.items() if k % 2},
        "aggregate after custom partition_by": total,
        "join co-partitioned": inner_join(PAIRS, total.items()),
        "join, other side shuffled": inner_join(total.items(), other),
        "left outer, other side shuffled": sorted((k, (w, total.get(k))) for k, w in other),
        "cogroup of three": {k: (sorted([total[k]]) if k in total else [], groups(PAIRS).get(k, []),
                                 sorted(w for k2, w in other if k2 == k))
                             for k in set(total) | {k for k, _ in other}},
        "subtract co-partitioned": sorted((k, v) for k, v in PAIRS if k >= 5),
        "partition_by again": sorted(total.items()),
    }


def normalized(records: list):
    if records and isinstance(records[0][1], tuple) and not isinstance(records[0][1][0], list):
        return sorted(records)
    try:
        as_dict = dict(records)
    except TypeError:
        return sorted(records)
    return as_dict if len(as_dict) == len(records) else sorted(records)


@pytest.mark.parametrize("case", sorted(python_cases()))
def test_copartitioned_operations_match_python_and_serial(runner, serial, case):
    pairs = mf.from_sequence(PAIRS, partitions=3)
    other = mf.from_sequence([(k, -k) for k in range(0, 20, 2)], partitions=2)
    ds = copartitioned_cases(pairs, other)[case]
    expected = python_cases()[case]
    got = ds.collect(runner=runner)
    reference = ds.collect(runner=serial)
    shape = sorted if isinstance(expected, list) else dict
    assert shape(got) == shape(reference) == expected


# -- the shuffle is really skipped, and only when it may be ---------------------------


def test_by_key_operation_on_its_own_partitioning_runs_no_second_shuffle(serial):
    summed = mf.from_sequence(PAIRS, partitions=3).reduce_by_key(operator.add)
    again = summed.map_values(lambda v: v % 7).reduce_by_key(operator.add)
    assert dict(again.collect(runner=serial)) == sums((k, v % 7) for k, v in sums(PAIRS).items())
    assert map_stages(again) == 1
    assert "reduce_by_key [no shuffle: input already hash-partitioned into 3]" in again.explain_string()


@pytest.mark.parametrize("other_way", ["another count", "a custom partitioner", "an equal-looking function",
                                       "keys changed by map"])
def test_shuffle_is_not_skipped_when_the_partitioning_differs(serial, other_way):
    pairs = mf.from_sequence(PAIRS, partitions=3)
    first = {"another count": pairs.reduce_by_key(operator.add, 4),
             "a custom partitioner": pairs.partition_by(3, by_three),
             "an equal-looking function": pairs.partition_by(3, lambda key: key // 3),
             "keys changed by map": pairs.reduce_by_key(operator.add).map(lambda kv: (kv[0], kv[1]))}[other_way]
    if other_way == "an equal-looking function":
        # the same function object would be equal; another lambda never is
        second = first.partition_by(3, lambda key: key // 3)
    else:
        second = first.reduce_by_key(operator.add, 3)
    assert sums(second.collect(runner=serial)) == sums(PAIRS)
    assert map_stages(second) == 2
    assert "no shuffle" not in second.explain_string()


def test_co_partitioned_join_shuffles_neither_side_and_a_mixed_one_only_the_other(serial):
    pairs = mf.from_sequence(PAIRS, partitions=3)
    links = pairs.partition_by(3).persist()
    try:
        links.count(runner=serial)  # computed once: one map stage, now kept
        ranks = pairs.reduce_by_key(operator.add)
        both = links.join(ranks)
        assert sorted(both.collect(runner=serial)) == inner_join(PAIRS, sums(PAIRS).items())
        assert map_stages(both) == 1  # the ranks' own reduce_by_key; the join moved nothing
        other = mf.from_sequence([(k, -k) for k in range(20)], partitions=2)
        mixed = links.join(other)
        assert sorted(mixed.collect(runner=serial)) == inner_join(PAIRS, [(k, -k) for k in range(20)])
        assert map_stages(mixed) == 1  # only the other side
        text = mixed.explain_string()
        assert "side 0 (no shuffle, input already hash-partitioned into 3)" in text
        assert "side 1 (shuffled into the join's partitioning)" in text
        elsewhere = links.join(ranks, partitions=4)  # another count: both sides move
        assert sorted(elsewhere.collect(runner=serial)) == inner_join(PAIRS, sums(PAIRS).items())
        assert map_stages(elsewhere) == 2  # the ranks' reduce_by_key, then one shuffle of both sides
        assert "no shuffle" not in elsewhere.explain_string()
    finally:
        links.unpersist()


def test_a_runner_that_cannot_zip_partitions_shuffles_the_sides_together_once():
    """A runner whose tasks read one input each (``zips_inputs = False``;
    the spark runner zipped this way before it gathered a task's held
    partitions) gets a co-partitioned join's sides shuffled
    together, each side once, and the by-key combine still skips its own."""
    from mapfold.runners import make_runner

    pairs = mf.from_sequence(PAIRS, partitions=3)
    other = mf.from_sequence([(k, -k) for k in range(20)], partitions=2)
    with make_runner("serial") as one_input:
        one_input.zips_inputs = False
        both = pairs.reduce_by_key(operator.add).join(pairs.partition_by(3))
        assert sorted(both.collect(runner=one_input)) == inner_join(sums(PAIRS).items(), PAIRS)
        # reduce_by_key's shuffle, partition_by's, then the sides together
        assert map_stages(both) == 3
        mixed = pairs.reduce_by_key(operator.add).join(other)
        assert sorted(mixed.collect(runner=one_input)) == inner_join(sums(PAIRS).items(), [(k, -k) for k in range(20)])
        assert map_stages(mixed) == 2  # the other side is not shuffled twice


def test_skipped_shuffle_combines_within_the_memory_budget_and_spills():
    many = [(i % 5000, i) for i in range(60_000)]
    with mf.runner("serial", memory_limit="64kB") as small:
        grouped = mf.from_sequence(many, partitions=2).partition_by(2).group_by_key().map_values(len)
        assert dict(grouped.collect()) == {k: 12 for k in range(5000)}
        assert map_stages(grouped) == 1
        summed = mf.from_sequence(many, partitions=2).partition_by(2).reduce_by_key(operator.add)
        assert dict(summed.collect()) == sums(many)
        text = summed.explain_string()
        spilled = int(text.split("spilled: ")[1].split(" bytes")[0])
        assert spilled > 0, text  # the in-partition combine really spilled and merged
        assert small.memory_limit is not None


# -- property: skipping never changes a result, and skips exactly where it may --------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

COUNTS = [None, 1, 2, 3]


class Model:
    """Plain Python beside the plan: the records, and the partitioning the
    plan should know (``None``, ``("hash", n)`` or ``("func", n)``), with
    the shuffles a run must do: those whose input is not placed their way."""

    def __init__(self, records: list, partitions: int):
        self.records, self.count, self.placed, self.shuffles = records, partitions, None, 0

    def shuffle_into(self, kind: str, n: int | None) -> None:
        n = n or self.count
        if self.placed != (kind, n):
            self.shuffles += 1
        self.placed, self.count = (kind, n), n


def apply(op: str, n, ds: mf.Dataset, model: Model) -> mf.Dataset:
    records = model.records
    if op == "map_values":
        model.records = [(k, (v * 3 + 1) % 1000) for k, v in records]
        return ds.map_values(lambda v: (v * 3 + 1) % 1000)
    if op == "filter":
        model.records = [(k, v) for k, v in records if v % 3]
        return ds.filter(lambda kv: kv[1] % 3)
    if op == "rekey":
        model.records, model.placed = [(k // 2, v) for k, v in records], None
        return ds.map(lambda kv: (kv[0] // 2, kv[1]))
    if op == "reduce_by_key":
        model.records = list(sums(records).items())
        model.shuffle_into("hash", n)
        return ds.reduce_by_key(operator.add, n)
    if op == "group_sum":
        model.records = [(k, sum(vs)) for k, vs in groups(records).items()]
        model.shuffle_into("hash", n)
        return ds.group_by_key(n).map_values(sum)
    if op == "partition_by":
        model.shuffle_into("hash", n)
        return ds.partition_by(n or ds.num_partitions)
    if op == "partition_by_func":
        model.shuffle_into("func", n)
        return ds.partition_by(n or ds.num_partitions, by_three)
    if op == "join_own_sums":  # ds.join(ds.reduce_by_key(add, n)): the sides share their input
        total = sums(records)
        model.records = [(k, v - total[k]) for k, v in records]
        summed_n = n or model.count
        summed = ("hash", summed_n)
        shuffles = model.shuffles + (model.placed != summed)
        joined_n = max(model.count, summed_n)
        target = model.placed if model.placed is not None and model.count == joined_n else \
            (summed if summed_n == joined_n else ("hash", joined_n))
        moved = [placed != target for placed in (model.placed, summed)]
        model.shuffles = shuffles + (1 if all(moved) else sum(moved))
        model.placed, model.count = target, joined_n
        return ds.join(ds.reduce_by_key(operator.add, n)).map_values(lambda pair: pair[0] - pair[1])
    if op == "cogroup_count":  # with itself, negated
        model.records = [(k, 2 * len(vs)) for k, vs in groups(records).items()]
        if model.placed is None:
            model.shuffles += 1
            model.placed = ("hash", model.count)
        return ds.cogroup(ds.map_values(operator.neg)).map_values(lambda g: len(g[0]) + len(g[1]))
    raise ValueError(op)


OPS = ["map_values", "filter", "rekey", "reduce_by_key", "group_sum", "partition_by", "partition_by_func",
       "join_own_sums", "cogroup_count"]


@settings(max_examples=80, deadline=None)
@given(records=st.lists(st.tuples(st.integers(0, 20), st.integers(-50, 50)), max_size=60),
       partitions=st.integers(1, 4),
       chain=st.lists(st.tuples(st.sampled_from(OPS), st.sampled_from(COUNTS)), min_size=1, max_size=5))
def test_skipping_shuffles_never_changes_results(serial, records, partitions, chain):
    ds, model = mf.from_sequence(records, partitions=partitions), Model(list(records), partitions)
    for op, n in chain:
        ds = apply(op, n, ds, model)
    assert sorted(ds.collect(runner=serial)) == sorted(model.records)
    assert map_stages(ds) == model.shuffles, ds.explain_string()


def test_co_partitioned_cogroup_past_the_budget_spills_and_gives_the_same_groups(serial):
    """A co-partitioned cogroup puts each side's values in lists of their own
    (``shuffle/local.LocalCogroup``); past the budget it turns into the tagged
    grouping that spills, and the groups are the same."""
    left = [(i % 3000, i) for i in range(40_000)]
    right = [(i % 4000, -i) for i in range(30_000)]

    def plan():
        a = mf.from_sequence(left, partitions=2).partition_by(2)
        b = mf.from_sequence(right, partitions=3).partition_by(2)
        return a.cogroup(b).map_values(lambda sides: tuple(sorted(side) for side in sides))

    left_groups, right_groups = groups(left), groups(right)
    expected = {k: (left_groups.get(k, []), right_groups.get(k, [])) for k in range(4000)}
    assert dict(plan().collect(runner=serial)) == expected
    with mf.runner("serial", memory_limit="64kB"):
        small = plan()
        assert dict(small.collect()) == expected
        assert map_stages(small) == 2  # the two partition_by shuffles; the cogroup moved nothing
        text = small.explain_string()
        assert int(text.split("spilled: ")[1].split(" bytes")[0]) > 0, text
    joined = mf.from_sequence(left, partitions=2).partition_by(2).join(mf.from_sequence(right).partition_by(2))
    pairs = sorted((k, (v, w)) for k, (vs, ws) in expected.items() for v in vs for w in ws)
    with mf.runner("serial", memory_limit="64kB"):
        assert sorted(joined.collect()) == pairs


def test_co_partitioned_join_moves_no_side_on_any_runner(runner, serial):
    """Every runner of the registry reads co-partitioned sides where they lie
    (the spark runner gathers a task's held partitions into one Spark partition),
    persisted and shuffled sides alike, and a nested join too; coalesce
    still gives the serial runner's partitions."""
    pairs = mf.from_sequence(PAIRS, partitions=3)
    links = pairs.partition_by(3).persist()
    try:
        links.count(runner=runner)
        ranks = pairs.reduce_by_key(operator.add)
        both = links.join(ranks)
        assert sorted(both.collect(runner=runner)) == inner_join(PAIRS, sums(PAIRS).items())
        assert map_stages(both) == 1  # the ranks' own reduce_by_key; neither side moved
        again = both.map_values(lambda vw: vw[0]).reduce_by_key(operator.add).join(links.map_values(str))
        assert sorted(again.collect(runner=runner)) == sorted(again.collect(runner=serial))
        shares = links.join(links.map_values(str)).map(lambda kv: (kv[0] * 5 % 13, 1)).reduce_by_key(operator.add, 3)
        assert dict(links.join(shares).map_values(lambda vw: vw[1]).collect(runner=runner)) == \
            dict(links.join(shares).map_values(lambda vw: vw[1]).collect(runner=serial))
        assert pairs.partition_by(3).coalesce(2).glom().map(len).collect(runner=runner) == \
            pairs.partition_by(3).coalesce(2).glom().map(len).collect(runner=serial)
    finally:
        links.unpersist()


def _joined(left: list, right: list, keep_left: bool, keep_right: bool) -> list:
    """Every join's pairs by the definition (a model, not the engine)."""
    by_key = defaultdict(list)
    for k, w in right:
        by_key[k].append(w)
    out = [(k, (v, w)) for k, v in left for w in by_key.get(k, [None] if keep_left else [])]
    left_keys = {k for k, _ in left}
    if keep_right:
        out += [(k, (None, w)) for k, w in right if k not in left_keys]
    return sorted(out, key=repr)


@pytest.mark.parametrize("how", ["join", "left_outer_join", "right_outer_join", "full_outer_join"])
@pytest.mark.parametrize("memory_limit", [None, "64kB"])
def test_co_partitioned_joins_pair_streamed_left_records_with_the_right_sides_table(serial, how, memory_limit):
    """A co-partitioned join reads its sides apart (``shuffle/local.LocalJoin``):
    the right side's values in a table, the left side's records streamed past
    it, in their order; past the budget the spilling cogroup takes over. Both
    give every join's pairs, repeated keys on either side included."""
    left = [(i % 700, i) for i in range(0, 9000, 3)] + [(-1 - i, i) for i in range(50)]
    right = [(i % 900, -i) for i in range(6000)] + [(-1000 - i, i) for i in range(40)]
    keep = {"join": (False, False), "left_outer_join": (True, False),
            "right_outer_join": (False, True), "full_outer_join": (True, True)}[how]
    with mf.runner("serial", memory_limit=memory_limit):
        a = mf.from_sequence(left, partitions=2).partition_by(2)
        b = mf.from_sequence(right, partitions=3).partition_by(2)
        joined = getattr(a, how)(b)
        got = joined.collect()
        assert map_stages(joined) == 2, joined.explain_string()  # the two partition_by shuffles, no third
        spilled = int(joined.explain_string().split("spilled: ")[1].split(" bytes")[0])
    assert sorted(got, key=repr) == _joined(left, right, *keep)
    assert (spilled > 0) == (memory_limit is not None)
    if memory_limit is None:  # streamed: each partition's left records in their order, then the right-only keys
        firsts = [kv[1][0] for kv in got if kv[1][0] is not None]
        times = Counter(k for k, _ in right)
        parts = a.glom().collect(runner=serial)
        assert firsts == [v for part in parts for k, v in part for _ in range(times[k] or keep[0])]

@pytest.mark.parametrize("side", [0, 1])
def test_a_record_that_is_no_pair_fails_a_co_partitioned_join_naming_its_side(serial, side):
    good = mf.from_sequence([(1, "a"), (2, "b")], partitions=2).partition_by(2)
    bad = mf.from_sequence([(1, "x"), (2, "y"), (3, "z")], partitions=2).partition_by(2).map_values(str) \
        .map_partitions(lambda records: [*records, "oops"], preserves_partitioning=True)
    a, b = (bad, good) if side == 0 else (good, bad)
    where = "on the Dataset it is called on" if side == 0 else "on the other Dataset"
    with pytest.raises(mf.MapfoldError, match=f"join needs \\(key, value\\) records \\(2-tuples\\) {where}"):
        a.join(b).collect(runner=serial)
