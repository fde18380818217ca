"""mf.Pool: map, imap_unordered, starmap, fold, with lambdas, closures, methods."""
from __future__ import annotations

import itertools
import operator
import threading

import pytest

import mapfold as mf


class Accumulator:
    def __init__(self, bonus):
        self.bonus = bonus

    def add(self, acc, x):
        return acc + x + self.bonus

    def double(self, x):
        return 2 * x + self.bonus


@pytest.fixture(scope="module")
def pool():
    with mf.Pool(workers=2) as p:
        yield p


def test_map_lambda_closure_method(pool):
    base = 10
    items = list(range(500))
    assert list(pool.map(lambda x: x + 1, items)) == [x + 1 for x in items]
    assert list(pool.map(lambda x: x + base, items)) == [x + base for x in items]
    assert list(pool.map(Accumulator(1).double, items)) == [2 * x + 1 for x in items]


def test_map_fixed_chunksize_and_errors(pool):
    assert list(pool.map(str, range(10), chunksize=3)) == [str(x) for x in range(10)]
    with pytest.raises(ValueError, match="chunksize"):
        list(pool.map(str, range(3), chunksize=0))


def test_imap_streams_an_endless_iterable(pool):
    got = list(itertools.islice(pool.imap(lambda x: x * x, itertools.count()), 5))
    assert got == [0, 1, 4, 9, 16]


def test_imap_unordered_and_starmap(pool):
    assert sorted(pool.imap_unordered(lambda x: -x, range(300))) == sorted(-x for x in range(300))
    pairs = [(x, 2) for x in range(50)]
    assert list(pool.starmap(pow, pairs)) == [x**2 for x in range(50)]
    assert list(pool.starmap(lambda a, b: a - b, pairs)) == [x - 2 for x in range(50)]


def test_fold_lambda_closure_method(pool):
    items = list(range(1, 1001))
    assert pool.fold(lambda acc, x: acc + x, items, 0) == sum(items)
    target = 7
    assert pool.fold(lambda acc, x: acc + (x % target == 0), items, 0, combine=operator.add) == sum(1 for x in items if x % 7 == 0)
    # a method with a bonus: every chunk's fold adds it once per item
    assert pool.fold(Accumulator(1).add, items, 0, combine=operator.add) == sum(items) + len(items)


def test_fold_combiner_and_fresh_initial(pool):
    got = pool.fold(lambda acc, w: acc | {w}, list("abracadabra") * 50, frozenset(), combine=frozenset.union)
    assert got == frozenset("abrcd")
    # each chunk starts from a copy: a mutable initial is never shared
    got = pool.fold(lambda acc, x: acc.append(x) or acc, range(100), [], combine=operator.add, chunksize=7)
    assert got == list(range(100))
    assert pool.fold(operator.add, [], 5) == 5


def test_user_error_keeps_type_and_remote_traceback(pool):
    def explode(x):
        if x == 42:
            raise KeyError("bad item 42")
        return x

    with pytest.raises(KeyError, match="bad item 42") as info:
        list(pool.map(explode, range(100)))
    assert "explode" in str(info.value.__cause__)


def test_unpicklable_function_names_the_culprit(pool):
    lock = threading.Lock()
    with pytest.raises(mf.SerializationError, match="lock"):
        list(pool.map(lambda x: (lock, x), range(3)))
