"""Any number of maps on one pool, nested or interleaved, give every result
exactly once, as the builtins do (issue 17: nested lazy maps lost results)."""
from __future__ import annotations

import itertools
import operator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mapfold as mf

METHODS = ["map", "imap", "imap_unordered", "starmap"]
chunk_sizes = st.one_of(st.none(), st.integers(1, 40))
settings_ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def step(k: int):
    return lambda x: x * 3 + k


def apply_pool(pool, method: str, k: int, items, chunksize):
    fn = step(k)
    if method == "starmap":
        return pool.starmap(lambda x, j: fn(x) + j, ((x, k) for x in items), chunksize=chunksize)
    return getattr(pool, method)(fn, items, chunksize=chunksize)


def apply_builtin(method: str, k: int, items):
    fn = step(k)
    if method == "starmap":
        return [fn(x) + k for x in items]
    return [fn(x) for x in items]


@pytest.fixture(scope="module")
def pool():
    with mf.Pool(2) as p:
        yield p


def test_the_reported_nesting(pool):
    inc = lambda x: x + 1  # noqa: E731
    assert pool.map(inc, pool.map(inc, range(1000))) == list(range(2, 1002))
    assert list(pool.imap(inc, pool.imap(inc, range(1000)))) == list(range(2, 1002))
    assert sorted(pool.imap_unordered(inc, pool.imap(inc, range(1000)))) == list(range(2, 1002))


@settings_
@given(data=st.lists(st.integers(-1000, 1000), max_size=300),
       chain=st.lists(st.tuples(st.sampled_from(METHODS), chunk_sizes), min_size=1, max_size=4))
def test_nested_calls_equal_the_builtins(pool, data, chain):
    got, want = iter(data), data
    unordered = False
    for k, (method, chunksize) in enumerate(chain):
        got = apply_pool(pool, method, k, got, chunksize)
        want = apply_builtin(method, k, want)
        unordered |= method == "imap_unordered"
    got = list(got)
    if unordered:
        got, want = sorted(got), sorted(want)
    assert got == want


@settings_
@given(data=st.lists(st.lists(st.integers(0, 100), max_size=120), min_size=2, max_size=4),
       methods=st.lists(st.sampled_from(["imap", "imap_unordered"]), min_size=4, max_size=4),
       chunks=st.lists(chunk_sizes, min_size=4, max_size=4),
       schedule=st.lists(st.integers(0, 3), max_size=200))
def test_interleaved_lazy_calls_equal_the_builtins(pool, data, methods, chunks, schedule):
    iterators = [apply_pool(pool, methods[i], i, items, chunks[i]) for i, items in enumerate(data)]
    got = [[] for _ in data]
    for i in schedule:
        if i < len(iterators):
            got[i].extend(itertools.islice(iterators[i], 3))
        if i == 0 and len(got[0]) % 2:  # a blocking call in the middle of the lazy ones
            assert pool.fold(operator.add, data[-1], 0) == sum(data[-1])
    for i, iterator in enumerate(iterators):
        got[i].extend(iterator)
        want = apply_builtin(methods[i], i, data[i])
        assert (sorted(got[i]) if methods[i] == "imap_unordered" else got[i]) == \
            (sorted(want) if methods[i] == "imap_unordered" else want)


@settings_
@given(data=st.lists(st.integers(-50, 50), max_size=300), chunksize=chunk_sizes, inner=st.sampled_from(METHODS))
def test_fold_over_a_lazy_map(pool, data, chunksize, inner):
    items = apply_pool(pool, inner, 1, iter(data), chunksize)
    assert pool.fold(operator.add, items, 0, chunksize=chunksize) == sum(apply_builtin(inner, 1, data))


def test_maps_driven_from_threads(pool):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as threads:
        futures = [threads.submit(lambda k: pool.map(step(k), range(2000)), k) for k in range(8)]
        for k, future in enumerate(futures):
            assert future.result() == [x * 3 + k for x in range(2000)]
