"""Sums in columns (read_key_value -> reduce_by_key(add)): same answers as records.

Every case is compared with plain Python over the same file, on every
runner, including the ones that must leave the Arrow path: sums that could
pass 64 bits, blocks Arrow does not read, and a budget too small for the
partial sums.
"""
from __future__ import annotations

import operator
import random
from collections import defaultdict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mapfold as mf
from mapfold.runners import make_runner
from mapfold.shuffle import columnar
from mapfold.shuffle.writer import ShuffleWriter, bucket_columns
from mapfold.shuffle.partitioner import HashPartitioner


def write_pairs(path, pairs) -> str:
    path.write_text("".join(f"{k}\t{v}\n" for k, v in pairs))
    return str(path)


def reference_sums(pairs) -> dict:
    sums: dict = defaultdict(int)
    for key, value in pairs:
        sums[key] += value
    return dict(sums)


def random_pairs(n: int, keys: int, seed: int = 7, skewed: bool = True) -> list:
    rng = random.Random(seed)
    key = (lambda: int(rng.paretovariate(1.2)) % keys) if skewed else (lambda: rng.randrange(keys))
    return [(f"k{key()}", rng.randint(0, 1000)) for _ in range(n)]


def test_sums_match_plain_python_on_every_runner(tmp_path, runner):
    pairs = random_pairs(30_000, 3_000)
    path = write_pairs(tmp_path / "data.tsv", pairs)
    got = mf.read_key_value(path, value=int, min_partitions=3).reduce_by_key(operator.add, partitions=4)
    assert dict(got.collect(runner=runner)) == reference_sums(pairs)


def test_the_columns_path_is_taken_and_gives_the_record_path_answer(tmp_path, monkeypatch):
    pairs = random_pairs(20_000, 500)
    path = write_pairs(tmp_path / "data.tsv", pairs)
    calls = []
    real = ShuffleWriter.consume_columns
    monkeypatch.setattr(ShuffleWriter, "consume_columns", lambda self, *a: calls.append(1) or real(self, *a))
    ds = mf.read_key_value(path, value=int, min_partitions=2)
    fast = dict(ds.reduce_by_key(operator.add).collect(runner="serial"))
    assert calls  # the columnar path ran
    calls.clear()
    slow = dict(ds.map(tuple).reduce_by_key(operator.add).collect(runner="serial"))  # a narrow step: records
    assert not calls
    assert fast == slow == reference_sums(pairs)


def test_sums_that_could_pass_64_bits_stay_exact(tmp_path):
    big = (1 << 62) + 12345
    pairs = [("a", big), ("a", big), ("b", -big), ("a", big), ("b", -big), ("c", 1)] * 50
    path = write_pairs(tmp_path / "data.tsv", pairs)
    got = dict(mf.read_key_value(path, value=int).reduce_by_key(operator.add).collect(runner="serial"))
    assert got == reference_sums(pairs)
    assert got["a"] > 1 << 63  # past int64: Python ints, not wrapped int64


def test_a_budget_too_small_for_the_partial_sums_spills_and_agrees(tmp_path):
    pairs = random_pairs(200_000, 100_000, seed=3, skewed=False)
    path = write_pairs(tmp_path / "data.tsv", pairs)
    with make_runner("processes", workers=2, memory_limit="1MB") as small:
        ds = mf.read_key_value(path, value=int, min_partitions=2).reduce_by_key(operator.add)
        got = dict(ds.collect(runner=small))
        assert ds._last_job.stats["spilled_bytes"] > 0
    assert got == reference_sums(pairs)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(blocks=st.lists(st.lists(st.tuples(st.sampled_from("abcdefgh"), st.integers(-(1 << 63), (1 << 63) - 1)),
                                max_size=30), max_size=6))
def test_column_sum_is_exact_or_refuses(blocks):
    pa = pytest.importorskip("pyarrow")
    total = columnar.ColumnSum(compact_bytes=64)  # compacts often
    fed = []
    for block in blocks:
        keys, values = pa.array([k for k, _ in block], pa.string()), pa.array([v for _, v in block], pa.int64())
        if total.add(keys, values):
            fed.extend(block)
    assert total.to_dict() == reference_sums(fed)


@settings(max_examples=100, deadline=None)
@given(keys=st.lists(st.one_of(st.text(max_size=8), st.integers(), st.tuples(st.text(max_size=3), st.integers())),
                     unique=True, max_size=40),
       buckets=st.integers(min_value=1, max_value=7))
def test_bucket_columns_puts_keys_where_the_partitioner_does(keys, buckets):
    partitioner = HashPartitioner(buckets)
    parts = bucket_columns(list(keys), list(range(len(keys))), buckets, partitioner)
    for bucket, (part_keys, part_values) in enumerate(parts):
        for key, value in zip(part_keys, part_values):
            assert partitioner(key) == bucket
            assert keys[value] == key  # values travel with their keys
    assert sum(len(ks) for ks, _ in parts) == len(keys)
