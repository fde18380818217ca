"""The spill/merge path gives the answer of the in-memory path.

A 32 kB budget makes every map task spill many sorted runs and every reduce
task merge them (in several passes when the fan-in is small); the results
must equal plain Python's, and the statistics must show the spills.
"""
from __future__ import annotations

import operator
from collections import defaultdict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mapfold as mf
from mapfold.shuffle.groups import GroupStore, SpilledValues
from mapfold.shuffle.merge import combine_sorted, group_sorted, merge_runs
from mapfold.shuffle.spill import RunWriter, read_records

keys = st.one_of(st.integers(-20, 20), st.text(max_size=3), st.tuples(st.integers(0, 3), st.text(max_size=1)))
records = st.lists(st.tuples(keys, st.integers(-100, 100)), max_size=3000)
# a join's output grows with the product of its sides (keys repeat ~60 times in 3000 records):
# 1200 a side still spills many runs under the 32 kB budget, in a fifth of the time
join_sides = st.lists(st.tuples(keys, st.integers(-100, 100)), max_size=1200)
SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                           HealthCheck.too_slow])


def groups_of(pairs):
    out = defaultdict(list)
    for k, v in pairs:
        out[k].append(v)
    return out


@SETTINGS
@given(pairs=records, partitions=st.integers(1, 4), buckets=st.integers(1, 3))
def test_reduce_by_key_spilled_equals_reference(tiny_runner, pairs, partitions, buckets):
    ds = mf.from_sequence(pairs, partitions=partitions)
    got = ds.reduce_by_key(operator.add, buckets).collect(runner=tiny_runner)
    assert sorted(got, key=repr) == sorted(((k, sum(v)) for k, v in groups_of(pairs).items()), key=repr)


@SETTINGS
@given(pairs=records, partitions=st.integers(1, 4))
def test_group_by_key_spilled_equals_reference(tiny_runner, pairs, partitions):
    ds = mf.from_sequence(pairs, partitions=partitions)
    got = ds.group_by_key(2).map_values(sorted).collect(runner=tiny_runner)
    assert sorted(got, key=repr) == sorted(((k, sorted(v)) for k, v in groups_of(pairs).items()), key=repr)


@SETTINGS
@given(left=join_sides, right=join_sides)
def test_join_spilled_equals_in_memory(tiny_runner, serial, left, right):
    a, b = mf.from_sequence(left, partitions=3), mf.from_sequence(right, partitions=2)
    big = a.join(b).map_values(tuple).count(runner=serial)
    assert a.join(b).count(runner=tiny_runner) == big
    assert sorted(a.left_outer_join(b).collect(runner=tiny_runner), key=repr) == \
        sorted(a.left_outer_join(b).collect(runner=serial), key=repr)


def test_spills_are_counted_and_explained(tiny_runner):
    pairs = [(f"key-{i % 5000}", i) for i in range(40_000)]
    ds = mf.from_sequence(pairs, partitions=4).reduce_by_key(operator.add, 3)
    got = dict(ds.collect(runner=tiny_runner))
    assert got == {k: sum(v) for k, v in groups_of(pairs).items()}
    stats = ds._last_job.stats
    assert stats["spilled_records"] > 5000 and stats["spilled_bytes"] > 10_000
    assert stats["memory_limit"].source == "runner option memory_limit"
    text = ds.explain_string()
    assert f"spilled: {stats['spilled_bytes']} bytes" in text and "31.2 KiB" in text


def test_aggregate_and_distinct_and_sort_spilled(tiny_runner):
    values = [(i * 7919) % 10007 for i in range(20_000)]
    ds = mf.from_sequence(values, partitions=3)
    assert sorted(ds.distinct(2).collect(runner=tiny_runner)) == sorted(set(values))
    assert ds.sort_by(lambda x: x, partitions=3, runner=tiny_runner).collect(runner=tiny_runner) == sorted(values)
    pairs = ds.map(lambda x: (x % 97, x))
    got = dict(pairs.aggregate_by_key((0, 0), lambda a, v: (a[0] + v, a[1] + 1),
                                      lambda a, b: (a[0] + b[0], a[1] + b[1])).collect(runner=tiny_runner))
    expected = {k: (sum(v), len(v)) for k, v in groups_of((x % 97, x) for x in values).items()}
    assert got == expected
    assert sorted(ds.repartition(5).collect(runner=tiny_runner)) == sorted(values)


# -- the merge machinery itself ------------------------------------------------

def test_combine_sorted_tells_equal_hash_keys_apart():
    stream = [(5, "a", 1), (5, "b", 10), (5, "a", 2), (5, "b", 20), (5, "c", 0), (9, "a", 7)]
    assert list(combine_sorted(stream, operator.add)) == [(5, "a", 3), (5, "b", 30), (5, "c", 0), (9, "a", 7)]


def test_merge_runs_in_passes(tmp_path):
    writer = RunWriter(str(tmp_path / "runs"))
    runs = []
    for r in range(10):
        triples = sorted(((k * 37) % 101, f"k{(k * 37) % 101}", 1) for k in range(r, 100, 3))
        runs.append(writer.write(triples, 4, sorted=True))
    writer.flush()
    passes = []
    merged = list(merge_runs(runs, writer, 8, operator.add, fanin=3, on_pass=passes.append))
    assert len(passes) >= 4  # 10 runs, 3 at a time
    hashes = [h for h, _, _ in merged]
    assert hashes == sorted(hashes)
    totals = defaultdict(int)
    for _, k, v in merged:
        totals[k] += v
    expected = defaultdict(int)
    for r in range(10):
        for k in range(r, 100, 3):
            expected[f"k{(k * 37) % 101}"] += 1
    assert totals == expected
    with pytest.raises(ValueError):
        merge_runs(runs, writer, 8, fanin=1)


def test_group_sorted_streams_big_groups_to_disk(tmp_path):
    store = GroupStore(str(tmp_path / "groups"))
    stream = [(1, "big", list(range(i, i + 10))) for i in range(0, 1000, 10)] + [(2, "small", [1, 2])]
    out = dict(group_sorted(stream, store, max_values=50))
    big = out["big"]
    assert isinstance(big, SpilledValues) and len(big) == 1000
    assert list(big) == list(range(1000)) and list(big) == list(range(1000))  # re-iterable
    assert out["small"] == [1, 2]
    import pickle

    assert pickle.loads(pickle.dumps(big)) == list(range(1000))  # pickles as a list
    store.close()
    (tmp_path / "groups").unlink()
    with pytest.raises(mf.MapfoldError, match="consume them inside the job"):
        list(big)


def test_run_writer_round_trip(tmp_path):
    writer = RunWriter(str(tmp_path / "r"))
    first = writer.write(iter([("a", 1)] * 10), 3)
    second = writer.write([("b", 2)] * 5, 2, sorted=True)
    writer.close()
    assert list(read_records(first)) == [("a", 1)] * 10 and first.records == 10
    assert list(read_records(second)) == [("b", 2)] * 5 and second.sorted
