"""Narrow operations on every runner, against plain Python."""
from __future__ import annotations

import itertools

import pytest

import mapfold as mf

DATA = list(range(-7, 50))


def square(x):
    return x * x


class Scaler:
    def __init__(self, factor):
        self.factor = factor

    def scale(self, x):
        return x * self.factor


@pytest.mark.parametrize("partitions", [1, 3, 8])
def test_map_keeps_order(runner, partitions):
    ds = mf.from_sequence(DATA, partitions=partitions)
    assert ds.map(square).collect(runner=runner) == [x * x for x in DATA]


def test_lambda_closure_and_method(runner):
    offset = 5
    scaler = Scaler(3)
    ds = mf.from_sequence(DATA, partitions=4)
    assert ds.map(lambda x: x + offset).collect(runner=runner) == [x + offset for x in DATA]
    assert ds.map(scaler.scale).collect(runner=runner) == [x * 3 for x in DATA]

    def local(x):
        return -x

    assert ds.filter(lambda x: x % 3 == 0).map(local).collect(runner=runner) == [-x for x in DATA if x % 3 == 0]


def test_flat_map_filter_chain(runner):
    lines = ["a b c", "", "d e", "f"] * 5
    ds = mf.from_sequence(lines, partitions=3)
    got = ds.flat_map(str.split).filter(lambda w: w != "e").map(str.upper).collect(runner=runner)
    assert got == [w.upper() for line in lines for w in line.split() if w != "e"]


def test_key_value_operations(runner):
    pairs = [(i % 4, i) for i in range(20)]
    ds = mf.from_sequence(pairs, partitions=3)
    assert ds.map_values(str).collect(runner=runner) == [(k, str(v)) for k, v in pairs]
    assert ds.flat_map_values(lambda v: range(v % 3)).collect(runner=runner) == [
        (k, x) for k, v in pairs for x in range(v % 3)
    ]
    assert ds.keys().collect(runner=runner) == [k for k, _ in pairs]
    assert ds.values().collect(runner=runner) == [v for _, v in pairs]
    assert mf.from_sequence(["aa", "b"]).key_by(len).collect(runner=runner) == [(2, "aa"), (1, "b")]


def test_map_partitions_and_index(runner):
    ds = mf.from_sequence(range(10), partitions=3)
    assert ds.map_partitions(lambda it: [sum(it)]).collect(runner=runner) == [6, 15, 24]
    got = ds.map_partitions_with_index(lambda i, it: [(i, len(list(it)))]).collect(runner=runner)
    assert got == [(0, 4), (1, 3), (2, 3)]
    assert ds.glom().collect(runner=runner) == [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]


def test_zip_with_index_and_union(runner):
    a = mf.from_sequence("abc", partitions=2)
    b = mf.from_sequence("de", partitions=2)
    both = a.union(b)
    assert both.collect(runner=runner) == list("abcde")
    assert both.num_partitions == 4
    assert both.zip_with_index(runner=runner).collect(runner=runner) == [(c, i) for i, c in enumerate("abcde")]


def test_sample_is_seeded_and_runner_independent(runner, serial):
    ds = mf.from_sequence(range(2000), partitions=4)
    got = ds.sample(0.1, seed=7).collect(runner=runner)
    assert got == ds.sample(0.1, seed=7).collect(runner=serial)
    assert 100 < len(got) < 300
    assert got != ds.sample(0.1, seed=8).collect(runner=runner)
    with_replacement = ds.sample(1.5, seed=3, with_replacement=True).collect(runner=runner)
    assert with_replacement == ds.sample(1.5, seed=3, with_replacement=True).collect(runner=serial)
    assert 2500 < len(with_replacement) < 3500


def test_iteration_streams_in_partition_order(runner):
    ds = mf.from_sequence(range(100), partitions=7).map(square)
    assert list(ds.iterate(runner=runner)) == [x * x for x in range(100)]


def test_empty_dataset(runner):
    ds = mf.from_sequence([], partitions=2)
    assert ds.collect(runner=runner) == []
    assert ds.count(runner=runner) == 0
    assert ds.take(3, runner=runner) == []


def test_default_iteration_uses_selected_runner():
    ds = mf.from_sequence(range(5)).map(square)
    with mf.runner("serial") as chosen:
        assert list(ds) == [x * x for x in range(5)]
        assert ds._last_job.runner is chosen


def test_fusion_reads_input_once(tmp_path, runner):
    # a fused pipeline is one pass: map and filter see each record once
    marker = tmp_path / "calls"
    marker.mkdir()

    def note(x):
        (marker / f"{x}").touch()
        return x

    ds = mf.from_sequence(range(12), partitions=3).map(note).filter(lambda x: x % 2).map(square)
    assert ds.collect(runner=runner) == [x * x for x in range(12) if x % 2]
    assert sorted(int(p.name) for p in marker.iterdir()) == list(range(12))


def test_chained_narrow_ops_are_one_stage(runner):
    ds = mf.from_sequence(range(10), partitions=2).map(square).filter(bool).flat_map(lambda x: [x, x])
    ds.count(runner=runner)
    assert [name for _, name, _ in ds._last_job.stats["stages"]] == ["count"]
    assert list(itertools.islice(ds.iterate(runner=runner), 3)) == [1, 1, 4]
