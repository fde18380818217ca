"""Narrow transformations on every runner, compared with the serial runner."""
from __future__ import annotations

import pytest

import mapfold as mf


def _both(ds, runner, serial):
    got, want = ds.collect(runner=runner), ds.collect(runner=serial)
    assert got == want
    return got


def test_map_flat_map_filter_keep_order(runner, serial):
    ds = mf.from_sequence(range(50), partitions=4)
    out = _both(ds.map(lambda x: x * 3).filter(lambda x: x % 2 == 0).flat_map(lambda x: [x, -x]), runner, serial)
    assert out[:4] == [0, 0, 6, -6]


def test_closures_and_bound_methods_ship(runner, serial):
    offset = 17

    class Scaler:
        def __init__(self, k):
            self.k = k

        def apply(self, x):
            return x * self.k + offset

    ds = mf.from_sequence(range(20), partitions=3).map(Scaler(2).apply)
    assert _both(ds, runner, serial) == [x * 2 + 17 for x in range(20)]


def test_key_value_helpers(runner, serial):
    pairs = mf.from_sequence([("a", "xy"), ("b", "z")], partitions=2)
    assert _both(pairs.flat_map_values(list), runner, serial) == [("a", "x"), ("a", "y"), ("b", "z")]
    assert _both(pairs.map_values(len), runner, serial) == [("a", 2), ("b", 1)]
    assert _both(pairs.keys(), runner, serial) == ["a", "b"]
    assert _both(pairs.values(), runner, serial) == ["xy", "z"]
    assert _both(mf.from_sequence(["aa", "b"]).key_by(len), runner, serial) == [(2, "aa"), (1, "b")]


def test_map_partitions_with_index_and_glom(runner, serial):
    ds = mf.from_sequence(range(10), partitions=3)
    assert _both(ds.map_partitions_with_index(lambda i, it: [(i, sum(it))]), runner, serial) == [(0, 6), (1, 15), (2, 24)]
    assert _both(ds.glom(), runner, serial) == [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]


def test_sample_is_reproducible_across_runners(runner, serial):
    ds = mf.from_sequence(range(500), partitions=4).sample(0.2, seed=3)
    _both(ds, runner, serial)


def test_union_and_zip_with_index(runner, serial):
    a = mf.from_sequence("abc", partitions=2)
    b = mf.from_sequence("de", partitions=1)
    assert _both(a.union(b), runner, serial) == list("abcde")
    assert a.union(b).zip_with_index(runner=runner).collect(runner=runner) == [(c, i) for i, c in enumerate("abcde")]


def test_empty_partitions(runner, serial):
    ds = mf.from_sequence([1, 2], partitions=5).map(lambda x: x + 1)
    assert _both(ds, runner, serial) == [2, 3]


def test_user_error_keeps_type_and_says_where(runner):
    ds = mf.from_sequence(range(10), partitions=2).map(lambda x: 10 // (x - 7))
    with pytest.raises(ZeroDivisionError) as info:
        ds.collect(runner=runner)
    notes = " ".join(getattr(info.value, "__notes__", []))
    assert "partition 1" in notes and "element 7" in notes
