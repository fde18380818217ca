"""Actions on every runner, compared with plain Python and the serial runner."""
from __future__ import annotations

import operator

import pytest

import mapfold as mf


@pytest.fixture(scope="module")
def numbers():
    return mf.from_sequence([5, 3, 8, 1, 9, 2, 7, 4, 6, 0], partitions=3)


def test_count_sum_min_max(runner, numbers):
    assert numbers.count(runner=runner) == 10
    assert numbers.sum(runner=runner) == 45
    assert numbers.min(runner=runner) == 0
    assert numbers.max(runner=runner) == 9


def test_take_first_top(runner, numbers):
    assert numbers.take(4, runner=runner) == [5, 3, 8, 1]
    assert numbers.first(runner=runner) == 5
    assert numbers.top(3, runner=runner) == [9, 8, 7]
    assert numbers.take_ordered(3, runner=runner) == [0, 1, 2]
    assert numbers.take(100, runner=runner) == numbers.collect(runner="serial")


def test_reduce_fold_aggregate(runner, numbers):
    assert numbers.reduce(operator.add, runner=runner) == 45
    assert numbers.fold(0, operator.add, runner=runner) == 45
    seq = lambda acc, x: (acc[0] + x, acc[1] + 1)  # noqa: E731
    comb = lambda a, b: (a[0] + b[0], a[1] + b[1])  # noqa: E731
    assert numbers.aggregate((0, 0), seq, comb, runner=runner) == (45, 10)


def test_count_by_value_and_iterate(runner, serial):
    words = mf.from_sequence("the cat and the hat and the bat".split(), partitions=3)
    assert words.count_by_value(runner=runner) == words.count_by_value(runner=serial)
    assert list(words.iterate(runner=runner)) == words.collect(runner=serial)


def test_empty_dataset(runner):
    empty = mf.from_sequence([], partitions=2)
    assert empty.count(runner=runner) == 0
    assert empty.collect(runner=runner) == []
    with pytest.raises(ValueError):
        empty.reduce(operator.add, runner=runner)




def test_persist_is_reused(runner, serial):
    calls = mf.from_sequence(range(30), partitions=3).map(lambda x: x * x).persist()
    try:
        assert calls.sum(runner=runner) == sum(x * x for x in range(30))
        assert calls.filter(lambda x: x % 2).collect(runner=runner) == [x * x for x in range(30) if x % 2]
        assert calls.count(runner=runner) == 30
    finally:
        calls.unpersist()
